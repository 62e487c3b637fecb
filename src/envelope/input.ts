import {createReadStream, createWriteStream} from 'node:fs'
import {lstat, mkdtemp, readdir, rm, rmdir, unlink} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {UsageError} from '../errors.js'
import {splitLineBatches, splitLines} from '../util/lines.js'
import type {Envelope, Header} from './envelope.js'
import {type Payload, toPayload} from './payload.js'

/** What --key and --header add to every message read from input. */
export interface Decoration {
  key?: Payload
  headers?: Header[]
  /**
   * Tell JSON values from text ({json} vs {utf8}). Only worth it where the envelope is kept or
   * shown (the file broker, --dry-run); a broker only needs the bytes, so publishing skips a
   * JSON.parse and JSON.stringify per message.
   */
  classify?: boolean
}

function decorate(env: Envelope, d: Decoration): Envelope {
  if (!d.key && !d.headers?.length) return env
  return {
    ...env,
    ...(d.key ? {key: d.key} : {}),
    ...(d.headers?.length ? {headers: [...(env.headers ?? []), ...d.headers]} : {}),
  }
}

export function envelopeOf(bytes: Uint8Array, d: Decoration = {}): Envelope {
  return decorate({v: 1, value: toPayload(bytes, {keepBytes: true, json: d.classify !== false})}, d)
}

/**
 * Which input line each message came from, so an interrupted publish can say where to resume.
 * Blank lines are skipped, so message k is on line k + 1 + (blank lines before it); only the
 * (rare) blank lines are remembered, not a number per message.
 */
export class InputLines {
  private messages = 0
  private readonly blanks: number[] = []
  message(): void {
    this.messages++
  }
  blank(): void {
    this.blanks.push(this.messages)
  }
  /** 1-based input line of message `index` (0-based). */
  lineOf(index: number): number {
    let before = 0
    for (const b of this.blanks) if (b <= index) before++
    return index + 1 + before
  }
}

/** One message per line (\n; a trailing \r is kept as data). Empty lines are skipped. */
export async function* linesInput(
  chunks: AsyncIterable<Buffer | string>,
  d: Decoration,
  where?: InputLines,
): AsyncGenerator<Envelope> {
  for await (const lines of splitLineBatches(chunks)) {
    for (const line of lines) {
      if (line.length > 0) {
        where?.message()
        yield envelopeOf(line, d)
      } else where?.blank()
    }
  }
}

/** The whole input as one message, byte-exact. Empty input is refused unless `allowEmpty`. */
export async function* rawInput(
  chunks: AsyncIterable<Buffer | string>,
  d: Decoration,
  opts: {allowEmpty?: boolean} = {},
): AsyncGenerator<Envelope> {
  const parts: Buffer[] = []
  for await (const c of chunks) parts.push(typeof c === 'string' ? Buffer.from(c) : c)
  const bytes = Buffer.concat(parts)
  if (bytes.length === 0 && !opts.allowEmpty) {
    throw new UsageError(
      'The input is empty: --input raw would publish one empty message.',
      'Check the input; add --allow-empty to publish an empty message on purpose.',
      'EMPTY_INPUT',
    )
  }
  yield envelopeOf(bytes, d)
}

/**
 * Envelopes from a JSONL file, validated in full before the first one is handed out, so a bad
 * line 9,000 is exit 2 with nothing sent. Blank lines are skipped.
 */
export async function jsonlInput(
  path: string,
  label: string,
  d: Decoration,
): Promise<{count: number; events: (where?: InputLines) => AsyncGenerator<Envelope>}> {
  const {decodeEnvelope} = await import('./decode.js')
  let count = 0
  let lineNo = 0
  for await (const line of splitLines(createReadStream(path))) {
    lineNo++
    if (isBlank(line)) continue
    decodeEnvelope(line.toString('utf8'), `Line ${lineNo} of ${label}`)
    count++
  }
  async function* events(where?: InputLines): AsyncGenerator<Envelope> {
    let n = 0
    for await (const line of splitLines(createReadStream(path))) {
      n++
      if (isBlank(line)) {
        where?.blank()
        continue
      }
      where?.message()
      yield decorate(decodeEnvelope(line.toString('utf8'), `Line ${n} of ${label}`), d)
    }
  }
  return {count, events}
}

function isBlank(line: Buffer): boolean {
  return line.length === 0 || (line.length === 1 && line[0] === 13)
}

/** Ends `items` as soon as `signal` aborts, also while waiting for the next one (stdin kept open). */
export async function* untilAborted<T>(items: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  if (signal.aborted) return
  const it = items[Symbol.asyncIterator]()
  const aborted = new Promise<'aborted'>((resolve) =>
    signal.addEventListener('abort', () => resolve('aborted'), {once: true}),
  )
  try {
    for (;;) {
      const next = await Promise.race([it.next(), aborted])
      if (next === 'aborted' || next.done) return
      yield next.value
    }
  } finally {
    // Not awaited: a read of stdin may never settle.
    void it.return?.()
  }
}

const SPOOL_PREFIX = 'evtctl-spool-'

/**
 * Copies a stream to a private temp file (0600, in a 0700 directory) so it can be read twice
 * (validate, then send). Returns the path and a cleanup function. `signal` ends the copy at once
 * (Ctrl-C while stdin is still open). A run killed before its cleanup (SIGKILL, a second Ctrl-C)
 * leaves its spool behind: the directory names its process, and the next run removes the spools
 * of processes that are gone.
 */
export async function spool(
  stream: NodeJS.ReadableStream,
  signal?: AbortSignal,
): Promise<{path: string; cleanup: () => Promise<void>}> {
  await removeStaleSpools()
  const dir = await mkdtemp(join(tmpdir(), `${SPOOL_PREFIX}${process.pid}-`))
  const path = join(dir, 'stdin.jsonl')
  const cleanup = () => rm(dir, {recursive: true, force: true})
  try {
    await pipeline(stream, createWriteStream(path, {mode: 0o600}), ...(signal ? [{signal}] : []))
  } catch (err) {
    await cleanup()
    throw err
  }
  return {path, cleanup}
}

/** A spool younger than this is left alone even when its process seems gone (another PID namespace sharing the temp dir). */
const STALE_SPOOL_MS = 60 * 60 * 1000

/**
 * Removes spools left by killed runs: directories (not links) of ours, named for a process that
 * is gone, older than an hour. Only our own file in it is removed, then the empty directory —
 * never a recursive delete, so nothing planted in a shared temp dir can redirect it.
 */
async function removeStaleSpools(): Promise<void> {
  let names: string[]
  try {
    names = await readdir(tmpdir())
  } catch {
    return
  }
  const uid = process.getuid?.()
  for (const name of names) {
    const pid = Number(new RegExp(`^${SPOOL_PREFIX}(\\d+)-`).exec(name)?.[1])
    if (!pid || pid === process.pid || alive(pid)) continue
    const dir = join(tmpdir(), name)
    try {
      const st = await lstat(dir)
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue
      if (Date.now() - st.mtimeMs < STALE_SPOOL_MS) continue
      await unlink(join(dir, 'stdin.jsonl')).catch(() => {})
      await rmdir(dir)
    } catch {
      // gone meanwhile, or not empty (not one of ours after all): left as it is
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
