import {randomInt} from 'node:crypto'
import pRetry from 'p-retry'
import type {Target} from '../../config/targets.js'
import type {Envelope} from '../../envelope/envelope.js'
import {InterruptedError, NotFoundError, UnreachableError, UsageError} from '../../errors.js'
import {AsyncQueue} from '../../util/async-queue.js'
import {batches} from '../../util/batch.js'
import type {
  AdapterOptions,
  BrokerAdapter,
  Delivery,
  GroupLag,
  LagAware,
  PublishFailure,
  PublishOptions,
  PublishReport,
  ReadOptions,
  StartPosition,
} from '../types.js'
import {toEnvelope, toKafkaMessage} from './codec.js'
import {kafkaConnection, RECONNECT_TIMEOUT_MS} from './connection.js'
import {createKafkaPort} from './default-port.js'
import {mapKafkaError} from './errors.js'
import type {
  KafkaAdminPort,
  KafkaFetchedPartition,
  KafkaMessageIn,
  KafkaMessageOut,
  KafkaPort,
  PartitionOffsets,
} from './port.js'
import {TimestampSpan} from './timestamp-span.js'

type KafkaTarget = Extract<Target, {kind: 'kafka'}>

/**
 * Prefix of the throw-away consumer groups that earlier builds of tail used (it now joins no group
 * at all); lag still leaves such groups out.
 */
export const TAIL_GROUP_PREFIX = 'evtctl-tail-'

/**
 * Messages per produce request. One request in flight at a time keeps order within a partition
 * even when a request is retried. Measured here (1M × 200 B): 500 was fastest; 2,000–5,000 were
 * slower and used more memory.
 */
const CHUNK = 500

const noop = async () => {}

/**
 * Fetch sizes for tail. Measured (1M × 200 B, 3 partitions, one broker): 128 KiB per partition /
 * 384 KiB per fetch keeps peak RSS ~135 MB; 256 KiB / 1 MiB was ~4% faster at ~148 MB; 4–32 MB
 * fetches were no faster and used twice the memory. A fetch waits at most 100 ms for new data, so
 * a follow shows a new message within ~0.1 s and notices Ctrl-C as fast.
 */
const FETCH = {maxWaitMs: 100, maxBytes: 384 * 1024, maxBytesPerPartition: 128 * 1024}

/** What one fetch brought for one partition that the read wants: its first `count` messages. */
interface Slice {
  source: string
  partition: number
  messages: KafkaMessageIn[]
  count: number
}

/** Envelopes are made as the reader takes them, so they die young (cheap for the GC). */
function* deliveries(s: Slice): Generator<Delivery> {
  for (let i = 0; i < s.count; i++) {
    yield {envelope: toEnvelope(s.source, s.partition, s.messages[i]!), ack: noop, release: noop}
  }
}

/**
 * Kafka on kafkajs, behind ./port.ts.
 * - Reads join no consumer group and commit nothing: Fetch requests go straight to the partition
 *   leaders (port.fetcher(), as kcat's assign), from offsets the adapter works out itself.
 * - Topics are never created: allowAutoTopicCreation is off and the topic is looked up first.
 * - Publishing uses the Java client's murmur2 partitioner for keyed messages, and round-robin from
 *   a random partition for keyless ones.
 */
export function createKafkaAdapter(
  target: Target,
  opts: AdapterOptions = {},
  port?: KafkaPort,
): BrokerAdapter & LagAware {
  const t = asKafka(target)
  const conn = port ? undefined : kafkaConnection(t, opts)
  const kafka = port ?? createKafkaPort(conn!)
  const reconnectMs = conn?.reconnectTimeoutMs ?? RECONNECT_TIMEOUT_MS
  let admin: KafkaAdminPort | undefined
  const where = (topic?: string) => ({brokers: t.brokers, topic})

  /**
   * `work`, or the signal's reason (exit 130) as soon as Ctrl-C/SIGTERM comes: the connections
   * are dropped then, so no pending call (a silent or frozen broker) keeps the process.
   */
  function abortable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    if (signal.aborted) return Promise.reject(interruption(signal))
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        kafka.destroy?.()
        reject(interruption(signal))
      }
      signal.addEventListener('abort', onAbort, {once: true})
      work()
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  async function getAdmin(): Promise<KafkaAdminPort> {
    if (admin) return admin
    const a = kafka.admin()
    try {
      await a.connect()
    } catch (err) {
      // A failed connect (e.g. no OAUTHBEARER token) leaves its socket open, which kept the
      // process alive until the broker closed it (600 s): close it before reporting.
      await a.disconnect().catch(() => {})
      throw mapKafkaError(err, where())
    }
    admin = a
    return a
  }

  /**
   * The topics a read names: as given, with each `^…` one (a regular expression, librdkafka's
   * convention) replaced by the existing topics it matches, internal ones (`__…`) left out.
   * NotFoundError (exit 5) when a pattern matches nothing.
   */
  async function expandTopics(topics: string[]): Promise<string[]> {
    if (!topics.some((t) => t.startsWith('^'))) return topics
    let existing: string[]
    try {
      existing = (await (await getAdmin()).listTopics()).filter((name) => !name.startsWith('__')).sort()
    } catch (err) {
      throw mapKafkaError(err, where())
    }
    const out = new Set<string>()
    for (const topic of topics) {
      if (!topic.startsWith('^')) {
        out.add(topic)
        continue
      }
      let re: RegExp
      try {
        re = new RegExp(topic)
      } catch (err) {
        throw new UsageError(
          `"${topic}" is not a valid regular expression: ${(err as Error).message}.`,
          'Topics that start with ^ are patterns, e.g. kafka://host:9092/^orders\\..*',
        )
      }
      const matched = existing.filter((name) => re.test(name))
      if (matched.length === 0) {
        throw new NotFoundError(
          `No topic on ${t.brokers.join(',')} matches ${topic}.`,
          'Check the pattern; list topics with kafka-topics.sh --list.',
        )
      }
      for (const m of matched) out.add(m)
    }
    return [...out]
  }

  /** Partition ids per topic; NotFoundError (exit 5) for a missing topic, which is not created. */
  async function partitionsOf(topics: string[]): Promise<Map<string, number[]>> {
    const a = await getAdmin()
    const out = new Map<string, number[]>()
    for (const topic of topics) {
      try {
        const meta = await a.fetchTopicMetadata({topics: [topic]})
        const parts = meta.topics[0]?.partitions.map((p) => p.partitionId).sort((x, y) => x - y) ?? []
        if (parts.length === 0)
          throw Object.assign(new Error('unknown topic'), {type: 'UNKNOWN_TOPIC_OR_PARTITION'})
        out.set(topic, parts)
      } catch (err) {
        throw mapKafkaError(err, where(topic))
      }
    }
    return out
  }

  return {
    kind: 'kafka',
    read: async function* (target_, readOpts, signal) {
      for await (const batch of readBatches(asKafka(target_), readOpts, signal)) yield* batch
    },
    readBatches: (target_, readOpts, signal) => readBatches(asKafka(target_), readOpts, signal),
    publish: (target_, events, publishOpts) => publish(asKafka(target_), events, publishOpts),
    lag: (target_, group) => lag(asKafka(target_), group),
    close: async () => {
      const a = admin
      admin = undefined
      await a?.disconnect().catch(() => {})
    },
  }

  async function* readBatches(
    target_: KafkaTarget,
    readOpts: ReadOptions,
    signal: AbortSignal,
  ): AsyncGenerator<Iterable<Delivery>> {
    const topics = await abortable(signal, () => expandTopics(target_.topics))
    const parts = await abortable(signal, () => partitionsOf(topics))
    const a = await getAdmin()
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
      try {
        offsets = await abortable(signal, () => a.fetchTopicOffsets(topic))
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
        const start = startOffset(readOpts.from, low, high, byTime?.find((x) => x.partition === p)?.offset)
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

    const notice = readOpts.notice ?? opts.warn ?? (() => {})
    const brokerList = target_.brokers.join(',')
    /**
     * One fetch. When the connection is lost (a broker restarts, a leader moves), reconnects with
     * backoff (p-retry: 0.25 s doubling to 5 s) and fetches again from the same positions, so
     * nothing is skipped or repeated; after `reconnectMs` without success, exit 4.
     */
    const fetchRiding = async (
      positions: Array<{topic: string; partition: number; offset: string}>,
    ): Promise<KafkaFetchedPartition[]> => {
      let lostAt: number | undefined
      let last: unknown
      try {
        const fetched = await pRetry(
          async () => {
            if (lostAt !== undefined) {
              await fetcher.disconnect().catch(() => {})
              await fetcher.connect(topics)
            }
            return await fetcher.fetch(positions, FETCH)
          },
          {
            retries: Number.POSITIVE_INFINITY,
            factor: 2,
            minTimeout: 250,
            maxTimeout: 5_000,
            maxRetryTime: reconnectMs,
            signal,
            shouldRetry: ({error}) => !signal.aborted && reconnectMs > 0 && connectionLost(error),
            onFailedAttempt: ({error}) => {
              last = error
              if (lostAt !== undefined || signal.aborted || reconnectMs === 0 || !connectionLost(error))
                return
              lostAt = Date.now()
              notice(`Kafka connection lost (${reason(error)}); retrying for up to ${seconds(reconnectMs)}…`)
            },
          },
        )
        if (lostAt !== undefined)
          notice(`Kafka reconnected after ${seconds(Date.now() - lostAt)}; reading on where it stopped.`)
        return fetched
      } catch (err) {
        if (lostAt === undefined || signal.aborted) throw err
        throw new UnreachableError(
          `Lost the connection to Kafka at ${brokerList} and could not reconnect within ${seconds(reconnectMs)}: ${reason(last ?? err)}.`,
          'Check that the brokers are up; reconnect-timeout-ms in the context sets how long a read waits (see "Kafka" in the README).',
          'BROKER_UNREACHABLE',
          {cause: err},
        )
      }
    }
    /** A connection error, time-out or a retriable Kafka error (leader not available, …). */
    const connectionLost = (err: unknown) =>
      (err as {retriable?: boolean}).retriable === true ||
      mapKafkaError(err, where()) instanceof UnreachableError
    /** What went wrong, without the "Cannot reach Kafka at …:" that the notice says already. */
    const reason = (err: unknown) =>
      mapKafkaError(err, where())
        .message.replace(`Cannot reach Kafka at ${brokerList}: `, '')
        .replace(/\.$/, '')

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
        if (signal.aborted) return
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
          if (to > 0) slices.push({source: sourceOf(f.topic), partition: f.partition, messages, count: to})
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
        queue.close(signal.aborted ? undefined : mapKafkaError(err, where(topics.join(',')))),
      )
      for await (const slice of queue) {
        if (signal.aborted) return
        yield deliveries(slice)
      }
    } finally {
      signal.removeEventListener('abort', onAbort)
      clearTimeout(timer)
      queue.close()
      // Ctrl-C: a fetch to a frozen broker would hold a clean disconnect for its whole time-out.
      if (signal.aborted) kafka.destroy?.()
      await fetcher.disconnect().catch(() => {})
    }
  }

  async function publish(
    target_: KafkaTarget,
    events: AsyncIterable<Envelope>,
    publishOpts: PublishOptions,
  ): Promise<PublishReport> {
    if (target_.topics.length !== 1 || target_.topics[0]!.startsWith('^')) {
      throw new UsageError(
        `Publish to one topic at a time (got ${target_.topics.join(', ')}).`,
        'Give a single topic.',
      )
    }
    const topic = target_.topics[0]!
    const signal = publishOpts.signal
    const parts = (await abortable(signal, () => partitionsOf([topic]))).get(topic)!
    if (publishOpts.partition !== undefined && !parts.includes(publishOpts.partition)) {
      throw noSuchPartition(topic, [publishOpts.partition], parts)
    }
    const maxBytes = await abortable(signal, () => maxMessageBytes(topic))
    const producer = kafka.producer({idempotent: Boolean(publishOpts.idempotent)})
    try {
      await abortable(signal, () => producer.connect())
    } catch (err) {
      const closing = producer.disconnect().catch(() => {})
      if (signal.aborted) throw interruption(signal)
      await closing
      throw mapKafkaError(err, where(topic))
    }
    const failed: PublishFailure[] = []
    let sent = 0
    let index = 0
    // Keyless messages go round-robin over the partitions, from a random start per run: spread
    // evenly within a publish, and runs of one message each do not all pile onto partition 0.
    let roundRobin = randomInt(parts.length)
    let inFlight: Promise<void> | undefined
    try {
      const sendChunk = async (messages: KafkaMessageOut[], indexes: number[]) => {
        let failures: Array<{position: number; error: unknown}>
        try {
          failures = (
            await producer.send({
              topic,
              messages,
              acks: publishOpts.acks ?? -1,
              compression: publishOpts.compression ?? 'none',
            })
          ).failed
        } catch (error) {
          failures = messages.map((_, position) => ({position, error}))
        }
        // Only the messages of the partition batches that failed: the others are at the broker,
        // and a retry of the failed list must not send them twice.
        const failedAt = new Set<number>()
        for (const f of failures) {
          const error = mapKafkaError(f.error, where(topic)).message
          failed.push({index: indexes[f.position]!, error})
          failedAt.add(f.position)
          publishOpts.onSettled?.(indexes[f.position]!, {status: 'failed', error})
        }
        if (publishOpts.onSettled) {
          for (let pos = 0; pos < messages.length; pos++) {
            if (failedAt.has(pos)) continue
            const partition = messages[pos]!.partition
            publishOpts.onSettled(indexes[pos]!, {
              status: 'sent',
              ...(partition !== undefined ? {partition} : {}),
            })
          }
        }
        sent += messages.length - failures.length
        publishOpts.onProgress?.(sent)
      }
      let messages: KafkaMessageOut[] = []
      let indexes: number[] = []
      /** Upper bound of the chunk's bytes: a partition's batch of it never exceeds maxBytes. */
      let chunkBytes = BATCH_OVERHEAD
      const span = new TimestampSpan()
      const flush = async () => {
        if (messages.length === 0) return
        // One request in flight (order within a partition, also on retries), but the next
        // chunk is read and encoded while this one travels.
        await inFlight
        inFlight = sendChunk(messages, indexes)
        messages = []
        indexes = []
        chunkBytes = BATCH_OVERHEAD
        span.reset()
      }
      for await (const batch of batches(events, {maxItems: CHUNK, maxWaitMs: 20})) {
        if (publishOpts.signal.aborted) break
        for (const env of batch) {
          const i = index++
          const message = toKafkaMessage(env)
          if (publishOpts.partition !== undefined) message.partition = publishOpts.partition
          else if (publishOpts.keepPartitions && env.partition !== undefined) {
            if (!parts.includes(env.partition)) {
              const error = `partition ${env.partition} does not exist in "${topic}" (${parts.length} partitions)`
              failed.push({index: i, error})
              publishOpts.onSettled?.(i, {status: 'failed', error})
              continue
            }
            message.partition = env.partition
          } else if (message.key == null) message.partition = parts[roundRobin++ % parts.length]!
          // A request spans at most ~24.8 days of timestamps (see timestamp-span.ts): the
          // producer's encoder corrupts wider ones. Messages without one are stamped now, here.
          message.timestamp ??= BigInt(Date.now())
          // The broker refuses a partition's batch over the topic's max.message.bytes, and with it
          // every message in it. A message too large alone is refused here, never sent (with
          // compression the broker judges the compressed size: it goes alone, so only it can fail).
          const bytes = recordBytes(message)
          const compressed = (publishOpts.compression ?? 'none') !== 'none'
          const alone = BATCH_OVERHEAD + loneRecordBytes(bytes)
          if (alone > maxBytes && !compressed) {
            const error = `message is ${alone} bytes as a record batch, over the topic's max.message.bytes (${maxBytes}); not sent`
            failed.push({index: i, error})
            publishOpts.onSettled?.(i, {status: 'failed', error})
            continue
          }
          if (!span.fits(message.timestamp) || chunkBytes + bytes > maxBytes) await flush()
          span.add(message.timestamp)
          chunkBytes += bytes
          messages.push(message)
          indexes.push(i)
        }
        await flush()
      }
    } finally {
      // Also when the input failed: what is on its way is confirmed (and counted) before leaving.
      await inFlight
      await producer.disconnect().catch(() => {})
    }
    return {sent, failed}
  }

  /**
   * The topic's max.message.bytes (the largest record batch its partitions take). Without the
   * DescribeConfigs permission, the broker default (1 MiB + 12).
   */
  async function maxMessageBytes(topic: string): Promise<number> {
    try {
      const r = await (await getAdmin()).describeConfigs({
        resources: [{type: 2, name: topic, configNames: ['max.message.bytes']}],
        includeSynonyms: false,
      })
      const v = r.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue
      const n = Number(v)
      return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_MAX_MESSAGE_BYTES
    } catch {
      return DEFAULT_MAX_MESSAGE_BYTES
    }
  }

  /**
   * The timestamp of the message at each (partition, offset), read with group-less fetches (no
   * group is joined or created). Missing ones (deleted by retention, 5 s passed) are left out.
   */
  async function timestampsAt(
    topic: string,
    wanted: Array<{partition: number; offset: bigint}>,
  ): Promise<Map<number, string>> {
    const found = new Map<number, string>()
    if (wanted.length === 0) return found
    const fetcher = kafka.fetcher()
    // Where to fetch next, per partition still looked for.
    const at = new Map(wanted.map((w) => [w.partition, w.offset]))
    const want = new Map(at)
    const deadline = Date.now() + 5_000
    try {
      await fetcher.connect([topic])
      while (at.size > 0 && Date.now() < deadline) {
        let fetched: KafkaFetchedPartition[]
        try {
          fetched = await fetcher.fetch(
            [...at].map(([partition, offset]) => ({topic, partition, offset: String(offset)})),
            {maxWaitMs: 100, maxBytes: 1024 * 1024, maxBytesPerPartition: 64 * 1024},
          )
        } catch (err) {
          // Retention deleted a message meanwhile: leave out what was not found.
          if ((err as {type?: string}).type === 'OFFSET_OUT_OF_RANGE') break
          throw err
        }
        for (const f of fetched) {
          const m = f.messages.find((x) => BigInt(x.offset) >= want.get(f.partition)!)
          const next = BigInt(f.nextOffset)
          if (m) {
            found.set(f.partition, new Date(Number(m.timestamp)).toISOString())
            at.delete(f.partition)
          } else if (next > at.get(f.partition)!) at.set(f.partition, next)
          else at.delete(f.partition) // nothing there (any more)
        }
      }
    } finally {
      await fetcher.disconnect().catch(() => {})
    }
    return found
  }

  /**
   * Committed offsets of consumer groups against the log-end offsets, read with the admin API
   * only: never joins the group it measures (that would rebalance its consumers).
   */
  async function lag(target_: KafkaTarget, group?: string): Promise<GroupLag[]> {
    const parts = await partitionsOf(await expandTopics(target_.topics))
    const a = await getAdmin()
    try {
      const groups = group
        ? [group]
        : (await a.listGroups()).groups
            .map((g) => g.groupId)
            .filter((g) => !g.startsWith(TAIL_GROUP_PREFIX))
            .sort()
      const rows: GroupLag[] = []
      for (const topic of parts.keys()) {
        const ends = (await a.fetchTopicOffsets(topic)).sort((x, y) => x.partition - y.partition)
        // Timestamp of the latest message per partition (offset high − 1), read once per topic.
        const latest = await timestampsAt(
          topic,
          ends
            .filter((e) => BigInt(e.high) > BigInt(e.low))
            .map((e) => ({partition: e.partition, offset: BigInt(e.high) - 1n})),
        )
        for (const g of groups) {
          const committed = (await a.fetchOffsets({groupId: g, topics: [topic]}))[0]?.partitions ?? []
          // Without a group name, only groups that committed on this topic are listed.
          if (!group && committed.every((p) => p.offset === '-1')) continue
          // Timestamp of the last message the group committed past (committed − 1).
          const lastCommitted = await timestampsAt(
            topic,
            committed
              .filter((p) => p.offset !== '-1' && BigInt(p.offset) > 0n)
              .map((p) => ({partition: p.partition, offset: BigInt(p.offset) - 1n})),
          )
          for (const end of ends) {
            const c = committed.find((p) => p.partition === end.partition)?.offset
            const has = c !== undefined && c !== '-1'
            const committedTs = lastCommitted.get(end.partition)
            const latestTs = latest.get(end.partition)
            rows.push({
              group: g,
              topic,
              partition: end.partition,
              end: end.high,
              ...(has ? {committed: c, lag: String(BigInt(end.high) - BigInt(c))} : {}),
              ...(committedTs ? {committedTimestamp: committedTs} : {}),
              ...(latestTs ? {latestTimestamp: latestTs} : {}),
            })
          }
        }
      }
      return rows
    } catch (err) {
      throw mapKafkaError(err, where(target_.topics.join(',')))
    }
  }
}

/** Kafka's default message.max.bytes / max.message.bytes: 1 MiB + 12. */
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588

/** A record batch's header (v2, magic 2). */
const BATCH_OVERHEAD = 61

/**
 * At most the bytes `m` takes as a record in a v2 batch: its fields plus the largest varints
 * (5 bytes each) for the length, timestamp delta and offset delta.
 */
export function recordBytes(m: KafkaMessageOut): number {
  let n = 1 + 5 + 5 + 5 // attributes, length, timestamp delta, offset delta
  n += varintBytes(m.key ? m.key.length : -1) + (m.key?.length ?? 0)
  n += varintBytes(m.value ? m.value.length : -1) + (m.value?.length ?? 0)
  n += varintBytes(m.headers?.length ?? 0)
  for (const [name, value] of m.headers ?? []) {
    const k = Buffer.byteLength(name)
    n += varintBytes(k) + k + varintBytes(value ? value.length : -1) + (value?.length ?? 0)
  }
  return n
}

/** The exact bytes of a record alone in its batch (deltas 0), from its recordBytes bound. */
function loneRecordBytes(bound: number): number {
  const body = bound - 13
  return body + varintBytes(body)
}

/** Bytes of a zigzag varint. */
function varintBytes(v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1
  let n = 1
  while (z >= 128) {
    z = Math.floor(z / 128)
    n++
  }
  return n
}

function noSuchPartition(topic: string, missing: number[], ids: number[]): NotFoundError {
  return new NotFoundError(
    `Topic "${topic}" has no partition ${missing.join(', ')} (it has ${ids.length}: ${ids[0]}–${ids[ids.length - 1]}).`,
    'Drop --partition (publish then places messages by key), or choose one that exists.',
  )
}

/** Why the work stopped: the signal's reason (InterruptedError from the command), exit 130. */
function interruption(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError()
}

function asKafka(target: Target): KafkaTarget {
  if (target.kind !== 'kafka') throw new Error(`kafka adapter got a ${target.kind} target`)
  return target
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

/** 60000 → "60 s", 1234 → "1.2 s". */
function seconds(ms: number): string {
  return `${ms >= 10_000 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10} s`
}
