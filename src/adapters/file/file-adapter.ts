import {watch} from 'node:fs'
import {type FileHandle, mkdir, open, readdir, readFile, stat, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import lockfile from 'proper-lockfile'
import type {Target} from '../../config/targets.js'
import {decodeEnvelope} from '../../envelope/decode.js'
import {type Envelope, encodeEnvelope} from '../../envelope/envelope.js'
import {NotFoundError, UnreachableError, UsageError} from '../../errors.js'
import {warning} from '../../events.js'
import {batches} from '../../util/batch.js'
import type {LagSourceAware} from '../lag-source.js'
import {refuseConsume} from '../peek-only.js'
import type {
  BrokerAdapter,
  DeadLetterAware,
  DeadLetterQueue,
  Delivery,
  GroupLag,
  LagAware,
  PublishOptions,
  PublishReport,
  ReadOptions,
} from '../types.js'
import {fileLagReader} from './file-lag.js'

/**
 * The embedded file broker: a topic is a JSONL file of envelopes (so a capture file is a topic),
 * an offset is a line number (0-based), there is one partition (0). For local development, demos,
 * captures and CI fixtures — not a distributed broker.
 *
 * - Appends hold a lock (`<file>.lock`, a directory made atomically), so several writers are safe.
 * - Reads never take the lock and never change anything; a half-written last line is left until
 *   its newline arrives.
 * - Consumer-group positions live beside the topic in `<file>.offsets.json`.
 * - The dead-letter topic of `orders.jsonl` is `orders.dlq.jsonl`, by convention.
 */
type FileTarget = Extract<Target, {kind: 'file'}>

const CHUNK = 1 << 20
const POLL_MS = 200
/**
 * A live writer refreshes its lock every stale/2; a killed one's lock goes stale after 10 s and
 * is taken over. Retries outlast that (~20 s), so a writer that died only delays the next.
 */
const LOCK_OPTIONS = {
  realpath: false,
  stale: 10_000,
  retries: {retries: 400, minTimeout: 2, maxTimeout: 50, factor: 1.5},
} as const

export function createFileAdapter(): BrokerAdapter & LagAware & LagSourceAware & DeadLetterAware {
  return {
    kind: 'file',
    lagReader: (scope, opts) => fileLagReader((t, g) => fileLag(asFile(t), g), scope, opts),
    read: (target, opts, signal) => readTopic(asFile(target), opts, signal),
    publish: (target, events, opts) => appendTopic(asFile(target), events, opts),
    lag: (target, group) => fileLag(asFile(target), group),
    listDeadLetters: (scope) => listDeadLetters(asFile(scope)),
    close: async () => {},
  }
}

function asFile(target: Target): FileTarget {
  if (target.kind !== 'file') throw new Error(`file adapter got a ${target.kind} target`)
  return target
}

export function deadLetterTargetOf(target: FileTarget): FileTarget {
  const path = target.path.replace(/(\.jsonl)?$/, '.dlq.jsonl')
  return {kind: 'file', url: `file://${path}`, path, name: `${target.name}.dlq`}
}

/**
 * Dead-letter topics: `NAME.dlq.jsonl` files of a directory (a whole-broker scope), or the one
 * topic given. Depth is exact: the messages in the file, read without a lock, as tail reads.
 */
async function listDeadLetters(scope: FileTarget): Promise<DeadLetterQueue[]> {
  const topics: FileTarget[] = []
  if (scope.name === '') {
    let names: string[]
    try {
      names = await readdir(scope.path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError(
          `No file broker directory at ${scope.path}.`,
          'Check the path, or publish first.',
        )
      throw err
    }
    for (const n of names.filter((x) => x.endsWith('.dlq.jsonl')).sort()) {
      const path = join(scope.path, n)
      topics.push({kind: 'file', url: `file://${path}`, path, name: n.replace(/\.jsonl$/, '')})
    }
  } else topics.push(scope)
  const out: DeadLetterQueue[] = []
  for (const t of topics) {
    const size = await sizeOf(t)
    const fh = await open(t.path, 'r')
    let depth = 0
    let oldest: string | undefined
    let newest: string | undefined
    try {
      for await (const line of linesFrom(fh, 0, 0, size)) {
        const d = toDelivery(t, line)
        if (!d) continue
        depth++
        const ts = d.envelope.timestamp
        if (ts && (oldest === undefined || ts < oldest)) oldest = ts
        if (ts && (newest === undefined || ts > newest)) newest = ts
      }
    } finally {
      await fh.close()
    }
    const sourcePath = t.path.replace(/\.dlq\.jsonl$/, '.jsonl')
    const hasSource =
      sourcePath !== t.path &&
      (await stat(sourcePath).then(
        (x) => x.isFile(),
        () => false,
      ))
    out.push({
      target: t,
      depth,
      depthExact: true,
      sources: hasSource ? [{target: `file://${sourcePath}`, by: 'file-name'}] : [],
      ...(oldest ? {oldest} : {}),
      ...(newest ? {newest} : {}),
      warnings: [],
    })
  }
  return out
}

async function sizeOf(target: FileTarget): Promise<number> {
  try {
    const s = await stat(target.path)
    if (!s.isFile())
      throw new UsageError(`${target.path} is not a file.`, 'Give the path of a .jsonl topic file.')
    return s.size
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(
        `Topic "${target.name}" does not exist (no file at ${target.path}).`,
        `Publish to it first ("evtctl publish ${target.name} '{}'"), or check the name.`,
      )
    }
    throw err
  }
}

/** A physical line of the file with its byte range and line number. */
interface Line {
  index: number
  bytes: Buffer
  /** Byte position just after the newline. */
  end: number
}

/** Yields complete lines from byte `pos` (line number `index`) up to `limit` bytes. */
async function* linesFrom(fh: FileHandle, pos: number, index: number, limit: number): AsyncGenerator<Line> {
  const buf = Buffer.allocUnsafe(CHUNK)
  let carry: Buffer | undefined
  let at = pos
  while (at < limit) {
    const {bytesRead} = await fh.read(buf, 0, Math.min(CHUNK, limit - at), at)
    if (bytesRead === 0) break
    let chunk = buf.subarray(0, bytesRead)
    const chunkStart = at - (carry?.length ?? 0)
    if (carry) chunk = Buffer.concat([carry, chunk])
    at += bytesRead
    let start = 0
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      yield {index: index++, bytes: chunk.subarray(start, nl), end: chunkStart + nl + 1}
      start = nl + 1
    }
    carry = start < chunk.length ? Buffer.from(chunk.subarray(start)) : undefined
  }
}

/** Byte position and line number of line `n` (or of the end, when there are fewer lines). */
async function seekLine(fh: FileHandle, limit: number, n: number): Promise<{pos: number; index: number}> {
  let pos = 0
  let index = 0
  if (n <= 0) return {pos, index}
  for await (const line of linesFrom(fh, 0, 0, limit)) {
    pos = line.end
    index = line.index + 1
    if (index >= n) break
  }
  return {pos, index}
}

async function countLines(fh: FileHandle, limit: number): Promise<{pos: number; count: number}> {
  const {pos, index} = await seekLine(fh, limit, Number.MAX_SAFE_INTEGER)
  return {pos, count: index}
}

/**
 * The delivery on a line, or undefined for a blank line and for a damaged one: a writer that died
 * mid-line damages only its own line, so a reader skips it (telling `skipped`) and goes on.
 */
function toDelivery(
  target: FileTarget,
  line: Line,
  skipped?: (message: string) => void,
): Delivery | undefined {
  if (line.bytes.length === 0 || (line.bytes.length === 1 && line.bytes[0] === 13)) return undefined
  let stored: Envelope
  try {
    stored = decodeEnvelope(line.bytes.toString('utf8'), `line ${line.index + 1} (offset ${line.index})`)
  } catch (err) {
    skipped?.(
      `Skipped a damaged line in ${target.path}: ${(err as Error).message.replace(/\.$/, '')}. ` +
        'A writer that stopped mid-line leaves such a line; the messages around it are intact.',
    )
    return undefined
  }
  const envelope: Envelope = {...stored, source: target.url, partition: 0, offset: String(line.index)}
  if (stored.source !== undefined && stored.source !== target.url) {
    envelope.meta = {
      ...stored.meta,
      origin: {
        source: stored.source,
        ...(stored.partition !== undefined ? {partition: stored.partition} : {}),
        ...(stored.offset !== undefined ? {offset: stored.offset} : {}),
      },
    }
  }
  // Reads on a file are side-effect free: there is nothing to ack or release.
  return {envelope, ack: async () => {}, release: async () => {}}
}

async function* readTopic(
  target: FileTarget,
  opts: ReadOptions,
  signal: AbortSignal,
): AsyncGenerator<Delivery> {
  refuseConsume('The file broker', opts)
  const emit = opts.emit
  if (opts.partitions?.some((p) => p !== 0)) {
    throw new NotFoundError(`A file topic has only partition 0.`, 'Drop --partition, or use --partition 0.')
  }
  const sizeAtStart = await sizeOf(target)
  const fh = await open(target.path, 'r')
  try {
    let pos = 0
    let index = 0
    const from = opts.from
    if (from.kind === 'end') ({pos, count: index} = await countLines(fh, sizeAtStart))
    else if (from.kind === 'offset') ({pos, index} = await seekLine(fh, sizeAtStart, Number(from.offset)))
    else if (from.kind === 'last') {
      const {count} = await countLines(fh, sizeAtStart)
      ;({pos, index} = await seekLine(fh, sizeAtStart, Math.max(0, count - from.count)))
    }
    let skipBefore = from.kind === 'time' ? from.time.getTime() : undefined
    const untilTime = opts.until?.kind === 'time' ? opts.until.time.getTime() : undefined
    const limit = opts.until?.kind === 'end' ? sizeAtStart : Number.POSITIVE_INFINITY

    for (;;) {
      if (signal.aborted) return
      const size = Math.min(limit, (await fh.stat()).size)
      for await (const line of linesFrom(fh, pos, index, size)) {
        if (signal.aborted) return
        pos = line.end
        index = line.index + 1
        const delivery = toDelivery(target, line, (m) => emit?.(warning('DAMAGED_LINE', m)))
        if (!delivery) continue
        const ts = delivery.envelope.timestamp ? Date.parse(delivery.envelope.timestamp) : Number.NaN
        if (skipBefore !== undefined) {
          if (!(ts >= skipBefore)) continue
          skipBefore = undefined
        }
        // --until <time> is exclusive: consecutive windows never both hold a message.
        if (untilTime !== undefined && ts >= untilTime) return
        yield delivery
      }
      if (pos >= limit) return
      if (untilTime !== undefined && Date.now() >= untilTime) return
      await waitForGrowth(target.path, signal, untilTime)
    }
  } finally {
    await fh.close()
  }
}

/** Resolves when the file may have grown, after POLL_MS at most, on abort, or at the deadline. */
function waitForGrowth(path: string, signal: AbortSignal, deadline?: number): Promise<void> {
  return new Promise((resolve) => {
    const wait = deadline === undefined ? POLL_MS : Math.max(0, Math.min(POLL_MS, deadline - Date.now() + 1))
    let watcher: ReturnType<typeof watch> | undefined
    const done = () => {
      clearTimeout(timer)
      watcher?.close()
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, wait)
    signal.addEventListener('abort', done, {once: true})
    try {
      watcher = watch(path, {persistent: false}, done)
      watcher.on('error', () => {})
    } catch {
      // fs.watch is not available everywhere; the poll timer covers it.
    }
  })
}

async function appendTopic(
  target: FileTarget,
  events: AsyncIterable<Envelope>,
  opts: PublishOptions,
): Promise<PublishReport> {
  await mkdir(dirname(target.path), {recursive: true})
  // Create the topic file if needed without truncating: a local file is the one broker where
  // publishing creates the topic (like `>> file`). Other brokers never create implicitly.
  // 0600 like captures and the config: events are often private data.
  await (await open(target.path, 'a', 0o600)).close()
  let sent = 0
  for await (const batch of batches(events, {maxItems: 1000, maxWaitMs: 20})) {
    if (opts.signal.aborted) break
    const now = new Date().toISOString()
    const text = batch.map((e) => `${encodeEnvelope(e.timestamp ? e : {...e, timestamp: now})}\n`).join('')
    await appendLocked(target.path, text)
    // Appended and closed: each message of the batch is in the file.
    if (opts.onSettled) for (let i = 0; i < batch.length; i++) opts.onSettled(sent + i, {status: 'sent'})
    sent += batch.length
    opts.onProgress?.(sent)
  }
  return {sent, failed: []}
}

async function appendLocked(path: string, text: string): Promise<void> {
  const release = await lockfile.lock(path, {...LOCK_OPTIONS, lockfilePath: `${path}.lock`}).catch((err) => {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err
    throw new UnreachableError(
      `${path} stayed locked by another writer for 20 s (${path}.lock).`,
      'Wait for the other evtctl publish to finish; if none is running, remove the .lock directory.',
      'TOPIC_LOCKED',
    )
  })
  try {
    const fh = await open(path, 'a+')
    try {
      // A writer that died mid-line leaves no newline; start ours on a fresh line so only the
      // broken line is bad, not ours too.
      const {size} = await fh.stat()
      let prefix = ''
      if (size > 0) {
        const last = Buffer.alloc(1)
        await fh.read(last, 0, 1, size - 1)
        if (last[0] !== 10) prefix = '\n'
      }
      await fh.appendFile(prefix + text)
    } finally {
      await fh.close()
    }
  } finally {
    await release()
  }
}

interface OffsetsFile {
  groups: Record<string, {offset: string; committedAt: string}>
}

function offsetsPath(target: FileTarget): string {
  return join(dirname(target.path), `${target.path.replace(/^.*\//, '')}.offsets.json`)
}

async function readOffsets(target: FileTarget): Promise<OffsetsFile> {
  try {
    return JSON.parse(await readFile(offsetsPath(target), 'utf8')) as OffsetsFile
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {groups: {}}
    throw err
  }
}

/** Stores `next` (the offset the group reads next) for `group`. Used by group consumers, never by tail. */
export async function commitFileOffset(target: FileTarget, group: string, next: bigint): Promise<void> {
  const path = offsetsPath(target)
  await mkdir(dirname(path), {recursive: true})
  await (await open(path, 'a')).close()
  const release = await lockfile.lock(path, {...LOCK_OPTIONS, lockfilePath: `${path}.lock`})
  try {
    const offsets = await readOffsets(target).catch(() => ({groups: {}}) as OffsetsFile)
    offsets.groups ??= {}
    offsets.groups[group] = {offset: String(next), committedAt: new Date().toISOString()}
    await writeFile(path, `${JSON.stringify(offsets, null, 2)}\n`)
  } finally {
    await release()
  }
}

async function fileLag(target: FileTarget, group?: string): Promise<GroupLag[]> {
  const size = await sizeOf(target)
  const offsets = await readOffsets(target)
  const fh = await open(target.path, 'r')
  let count = 0
  let latestTimestamp: string | undefined
  try {
    for await (const line of linesFrom(fh, 0, 0, size)) {
      count = line.index + 1
      const d = toDelivery(target, line)
      if (d?.envelope.timestamp) latestTimestamp = d.envelope.timestamp
    }
  } finally {
    await fh.close()
  }
  const names = group ? [group] : Object.keys(offsets.groups ?? {}).sort()
  return names.map((g) => {
    const c = offsets.groups?.[g]
    return {
      group: g,
      partition: 0,
      end: String(count),
      ...(c ? {committed: c.offset, lag: String(count - Number(c.offset)), committedAt: c.committedAt} : {}),
      ...(latestTimestamp ? {latestTimestamp} : {}),
    }
  })
}
