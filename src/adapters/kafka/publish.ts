import {randomInt} from 'node:crypto'
import type {Envelope} from '../../envelope/envelope.js'
import {UsageError} from '../../errors.js'
import {batches} from '../../util/batch.js'
import type {PublishFailure, PublishOptions, PublishOutcome, PublishReport} from '../types.js'
import {toKafkaMessage} from './codec.js'
import {interruption, type KafkaContext, type KafkaTarget, noSuchPartition} from './context.js'
import {mapKafkaError} from './errors.js'
import type {KafkaMessageOut} from './port.js'
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
      const failedAt = failures.length ? new Set<number>() : undefined
      for (const f of failures) {
        const error = mapKafkaError(f.error, where(topic)).message
        failed.push({index: indexes[f.position]!, error})
        failedAt!.add(f.position)
        publishOpts.onSettled?.(indexes[f.position]!, {status: 'failed', error})
      }
      if (publishOpts.onSettled) {
        for (let pos = 0; pos < messages.length; pos++) {
          if (failedAt?.has(pos)) continue
          publishOpts.onSettled(indexes[pos]!, sentOutcome(messages[pos]!.partition))
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
      // One clock reading per input batch (a BigInt per message cost GC time at a million).
      const now = BigInt(Date.now())
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
        message.timestamp ??= now
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
