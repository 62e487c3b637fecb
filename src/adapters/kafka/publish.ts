import {randomInt} from 'node:crypto'
import type {Envelope} from '../../envelope/envelope.js'
import {UsageError} from '../../errors.js'
import {batches} from '../../util/batch.js'
import type {BatchSender, PublishFailure, PublishOptions, PublishOutcome, PublishReport} from '../types.js'
import {ReadMessage, readTimestamp, toKafkaMessage} from './codec.js'
import {interruption, type KafkaContext, type KafkaTarget, noSuchPartition} from './context.js'
import {mapKafkaError} from './errors.js'
import type {KafkaMessageIn, KafkaMessageOut, KafkaProducerPort} from './port.js'
import type {RawTail} from './raw-batch.js'
import {KafkaDelivery} from './read.js'
import {BATCH_OVERHEAD, DEFAULT_MAX_MESSAGE_BYTES, loneRecordBytes, recordBytes} from './record-size.js'
import {TimestampSpan} from './timestamp-span.js'

/**
 * Messages per produce request. One request in flight at a time keeps order within a partition
 * even when a request is retried. Measured here (1M × 200 B): 500 was fastest; 2,000–5,000 were
 * slower and used more memory.
 */
const CHUNK = 500

/**
 * Publishing: the Java client's murmur2 partitioner for keyed messages, round-robin from a random
 * partition for keyless ones. Topics are never created (the topic is looked up first).
 */
export async function publish(
  ctx: KafkaContext,
  target_: KafkaTarget,
  events: AsyncIterable<Envelope>,
  publishOpts: PublishOptions,
): Promise<PublishReport> {
  const sender = await openTopicSender(ctx, target_, publishOpts, publishOpts.onSettled)
  let index = 0
  try {
    for await (const batch of batches(events, {maxItems: CHUNK, maxWaitMs: 20})) {
      if (publishOpts.signal.aborted) break
      await sender.sendAll(batch, index)
      index += batch.length
    }
  } finally {
    // Also when the input failed: what is on its way is confirmed (and counted) before leaving.
    await sender.close()
  }
  return {sent: sender.sent, failed: sender.failed}
}

/**
 * A producer kept open to one topic, sent to batch by batch (replay): each batch is sent in
 * order and answered with each message's outcome, without the per-message queueing of a stream.
 */
export async function openSender(
  ctx: KafkaContext,
  target_: KafkaTarget,
  opts: Omit<PublishOptions, 'onSettled' | 'onProgress'>,
): Promise<BatchSender> {
  let outcomes: PublishOutcome[] = []
  let base = 0
  const sender = await openTopicSender(ctx, target_, opts, (i, o) => {
    outcomes[i - base] = o
  })
  /** Sends `count` messages with `sendAll` (from the sender's next index) and gives each one's outcome. */
  const settle = async (count: number, sendAll: (first: number) => Promise<void>) => {
    outcomes = new Array(count)
    base = sender.taken
    await sendAll(base)
    await sender.settled()
    for (let i = 0; i < outcomes.length; i++)
      outcomes[i] ??= {status: 'failed', error: 'no answer from the destination'}
    return outcomes
  }
  return {
    send: (envs) => settle(envs.length, (first) => sender.sendAll(envs, first)),
    async sendAsRead(reads, how) {
      if (!reads.every((r) => r instanceof KafkaDelivery)) return undefined
      const kafkaReads = reads as KafkaDelivery[]
      return settle(reads.length, (first) =>
        sender.sendAllRead(kafkaReads, first, how.newTimestamps === true),
      )
    },
    close: () => sender.close(),
  }
}

/** Looks the topic up, connects a producer, and returns what sends to it. */
async function openTopicSender(
  ctx: KafkaContext,
  target_: KafkaTarget,
  publishOpts: Omit<PublishOptions, 'onSettled'>,
  onSettled: PublishOptions['onSettled'],
): Promise<TopicSender> {
  const {abortable, where} = ctx
  if (target_.topics.length !== 1 || target_.topics[0]!.startsWith('^')) {
    throw new UsageError(
      `Publish to one topic at a time (got ${target_.topics.join(', ')}).`,
      'Give a single topic.',
    )
  }
  const topic = target_.topics[0]!
  const signal = publishOpts.signal
  const parts = (await abortable(signal, () => ctx.partitionsOf([topic]))).get(topic)!
  if (publishOpts.partition !== undefined && !parts.includes(publishOpts.partition)) {
    throw noSuchPartition(topic, [publishOpts.partition], parts)
  }
  const maxBytes = await abortable(signal, () => maxMessageBytes(ctx, topic))
  const producer = ctx.port.producer({idempotent: Boolean(publishOpts.idempotent)})
  try {
    await abortable(signal, () => producer.connect())
  } catch (err) {
    const closing = producer.disconnect().catch(() => {})
    if (signal.aborted) throw interruption(signal)
    await closing
    throw mapKafkaError(err, where(topic))
  }
  return new TopicSender(topic, parts, maxBytes, producer, {...publishOpts, onSettled}, where)
}

/**
 * Sends to one topic, one produce request in flight at a time (order within a partition, also on
 * retries) while the next chunk is encoded. Every message passes the same checks first: a partition
 * that exists, a size the topic takes, a request's timestamp span.
 */
class TopicSender {
  sent = 0
  readonly failed: PublishFailure[] = []
  /** Messages taken so far (the next one's index). */
  taken = 0
  // Keyless messages go round-robin over the partitions, from a random start per run: spread
  // evenly within a publish, and runs of one message each do not all pile onto partition 0.
  #roundRobin: number
  #inFlight: Promise<void> | undefined
  #messages: KafkaMessageOut[] = []
  #indexes: number[] = []
  /** Upper bound of the chunk's bytes: a partition's batch of it never exceeds maxBytes. */
  #chunkBytes = BATCH_OVERHEAD
  readonly #span = new TimestampSpan()

  constructor(
    readonly topic: string,
    private readonly parts: number[],
    private readonly maxBytes: number,
    private readonly producer: KafkaProducerPort,
    private readonly opts: Omit<PublishOptions, 'signal'>,
    private readonly where: KafkaContext['where'],
  ) {
    this.#roundRobin = randomInt(parts.length)
  }

  /** Sends `envs` (indexes from `first`), ending with a request of its own for the last chunk. */
  async sendAll(envs: Iterable<Envelope>, first: number): Promise<void> {
    // One clock reading per batch (a BigInt per message cost GC time at a million).
    const now = BigInt(Date.now())
    let i = first
    for (const env of envs) {
      const waiting = this.#add(toKafkaMessage(env), env.partition, i++, now)
      if (waiting) await waiting
    }
    this.taken = i
    await this.#flush()
  }

  /**
   * Sends records read from another topic as they were read (what sendAll would send of their
   * unchanged envelopes, without making them): their own timestamps, or the time now.
   */
  async sendAllRead(reads: readonly KafkaDelivery[], first: number, newTimestamps: boolean): Promise<void> {
    const now = BigInt(Date.now())
    let i = first
    // By index: for…of in an async function made an iterator result per message.
    for (let k = 0; k < reads.length; k++) {
      const d = reads[k]!
      const m = d.record as KafkaMessageIn & RawTail
      const ts = newTimestamps ? undefined : readTimestamp(m.timestamp)
      const unfit = unfitRead(m, ts)
      const waiting = unfit ? this.#refuse(i, unfit) : this.#add(new ReadMessage(m, ts), d.partition, i, now)
      i++
      if (waiting) await waiting
    }
    this.taken = i
    await this.#flush()
  }

  /** Resolves once every message handed in so far has its answer. */
  async settled(): Promise<void> {
    await this.#inFlight
  }

  async close(): Promise<void> {
    await this.#inFlight
    await this.producer.disconnect().catch(() => {})
  }

  /**
   * Adds message i (read from `sourcePartition`, if it was) to the chunk; returns a promise only
   * when the chunk had to be sent first.
   */
  #add(
    message: KafkaMessageOut,
    sourcePartition: number | undefined,
    i: number,
    now: bigint,
  ): Promise<void> | undefined {
    const {topic, parts, opts} = this
    if (opts.partition !== undefined) message.partition = opts.partition
    else if (opts.keepPartitions && sourcePartition !== undefined) {
      if (!parts.includes(sourcePartition)) {
        return this.#refuse(
          i,
          `partition ${sourcePartition} does not exist in "${topic}" (${parts.length} partitions)`,
        )
      }
      message.partition = sourcePartition
    } else if (message.key == null) message.partition = parts[this.#roundRobin++ % parts.length]!
    // A request spans at most ~24.8 days of timestamps (see timestamp-span.ts): the
    // producer's encoder corrupts wider ones. Messages without one are stamped now, here.
    message.timestamp ??= now
    // The broker refuses a partition's batch over the topic's max.message.bytes, and with it
    // every message in it. A message too large alone is refused here, never sent (with
    // compression the broker judges the compressed size: it goes alone, so only it can fail).
    const bytes = recordBytes(message)
    const compressed = (opts.compression ?? 'none') !== 'none'
    const alone = BATCH_OVERHEAD + loneRecordBytes(bytes)
    if (alone > this.maxBytes && !compressed) {
      return this.#refuse(
        i,
        `message is ${alone} bytes as a record batch, over the topic's max.message.bytes (${this.maxBytes}); not sent`,
      )
    }
    if (!this.#span.fits(message.timestamp) || this.#chunkBytes + bytes > this.maxBytes)
      return this.#flush().then(() => this.#push(message, i, bytes))
    this.#push(message, i, bytes)
    return undefined
  }

  #refuse(index: number, error: string): undefined {
    this.failed.push({index, error})
    this.opts.onSettled?.(index, {status: 'failed', error})
    return undefined
  }

  #push(message: KafkaMessageOut, index: number, bytes: number): void {
    this.#span.add(message.timestamp!)
    this.#chunkBytes += bytes
    this.#messages.push(message)
    this.#indexes.push(index)
  }

  async #flush(): Promise<void> {
    if (this.#messages.length === 0) return
    const messages = this.#messages
    const indexes = this.#indexes
    this.#messages = []
    this.#indexes = []
    this.#chunkBytes = BATCH_OVERHEAD
    this.#span.reset()
    // One request in flight (order within a partition, also on retries), but the next
    // chunk is read and encoded while this one travels.
    await this.#inFlight
    this.#inFlight = this.#sendChunk(messages, indexes)
  }

  async #sendChunk(messages: KafkaMessageOut[], indexes: number[]): Promise<void> {
    const {topic, opts} = this
    let failures: Array<{position: number; error: unknown}>
    try {
      failures = (
        await this.producer.send({
          topic,
          messages,
          acks: opts.acks ?? -1,
          compression: opts.compression ?? 'none',
        })
      ).failed
    } catch (error) {
      failures = messages.map((_, position) => ({position, error}))
    }
    // Only the messages of the partition batches that failed: the others are at the broker,
    // and a retry of the failed list must not send them twice.
    const failedAt = failures.length ? new Set<number>() : undefined
    for (const f of failures) {
      const error = mapKafkaError(f.error, this.where(topic)).message
      this.failed.push({index: indexes[f.position]!, error})
      failedAt!.add(f.position)
      opts.onSettled?.(indexes[f.position]!, {status: 'failed', error})
    }
    if (opts.onSettled) {
      for (let pos = 0; pos < messages.length; pos++) {
        if (failedAt?.has(pos)) continue
        opts.onSettled(indexes[pos]!, sentOutcome(messages[pos]!.partition))
      }
    }
    this.sent += messages.length - failures.length
    opts.onProgress?.(this.sent)
  }
}

/** Beyond this (ms), a timestamp is no longer an exact number, nor a date. */
const MAX_TIMESTAMP = 8_640_000_000_000_000n

/**
 * Why a record read from another topic cannot be written as it was read, if it cannot: its
 * fields run past its end (a corrupt record), or its timestamp is out of range (microseconds or
 * nanoseconds written as milliseconds by its producer), which would not be copied exactly.
 */
function unfitRead(m: KafkaMessageIn & RawTail, timestamp: bigint | undefined): string | undefined {
  if (timestamp !== undefined && (timestamp > MAX_TIMESTAMP || timestamp < -MAX_TIMESTAMP))
    return `its timestamp ${timestamp} is not a date in milliseconds; not copied (--new-timestamps gives copies the time of the replay)`
  try {
    void m.rawEnd
  } catch (err) {
    return `its bytes are malformed (${(err as Error).message}); not copied`
  }
  return undefined
}

/**
 * The topic's max.message.bytes (the largest record batch its partitions take). Without the
 * DescribeConfigs permission, the broker default (1 MiB + 12).
 */
async function maxMessageBytes(ctx: KafkaContext, topic: string): Promise<number> {
  try {
    const r = await (await ctx.getAdmin()).describeConfigs({
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
 * The outcome of a message sent (to `partition`, when the adapter chose it): one shared, frozen
 * object per partition, not one per message (a million publishes made a million of them).
 */
const SENT = new Map<number | undefined, PublishOutcome>()
function sentOutcome(partition: number | undefined): PublishOutcome {
  let o = SENT.get(partition)
  if (!o) {
    o = Object.freeze(partition === undefined ? {status: 'sent'} : {status: 'sent', partition})
    SENT.set(partition, o)
  }
  return o
}
