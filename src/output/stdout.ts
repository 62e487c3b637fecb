import type {Writable} from 'node:stream'

/** Why a read stopped when the reader of stdout went away (`evtctl tail | head`). */
export class BrokenPipe extends Error {
  constructor() {
    super('stdout was closed by its reader')
    this.name = 'BrokenPipe'
  }
}

const FLUSH_BYTES = 64 * 1024

/**
 * A writer for data on stdout.
 * - Coalesces small writes into one write per turn of the event loop (or per 64 KiB), so a fast
 *   read is not one syscall per event, and a live tail still shows each event at once.
 * - Waits for `drain`, so a slow reader slows the broker read and memory stays flat.
 * - Turns EPIPE (the reader went away: `| head`) into an abort of the read, not a crash.
 */
export function dataWriter(stream: Writable, controller: AbortController) {
  let broken = false
  let pending: Array<string | Uint8Array> = []
  let pendingBytes = 0
  let scheduled = false
  let draining: Promise<void> | undefined

  stream.on('error', (err: NodeJS.ErrnoException) => {
    broken = true
    pending = []
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') controller.abort(new BrokenPipe())
    else controller.abort(err)
  })

  function waitDrain(): Promise<void> {
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

  function flush(): Promise<void> | undefined {
    scheduled = false
    if (broken || pending.length === 0) return draining
    const chunk =
      pending.length === 1
        ? pending[0]!
        : pending.every((p) => typeof p === 'string')
          ? pending.join('')
          : Buffer.concat(pending.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)))
    pending = []
    pendingBytes = 0
    return stream.write(chunk) ? undefined : waitDrain()
  }

  return {
    get broken() {
      return broken
    },
    /** Resolves when more may be written. */
    write(chunk: string | Uint8Array): Promise<void> | undefined {
      if (broken) return undefined
      pending.push(chunk)
      pendingBytes += chunk.length
      if (pendingBytes >= FLUSH_BYTES) return flush()
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
      return draining
    },
    /** Writes what is pending and waits until the stream took it. */
    async end(): Promise<void> {
      await flush()
    },
  }
}
