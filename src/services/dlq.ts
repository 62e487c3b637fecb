import {capabilitiesOf} from '../adapters/registry.js'
import type {BrokerAdapter, DeadLetterAware, DeadLetterQueue, ReadOptions} from '../adapters/types.js'
import type {Target} from '../config/targets.js'
import {type Envelope, headerText} from '../envelope/envelope.js'
import {type Emit, type UserEvent, warning, warningJson} from '../events.js'

export interface DlqListOptions {
  /** Read up to this many messages of each DLQ (safely, as tail does) and group them. */
  scan?: number
  signal: AbortSignal
}

/** One DLQ as `dlq list --json` prints it. */
export interface DlqEntry {
  target: string
  broker: Target['kind']
  depth: number | null
  depthExact: boolean
  depthNote?: string
  inFlight?: number
  delayed?: number
  sources: DeadLetterQueue['sources']
  oldest?: string
  newest?: string
  /** When every source that has one agrees (SQS maxReceiveCount, Pub/Sub maxDeliveryAttempts). */
  maxReceiveCount?: number
  moveTask?: DeadLetterQueue['moveTask']
  /** With --scan: how many messages were read, grouped by failure reason and by source. */
  scanned?: number
  reasons?: Array<{reason: string; count: number}>
  sourcesSeen?: Array<{source: string; count: number}>
  warnings: Array<{code: string; message: string}>
}

export interface DlqListReport {
  dlqs: DlqEntry[]
}

/** Lists the dead-letter queues of `scope`, worst first; with `scan`, reads each (read-only). */
export async function listDlqs(
  adapter: BrokerAdapter & DeadLetterAware,
  scope: Target,
  opts: DlqListOptions,
): Promise<DlqListReport> {
  const found = await adapter.listDeadLetters(scope, opts.signal)
  const entries: DlqEntry[] = []
  for (const d of found) {
    const entry = toEntry(d)
    if (opts.scan && opts.scan > 0 && !opts.signal.aborted)
      await scanInto(adapter, d, entry, opts.scan, opts.signal)
    entries.push(entry)
  }
  entries.sort(worstFirst)
  return {dlqs: entries}
}

function toEntry(d: DeadLetterQueue): DlqEntry {
  const limits = new Set(
    d.sources.map((s) => s.maxReceiveCount ?? s.maxDeliveryAttempts).filter((x) => x !== undefined),
  )
  return {
    target: d.target.url,
    broker: d.target.kind,
    depth: d.depth,
    depthExact: d.depthExact,
    ...(d.depthNote ? {depthNote: d.depthNote} : {}),
    ...(d.inFlight !== undefined ? {inFlight: d.inFlight} : {}),
    ...(d.delayed !== undefined ? {delayed: d.delayed} : {}),
    sources: d.sources,
    ...(d.oldest ? {oldest: d.oldest} : {}),
    ...(d.newest ? {newest: d.newest} : {}),
    ...(limits.size === 1 ? {maxReceiveCount: [...limits][0]!} : {}),
    ...(d.moveTask ? {moveTask: d.moveTask} : {}),
    warnings: d.warnings.map(warningJson),
  }
}

/** Lost messages first (a Pub/Sub DLQ that drops them), then the deepest, unknown depth last. */
function worstFirst(a: DlqEntry, b: DlqEntry): number {
  const dropping = (e: DlqEntry) => (e.warnings.some((w) => w.code === 'DLQ_WITHOUT_SUBSCRIPTION') ? 1 : 0)
  return (
    dropping(b) - dropping(a) ||
    (b.depth ?? -1) - (a.depth ?? -1) ||
    (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)
  )
}

/**
 * Reads up to `max` messages of the DLQ with the same no-side-effect read as tail (SQS: a browse
 * whose messages are all released; Pub/Sub: a snapshot of a subscription of the dead-letter topic).
 */
async function scanInto(
  adapter: BrokerAdapter,
  d: DeadLetterQueue,
  entry: DlqEntry,
  max: number,
  signal: AbortSignal,
): Promise<void> {
  const say = (e: UserEvent) => entry.warnings.push(warningJson(e))
  if (d.unscannable) {
    say(warning('NOT_SCANNED', d.unscannable))
    return
  }
  const via = d.readVia ? d.readVia[0] : d.target
  if (!via) return // Pub/Sub with no subscription: nothing holds its messages (warned already)
  const reasons = new Map<string, number>()
  const sources = new Map<string, number>()
  let scanned = 0
  let oldest = entry.oldest
  let newest = entry.newest
  // Warnings of the read belong to this DLQ; what it says it is doing does not need saying here.
  const emit: Emit = (e) => {
    if (e.level === 'warning') say(e)
  }
  const readOpts: ReadOptions = {
    from: capabilitiesOf(via).seekOffset ? {kind: 'beginning'} : {kind: 'end'},
    until: {kind: 'end'},
    max,
    emit,
  }
  try {
    for await (const delivery of adapter.read(via, readOpts, signal)) {
      const env = delivery.envelope
      scanned++
      bump(reasons, reasonOf(env))
      const source = sourceOf(env)
      if (source) bump(sources, source)
      const ts = env.timestamp
      if (ts && (oldest === undefined || ts < oldest)) oldest = ts
      if (ts && (newest === undefined || ts > newest)) newest = ts
      if (scanned >= max) break
    }
  } catch (err) {
    if (signal.aborted) throw err
    say(warning('NOT_SCANNED', `Could not scan ${via.url}: ${(err as Error).message}`))
    return
  }
  entry.scanned = scanned
  entry.reasons = sorted(reasons).map(([reason, count]) => ({reason, count}))
  entry.sourcesSeen = sorted(sources).map(([source, count]) => ({source, count}))
  if (oldest) entry.oldest = oldest
  if (newest) entry.newest = newest
  // The scan read everything there was: where the broker could not count, now it is known.
  if (scanned < max && entry.depth === null) {
    entry.depth = scanned
    entry.depthExact = true
    entry.depthNote = `counted by --scan (it read to the end)`
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1)
}

function sorted(m: Map<string, number>): Array<[string, number]> {
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
}

/** Header pairs (exception class, message) that dead-letter writers leave, most specific first. */
const REASON_HEADERS: Array<[string, string | undefined]> = [
  // Spring Kafka's DeadLetterPublishingRecoverer
  ['kafka_dlt-exception-fqcn', 'kafka_dlt-exception-message'],
  // Kafka Connect (errors.deadletterqueue.context.headers.enable)
  ['__connect.errors.exception.class.name', '__connect.errors.exception.message'],
  // Common hand-written conventions
  ['x-exception-class', 'x-exception-message'],
  ['error.type', 'error.message'],
  ['error', undefined],
  ['x-error', undefined],
  ['reason', undefined],
  ['dlq-reason', undefined],
]

/** Why a message failed, in a few words, from the headers its dead-letter writer left. */
export function reasonOf(env: Envelope): string {
  for (const [kind, detail] of REASON_HEADERS) {
    const k = headerText(env, kind)
    const m = detail ? headerText(env, detail) : undefined
    if (k || m) return shorten([k, m].filter(Boolean).join(': '))
  }
  // Pub/Sub: CloudPubSubDeadLetterSourceDeliveryCount (meta.dlq.deliveryCount)
  const attempts = (env.meta?.dlq as Record<string, string> | undefined)?.deliveryCount
  return attempts ? `(no reason recorded; ${attempts} delivery attempts)` : '(no reason recorded)'
}

/** Where a dead letter came from, as its broker or writer recorded it. */
export function sourceOf(env: Envelope): string | undefined {
  const dlq = env.meta?.dlq as Record<string, string> | undefined
  if (dlq?.sourceArn) return dlq.sourceArn
  if (dlq?.subscription)
    return dlq.subscriptionProject
      ? `pubsub://${dlq.subscriptionProject}/subscriptions/${dlq.subscription}`
      : dlq.subscription
  return (
    headerText(env, 'kafka_dlt-original-topic') ??
    headerText(env, '__connect.errors.topic') ??
    headerText(env, 'source')
  )
}

/** One line, at most 120 characters: a reason groups messages, it does not quote stack traces. */
function shorten(text: string): string {
  const line = text.split(/\r?\n/, 1)[0]!.trim()
  return line.length > 120 ? `${line.slice(0, 119)}…` : line
}
