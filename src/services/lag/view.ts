import type {KafkaLagRaw, LagRaw, PubsubLagRaw, SqsLagRaw} from '../../adapters/lag-source.js'
import {lagStatus, type Sample} from './status.js'

/*
 * From raw polls to what `lag` shows: the --json documents (shapes fixed by issue #14) and the
 * rows of the table and the dashboard. A tracker keeps each row's recent polls, so rates, trends
 * and statuses follow the group's behaviour over time. Unknown numbers are null, with the reason
 * in `reasons` — never 0.
 */

export interface KafkaPartitionDoc {
  partition: number
  committed: string | null
  end: string
  lag: number | null
  timeLagMs: number | null
}
export interface KafkaTopicDoc {
  topic: string
  lag: number | null
  timeLagMs: number | null
  status: string
  consumeRate: number | null
  produceRate: number | null
  drainMs: number | null
  partitions: KafkaPartitionDoc[]
}
export interface KafkaGroupDoc {
  group: string
  state: string | null
  members: number | null
  lag: number | null
  timeLagMs: number | null
  status: string
  topics: KafkaTopicDoc[]
  /** Why a value above is null (field → reason). */
  reasons?: Record<string, string>
}
export interface KafkaLagDoc {
  at: string
  groups: KafkaGroupDoc[]
}
export interface SqsQueueDoc {
  queue: string
  visible: number
  inFlight: number
  delayed: number
  dlq?: {queue: string; visible: number | null}
  oldestAgeMs: number | null
  status: string
  reasons?: Record<string, string>
}
export interface SqsLagDoc {
  at: string
  queues: SqsQueueDoc[]
}
export interface PubsubSubscriptionDoc {
  subscription: string
  backlog: number | null
  oldestUnackedAgeMs: number | null
  status: string
  reasons?: Record<string, string>
}
export interface PubsubLagDoc {
  at: string
  subscriptions: PubsubSubscriptionDoc[]
}
export type LagDoc = KafkaLagDoc | SqsLagDoc | PubsubLagDoc

/** One line of the table and the dashboard: a group on a topic, a queue, a subscription. */
export interface LagRow {
  key: string
  /** Group, queue or subscription. */
  name: string
  topic?: string
  lag: number | null
  timeLagMs: number | null
  consumeRate: number | null
  produceRate: number | null
  /** Lag of the last polls, oldest first (the sparkline). */
  trend: Array<number | null>
  drainMs: number | null
  members: number | null
  status: string
  /** SQS: messages in flight and in the DLQ. */
  inFlight?: number
  dlq?: number | null
  /** Why lag or time lag is unknown. */
  reasons: Record<string, string>
  partitions?: KafkaPartitionDoc[]
}

export interface LagView {
  doc: LagDoc
  rows: LagRow[]
}

export interface TrackerOptions {
  stallMs?: number
  windowMs?: number
  /** Polls kept per row (the trend's length). */
  keep?: number
}

const STALL_MS = 60_000
const WINDOW_MS = 60_000
const KEEP = 120

/** Keeps each row's last polls and turns every new raw poll into a view. */
export class LagTracker {
  private readonly history = new Map<string, Sample[]>()
  private readonly stallMs: number
  private readonly windowMs: number
  private readonly keep: number

  constructor(opts: TrackerOptions = {}) {
    this.stallMs = opts.stallMs ?? STALL_MS
    this.windowMs = opts.windowMs ?? WINDOW_MS
    this.keep = opts.keep ?? KEEP
  }

  update(raw: LagRaw): LagView {
    switch (raw.kind) {
      case 'kafka':
      case 'file':
        return this.groups(raw)
      case 'sqs':
        return this.queues(raw)
      case 'pubsub':
        return this.subscriptions(raw)
    }
  }

  private push(key: string, s: Sample): Sample[] {
    const h = this.history.get(key) ?? []
    h.push(s)
    if (h.length > this.keep) h.splice(0, h.length - this.keep)
    this.history.set(key, h)
    return h
  }

  private status(samples: Sample[], members: number | null) {
    return lagStatus({samples, members, stallMs: this.stallMs, windowMs: this.windowMs})
  }

  private groups(raw: KafkaLagRaw): LagView {
    const at = Date.parse(raw.at)
    const rows: LagRow[] = []
    const groups = raw.groups.map((g): KafkaGroupDoc => {
      const topicDocs: KafkaTopicDoc[] = []
      const groupSample: Sample = {at, committed: null, end: 0, lag: null, offsets: {}}
      let timeLag: number | null = null
      const reasons: Record<string, string> = {}
      for (const t of g.topics) {
        const sample: Sample = {at, committed: null, end: 0, lag: null, offsets: {}}
        let tTime: number | null = null
        let timeUnknown: string | undefined
        const partitions = t.partitions.map((p): KafkaPartitionDoc => {
          const c = p.committed === null ? null : Number(p.committed)
          const end = Number(p.end)
          const lag = c === null ? null : Math.max(0, end - c)
          // Caught up: nothing unconsumed, so no age. Behind: now − the oldest unconsumed one.
          const time =
            lag === 0 ? 0 : p.oldestUnconsumedMs === null ? null : Math.max(0, at - p.oldestUnconsumedMs)
          if (c !== null) {
            sample.committed = (sample.committed ?? 0) + c
            sample.end += end
            sample.lag = (sample.lag ?? 0) + (lag ?? 0)
            sample.offsets[p.partition] = c
            if (time === null) timeUnknown ??= p.timestampNote
          }
          if (time !== null) tTime = Math.max(tTime ?? 0, time)
          return {partition: p.partition, committed: p.committed, end: p.end, lag, timeLagMs: time}
        })
        const key = `${g.group}\u0000${t.topic}`
        const s = this.status(this.push(key, sample), g.members)
        const tReasons: Record<string, string> = {}
        if (sample.lag === null) tReasons.lag = 'never committed on this topic'
        if (tTime === null)
          tReasons.timeLagMs = sample.lag === null ? 'never committed' : (timeUnknown ?? 'unknown')
        topicDocs.push({
          topic: t.topic,
          lag: sample.lag,
          timeLagMs: tTime,
          status: s.status,
          consumeRate: round(s.consumeRate),
          produceRate: round(s.produceRate),
          drainMs: s.drainMs === null ? null : Math.round(s.drainMs),
          partitions,
        })
        rows.push({
          key,
          name: g.group,
          topic: t.topic,
          lag: sample.lag,
          timeLagMs: tTime,
          consumeRate: s.consumeRate,
          produceRate: s.produceRate,
          trend: (this.history.get(key) ?? []).map((x) => x.lag),
          drainMs: s.drainMs,
          members: g.members,
          status: s.status,
          reasons: {...tReasons, ...(g.note ? {members: g.note} : {})},
          partitions,
        })
        if (sample.committed !== null) {
          groupSample.committed = (groupSample.committed ?? 0) + sample.committed
          groupSample.end += sample.end
          groupSample.lag = (groupSample.lag ?? 0) + (sample.lag ?? 0)
          for (const [p, o] of Object.entries(sample.offsets)) groupSample.offsets[`${t.topic}/${p}`] = o
        }
        if (tTime !== null) timeLag = Math.max(timeLag ?? 0, tTime)
        else if (sample.lag !== null) reasons.timeLagMs ??= tReasons.timeLagMs!
      }
      const s = this.status(this.push(g.group, groupSample), g.members)
      if (groupSample.lag === null) {
        reasons.lag = g.topics.length
          ? 'never committed'
          : 'no topics: the group has no commits and no assignment'
        reasons.timeLagMs = reasons.lag
      }
      if (g.state === null || g.members === null) reasons.members = g.note ?? 'unknown'
      return {
        group: g.group,
        state: g.state,
        members: g.members,
        lag: groupSample.lag,
        timeLagMs: groupSample.lag === null ? null : timeLag,
        status: s.status,
        topics: topicDocs,
        ...(Object.keys(reasons).length ? {reasons} : {}),
      }
    })
    return {doc: {at: raw.at, groups}, rows: sortRows(rows, 'worst')}
  }

  private queues(raw: SqsLagRaw): LagView {
    const at = Date.parse(raw.at)
    const rows: LagRow[] = []
    const queues = raw.queues.map((q): SqsQueueDoc => {
      // A queue's backlog plays the part of lag: visible messages waiting. Nothing is committed,
      // so the consume rate is not known; the net change of the backlog is.
      const sample: Sample = {at, committed: 0, end: q.visible, lag: q.visible, offsets: {}}
      const h = this.push(q.url, sample)
      const s = this.status(h, null)
      const reasons: Record<string, string> = {}
      if (q.oldestAgeMs === null) reasons.oldestAgeMs = q.oldestAgeNote ?? 'unknown'
      if (q.dlq?.visible === null) reasons.dlq = q.dlq.note ?? 'unknown'
      const status = queueStatus(h, s.status)
      rows.push({
        key: q.url,
        name: q.queue,
        lag: q.visible,
        timeLagMs: q.oldestAgeMs,
        consumeRate: null,
        produceRate: null,
        trend: h.map((x) => x.lag),
        drainMs: null,
        members: null,
        status,
        inFlight: q.inFlight,
        ...(q.dlq ? {dlq: q.dlq.visible} : {}),
        reasons: q.oldestAgeMs === null ? {oldest: reasons.oldestAgeMs!} : {},
      })
      return {
        queue: q.queue,
        visible: q.visible,
        inFlight: q.inFlight,
        delayed: q.delayed,
        ...(q.dlq ? {dlq: {queue: q.dlq.queue, visible: q.dlq.visible}} : {}),
        oldestAgeMs: q.oldestAgeMs,
        status,
        ...(Object.keys(reasons).length ? {reasons} : {}),
      }
    })
    return {doc: {at: raw.at, queues}, rows: sortRows(rows, 'worst')}
  }

  private subscriptions(raw: PubsubLagRaw): LagView {
    const rows: LagRow[] = []
    const subscriptions = raw.subscriptions.map((s): PubsubSubscriptionDoc => {
      const reason = s.note ?? 'unknown'
      const ageReason = s.ageNote ?? reason
      const status =
        s.backlog === null ? `unknown — ${reason}` : s.backlog === 0 ? 'ok' : `${s.backlog} waiting`
      const reasons = {
        ...(s.backlog === null ? {backlog: reason} : {}),
        ...(s.oldestUnackedAgeMs === null ? {oldestUnackedAgeMs: ageReason} : {}),
      }
      rows.push({
        key: s.subscription,
        name: s.subscription,
        topic: s.topic,
        lag: s.backlog,
        timeLagMs: s.oldestUnackedAgeMs,
        consumeRate: null,
        produceRate: null,
        trend: [],
        drainMs: null,
        members: null,
        status,
        reasons: {
          ...(s.backlog === null ? {backlog: reason} : {}),
          ...(s.oldestUnackedAgeMs === null ? {'oldest unacked': ageReason} : {}),
        },
      })
      return {
        subscription: s.subscription,
        backlog: s.backlog,
        oldestUnackedAgeMs: s.oldestUnackedAgeMs,
        status,
        ...(Object.keys(reasons).length ? {reasons} : {}),
      }
    })
    return {doc: {at: raw.at, subscriptions}, rows}
  }
}

/** A queue: nothing waiting is ok; else the backlog's trend (it has no commits to stall). */
function queueStatus(h: Sample[], status: string): string {
  const last = h[h.length - 1]!
  if (last.lag === 0) return 'ok'
  if (status.startsWith('stalled')) {
    // The backlog did not move at all: no one is receiving (or nothing new came).
    return h.length > 1 && h[0]!.lag === last.lag ? 'ok — backlog unchanged' : 'falling behind'
  }
  return status
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100)

export type SortKey = 'worst' | 'lag' | 'time' | 'name'
export const SORT_KEYS: readonly SortKey[] = ['worst', 'lag', 'time', 'name']

/** How bad a status is: the dashboard's default order puts the worst first. */
export function severity(status: string): number {
  if (status.startsWith('stalled')) return 0
  if (status.startsWith('stopped')) return 1
  if (status === 'falling behind') return 2
  if (status === 'rewound') return 3
  if (status === 'never committed') return 4
  if (status === 'catching up') return 5
  if (status.startsWith('behind')) return 6
  if (status.startsWith('unknown')) return 7
  return 8
}

export function sortRows(rows: LagRow[], by: SortKey): LagRow[] {
  const n = (x: number | null) => x ?? -1
  const byName = (a: LagRow, b: LagRow) =>
    a.name.localeCompare(b.name) || (a.topic ?? '').localeCompare(b.topic ?? '')
  return [...rows].sort((a, b) => {
    switch (by) {
      case 'worst':
        return (
          severity(a.status) - severity(b.status) ||
          n(b.timeLagMs) - n(a.timeLagMs) ||
          n(b.lag) - n(a.lag) ||
          byName(a, b)
        )
      case 'lag':
        return n(b.lag) - n(a.lag) || byName(a, b)
      case 'time':
        return n(b.timeLagMs) - n(a.timeLagMs) || byName(a, b)
      default:
        return byName(a, b)
    }
  })
}
