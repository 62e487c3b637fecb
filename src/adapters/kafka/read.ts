import type {Envelope} from '../../envelope/envelope.js'
import {UsageError} from '../../errors.js'
import {info} from '../../events.js'
import {AsyncQueue} from '../../util/async-queue.js'
import type {Delivery, ReadOptions, StartPosition} from '../types.js'
import {toEnvelope} from './codec.js'
import {GroupCommitter} from './commit.js'
import {interruption, type KafkaContext, type KafkaTarget, noSuchPartition} from './context.js'
import {mapKafkaError} from './errors.js'
import type {KafkaMessageIn, PartitionOffsets} from './port.js'
import {ridingFetch} from './reconnect.js'

const noop = async () => {}
/** How long the end of a consuming read waits for its last commits. */
const DRAIN_MS = 5_000

/** What one fetch brought for one partition that the read wants: its first `count` messages. */
interface Slice {
  source: string
  topic: string
  partition: number
  messages: KafkaMessageIn[]
  count: number
}

/**
 * A delivery of a Kafka record. Its envelope is made when first asked for: a copy to another
 * Kafka topic never asks (it writes the record's bytes, asRead), and what is made dies young.
 */
export class KafkaDelivery implements Delivery {
  #envelope: Envelope | undefined
  readonly #forCopy: boolean

  constructor(
    readonly record: KafkaMessageIn,
    readonly partition: number,
    readonly source: string,
    readonly ack: () => Promise<void>,
    forCopy: boolean,
  ) {
    this.#forCopy = forCopy
  }

  get offset(): string {
    return this.record.offset
  }

  get envelope(): Envelope {
    this.#envelope ??= toEnvelope(this.source, this.partition, this.record, this.#forCopy)
    return this.#envelope
  }

  /** For a copy (ReadOptions.forCopy) of a record whose bytes our decoder kept: this delivery. */
  get asRead(): KafkaDelivery | undefined {
    return this.#forCopy && this.record.rawBuffer ? this : undefined
  }

  release(): Promise<void> {
    return noop()
  }
}

/**
 * A slice's deliveries, each made as the reader takes it, so they die young (cheap for the GC).
 * One pass only (a second would hand out, and ask to commit, the same messages again). The
 * iterator refills one result object: its readers — for…of, yield*, the replay's batcher — take
 * value and done before asking for the next, and must not keep the result (a million copies
 * made a million of them).
 */
function deliveries(
  s: Slice,
  committer: GroupCommitter | undefined,
  forCopy: boolean,
): IterableIterator<Delivery> {
  let i = 0
  const result: IteratorResult<Delivery> = {done: false, value: undefined as unknown as Delivery}
  return {
    [Symbol.iterator]() {
      return this
    },
    next(): IteratorResult<Delivery> {
      if (i >= s.count) return {done: true, value: undefined}
      const m = s.messages[i++]!
      const ack = committer ? committer.delivered(s.topic, s.partition, m.offset) : noop
      result.value = new KafkaDelivery(m, s.partition, s.source, ack, forCopy)
      return result
    },
  }
}

/**
 * Reads. They join no consumer group: Fetch requests go straight to the partition leaders
 * (port.fetcher(), as kcat's assign), from offsets worked out here. A peek commits nothing; a
 * consuming read (readOpts.consume with a group) starts at the group's commits and commits what
 * the reader acks (see GroupCommitter).
 */
export async function* readBatches(
  ctx: KafkaContext,
  target_: KafkaTarget,
  readOpts: ReadOptions,
  signal: AbortSignal,
): AsyncGenerator<Iterable<Delivery>> {
  const {abortable, where, opts} = ctx
  const group = readOpts.consume ? readOpts.group : undefined
  if (readOpts.consume && !group) {
    throw new UsageError(
      'A consuming Kafka read records its progress in a consumer group, and none was given.',
      'Add --group NAME (a group with no running consumers), or read without --consume.',
    )
  }
  const kafka = ctx.port
  const topics = await abortable(signal, () => ctx.expandTopics(target_.topics))
  const parts = await abortable(signal, () => ctx.partitionsOf(topics))
  const a = await ctx.getAdmin()
  // Start and stop offsets per topic-partition, fixed before the first fetch.
  interface Cursor {
    topic: string
    partition: number
    start: bigint
    /** Where to stop: the high watermark when tail started (--until end), or when --until <time> passed. */
    stopAt?: bigint
    /** Where the next fetch starts. */
    next: bigint
    done: boolean
  }
  const cursors = new Map<string, Cursor>()
  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`
  for (const [topic, ids] of parts) {
    const chosen = readOpts.partitions?.length ? readOpts.partitions : ids
    const missing = chosen.filter((p) => !ids.includes(p))
    if (missing.length > 0) throw noSuchPartition(topic, missing, ids)
    let offsets: PartitionOffsets[]
    let byTime: Array<{partition: number; offset: string}> | undefined
    let committed: Array<{partition: number; offset: string}> = []
    try {
      offsets = await abortable(signal, () => a.fetchTopicOffsets(topic))
      if (group) {
        const c = await abortable(signal, () => a.fetchOffsets({groupId: group, topics: [topic]}))
        committed = c.find((x) => x.topic === topic)?.partitions ?? []
      }
      if (readOpts.from.kind === 'time') {
        const time = readOpts.from.time.getTime()
        byTime = await abortable(signal, () => a.fetchTopicOffsetsByTimestamp(topic, time))
      }
    } catch (err) {
      if (signal.aborted) throw interruption(signal)
      throw mapKafkaError(err, where(topic))
    }
    for (const p of chosen) {
      const o = offsets.find((x) => x.partition === p)
      const low = BigInt(o?.low ?? '0')
      const high = BigInt(o?.high ?? '0')
      // A consuming read goes on where its group stopped (Kafka says -1 where it never committed).
      const c = committed.find((x) => x.partition === p)?.offset
      const start =
        c !== undefined && c !== '-1'
          ? startOffset({kind: 'offset', offset: BigInt(c)}, low, high)
          : startOffset(readOpts.from, low, high, byTime?.find((x) => x.partition === p)?.offset)
      // A --until time already past: what is appended from now on is later still, so the
      // partition ends at today's end (the time check below may stop it sooner).
      const untilPassed = readOpts.until?.kind === 'time' && readOpts.until.time.getTime() <= Date.now()
      const stopAt = readOpts.until?.kind === 'end' || untilPassed ? high : undefined
      cursors.set(key(topic, p), {
        topic,
        partition: p,
        start,
        stopAt,
        next: start,
        done: stopAt !== undefined && start >= stopAt,
      })
    }
  }
  const active = () => [...cursors.values()].filter((c) => !c.done)
  if (active().length === 0) return

  const untilTime = readOpts.until?.kind === 'time' ? readOpts.until.time.getTime() : undefined
  // Small fetches and a short queue keep RSS flat; see FETCH. Each queued item is one
  // partition's part of one fetch.
  const queue = new AsyncQueue<Slice>(2)
  // One topic: the target's own URL; several: each envelope names its topic.
  const sourceOf = (topic: string) =>
    target_.topics.length === 1 && topics.length === 1 && topics[0] === target_.topics[0]
      ? target_.url
      : `kafka://${target_.brokers.join(',')}/${topic}`
  const fetcher = kafka.fetcher()
  const committer = group ? new GroupCommitter(fetcher, group, where, readOpts.emit ?? opts.emit) : undefined
  const onAbort = () => queue.close()
  signal.addEventListener('abort', onAbort, {once: true})
  /** --until <time> has come: each partition ends at its end now (what comes later is later). */
  const untilCame = async () => {
    try {
      for (const topic of topics) {
        for (const o of await a.fetchTopicOffsets(topic)) {
          const c = cursors.get(key(topic, o.partition))
          if (!c || c.done) continue
          const high = BigInt(o.high)
          if (c.stopAt === undefined || high < c.stopAt) c.stopAt = high
          // The fetch loop notices done partitions, and ends the read once none is left.
          if (c.next >= c.stopAt) c.done = true
        }
      }
    } catch (err) {
      queue.close(mapKafkaError(err, where(topics.join(','))))
    }
  }
  const timer =
    untilTime !== undefined && untilTime > Date.now()
      ? setTimeout(() => void untilCame(), untilTime - Date.now() + 1)
      : undefined

  const emit = readOpts.emit ?? opts.emit ?? (() => {})
  // Ends the fetching when the reader stops (--max, tail | head) as well as on Ctrl-C: a fetch
  // still on its way then fails as "Not connected", which must not be taken for a lost
  // connection to ride out (it reconnected, and kept the process alive with nobody reading).
  const stop = new AbortController()
  const reading = AbortSignal.any([signal, stop.signal])
  const fetchRiding = ridingFetch(ctx, fetcher, topics, reading, emit)

  /**
   * Fetches while the reader works: the next fetch is on its way (from the positions the last
   * one reached) while the records of the last one are handed over.
   */
  async function pump(): Promise<void> {
    const fetchActive = () => {
      const positions = active().map((c) => ({
        topic: c.topic,
        partition: c.partition,
        offset: String(c.next),
      }))
      return positions.length ? fetchRiding(positions) : undefined
    }
    let pending = fetchActive()
    while (pending) {
      const fetched = await pending
      if (reading.aborted) return
      const slices: Slice[] = []
      for (const f of fetched) {
        const c = cursors.get(key(f.topic, f.partition))
        if (!c || c.done) continue
        const messages = f.messages
        let to = messages.length
        // Offsets rise within a fetch: look at the last one before searching for the stop.
        if (c.stopAt !== undefined && to > 0 && BigInt(messages[to - 1]!.offset) >= c.stopAt) {
          to = 0
          while (to < messages.length && BigInt(messages[to]!.offset) < c.stopAt) to++
          c.done = true
        }
        if (untilTime !== undefined) {
          // --until is exclusive: a message stamped at the until time belongs to the next window.
          for (let i = 0; i < to; i++) {
            if (Number(messages[i]!.timestamp) >= untilTime) {
              to = i
              c.done = true
              break
            }
          }
        }
        const next = BigInt(f.nextOffset)
        if (next > c.next) c.next = next
        if (c.stopAt !== undefined && c.next >= c.stopAt) c.done = true
        if (to > 0)
          slices.push({
            source: sourceOf(f.topic),
            topic: f.topic,
            partition: f.partition,
            messages,
            count: to,
          })
      }
      pending = fetchActive()
      for (const slice of slices) await queue.push(slice)
    }
    queue.close()
  }

  try {
    try {
      await abortable(signal, () => fetcher.connect(topics))
    } catch (err) {
      if (signal.aborted) throw interruption(signal)
      throw mapKafkaError(err, where(topics.join(',')))
    }
    pump().catch((err) =>
      queue.close(reading.aborted ? undefined : mapKafkaError(err, where(topics.join(',')))),
    )
    for await (const slice of queue) {
      if (signal.aborted) return
      yield deliveries(slice, committer, readOpts.forCopy === true)
    }
  } finally {
    stop.abort()
    signal.removeEventListener('abort', onAbort)
    clearTimeout(timer)
    queue.close()
    const close = async () => {
      // Acks given before the reader stopped are committed before the connection goes (bounded:
      // on Ctrl-C with Kafka gone, the acks still waiting are rejected instead).
      if (committer) {
        await committer.drainWithin(DRAIN_MS)
        emit(info('CONSUMED', `Committed ${committer.committed} message(s) for group "${group}".`))
      }
      // Ctrl-C: a fetch to a frozen broker would hold a clean disconnect for its whole time-out.
      if (signal.aborted) kafka.destroy?.()
      await fetcher.disconnect().catch(() => {})
    }
    // A reader that acks after the read has ended (replay): the read ends now, and the connection
    // stays to commit those acks until the reader says it is done.
    if (committer && readOpts.acksUntil) void readOpts.acksUntil.then(close, close)
    else await close()
  }
}

/** Where a partition read starts, clamped to [low, high]. */
export function startOffset(from: StartPosition, low: bigint, high: bigint, byTime?: string): bigint {
  const clamp = (o: bigint) => (o < low ? low : o > high ? high : o)
  switch (from.kind) {
    case 'beginning':
      return low
    case 'end':
      return high
    case 'offset':
      return clamp(from.offset)
    case 'last':
      return clamp(high - BigInt(from.count))
    case 'time':
      // Kafka answers -1 when no message is at or after the time: start at the end.
      return byTime === undefined || byTime === '-1' ? high : clamp(BigInt(byTime))
  }
}
