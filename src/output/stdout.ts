import type {Writable} from 'node:stream'
import {watchPipeReaders} from './pipe-watch.js'

/** Why a read stopped when the reader of stdout went away (`evtctl tail | head`). */
export class BrokenPipe extends Error {
  constructor() {
    super('stdout was closed by its reader')
    this.name = 'BrokenPipe'
  }
}

const SLAB_BYTES = 64 * 1024

type Utf8Write = (this: Buffer, text: string, offset: number) => number
/**
 * Buffer#write(text, offset) spends most of its time sorting out its optional arguments (~0.2 s
 * per million lines); the utf8Write it calls is there on every Node since 0.x, but undocumented,
 * so fall back to write() should it ever go.
 */
const utf8Write: Utf8Write =
  (Buffer.prototype as unknown as {utf8Write?: Utf8Write}).utf8Write ??
  function (this: Buffer, text: string, offset: number) {
    return this.write(text, offset)
  }

/**
 * A writer for data on stdout.
 * - Coalesces small writes into one write per turn of the event loop (or per 64 KiB), so a fast
 *   read is not one syscall per event, and a live tail still shows each event at once. Text is
 *   encoded straight into a 64 KiB slab (one copy; joining strings first and encoding the result
 *   was two, and measurably slower at a million lines).
 * - Waits for `drain`, so a slow reader slows the broker read and memory stays flat.
 * - Turns EPIPE (the reader went away: `| head`) into an abort of the read, not a crash; with
 *   `watchFd`, also a reader that went away while nothing was written (see pipe-watch.ts).
 */
export function dataWriter(stream: Writable, controller: AbortController, opts: {watchFd?: number} = {}) {
  let broken = false
  // A quiet read (`tail | head -n 1` on a quiet topic) learns of a gone reader without a write.
  const unwatch =
    opts.watchFd === undefined
      ? () => {}
      : watchPipeReaders(opts.watchFd, () => {
          broken = true
          controller.abort(new BrokenPipe())
        })
  controller.signal.addEventListener('abort', unwatch, {once: true})
  let slab = Buffer.allocUnsafe(SLAB_BYTES)
  let used = 0
  let scheduled = false
  let draining: Promise<void> | undefined

  stream.on('error', (err: NodeJS.ErrnoException) => {
    broken = true
    used = 0
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') controller.abort(new BrokenPipe())
    else controller.abort(err)
  })

  function waitDrain(): Promise<void> {
    // Aborted already (Ctrl-C, reader gone): nothing more is waited for.
    if (controller.signal.aborted) return Promise.resolve()
    draining ??= new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done)
        stream.off('close', done)
        controller.signal.removeEventListener('abort', done)
        draining = undefined
        resolve()
      }
      stream.once('drain', done)
      stream.once('close', done)
      controller.signal.addEventListener('abort', done, {once: true})
    })
    return draining
  }

  /** Hands `chunk` to the stream; returns a promise when the stream wants us to wait. */
  function send(chunk: Uint8Array): Promise<void> | undefined {
    return stream.write(chunk) ? undefined : waitDrain()
  }

  function flush(): Promise<void> | undefined {
    scheduled = false
    if (broken || used === 0) return draining
    const chunk = slab.subarray(0, used)
    // The stream keeps the chunk until it is written: the next lines go into a new slab.
    slab = Buffer.allocUnsafe(SLAB_BYTES)
    used = 0
    return send(chunk)
  }

  return {
    get broken() {
      return broken
    },
    /** Resolves when more may be written. */
    write(chunk: string | Uint8Array): Promise<void> | undefined {
      if (broken) return undefined
      // Worst case 3 bytes per UTF-16 unit: if that may not fit, start a new slab first.
      const most = typeof chunk === 'string' ? chunk.length * 3 : chunk.length
      let waiting: Promise<void> | undefined
      if (used + most > SLAB_BYTES) {
        waiting = flush()
        if (most > SLAB_BYTES) {
          // Larger than a slab: written as it is.
          const big = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
          return send(big) ?? waiting
        }
      }
      if (typeof chunk === 'string') used += utf8Write.call(slab, chunk, used)
      else {
        slab.set(chunk, used)
        used += chunk.length
      }
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
      return waiting ?? draining
    },
    /**
     * Hands what is pending to the stream now and resolves once the stream wrote it out (to the
     * pipe, file or terminal): true, or false when the output is gone (EPIPE: `| head` exited).
     * For `tail --consume`, which deletes a message only after its line got this far.
     */
    flushed(): Promise<boolean> {
      flush()
      if (broken) return Promise.resolve(false)
      // Writes complete in order: an empty write's callback runs once everything before it was
      // written, and gets the error of a write that failed (the stream then fails every write).
      return new Promise((resolve) => {
        stream.write(Buffer.alloc(0), (err) => resolve(!err && !broken))
      })
    },
    /** Writes what is pending and waits until the stream took it. */
    async end(): Promise<void> {
      unwatch()
      await flush()
    },
  }
}
