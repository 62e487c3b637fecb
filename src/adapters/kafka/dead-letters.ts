import {warning} from '../../events.js'
import type {DeadLetterQueue} from '../types.js'
import {cancellable, interruption, type KafkaContext, type KafkaTarget} from './context.js'
import {mapKafkaError} from './errors.js'
import {timestampsAt, type Wanted} from './offsets.js'

/**
 * Kafka has no dead-letter queues of its own: DLQs are topics named by convention — Spring Kafka's
 * `<topic>.DLT` / `<topic>-dlt`, Kafka Connect's `errors.deadletterqueue.topic.name`, commonly
 * `dlq-<topic>`, `<topic>-dlq`, `<topic>.dlq`, `<topic>_dlq`, `dead-letter…`.
 */
const DLQ_NAME = /(^|[._-])(dlq|dlt)($|[._-])|dead[._-]?letter/i

export function isDeadLetterName(topic: string): boolean {
  return !topic.startsWith('__') && DLQ_NAME.test(topic)
}

/** The topics a DLQ's name points back to, most likely first (`orders.DLT` → `orders`). */
export function sourceNames(dlq: string): string[] {
  const out = [
    dlq.replace(/[._-](dlq|dlt)$/i, ''),
    dlq.replace(/^(dlq|dlt)[._-]/i, ''),
    dlq.replace(/[._-]?dead[._-]?letters?([._-]queue)?$/i, ''),
    dlq.replace(/^dead[._-]?letters?([._-]queue)?[._-]?/i, ''),
  ]
  return [...new Set(out.filter((n) => n !== dlq && n !== ''))]
}

/**
 * Lists DLQ topics of the cluster (or the topics the target names): depth Σ(end − start) per
 * partition, exact unless the topic is compacted (then an upper bound), and the timestamps of the
 * first and last message. Batched: one metadata, two ListOffsets requests per broker, one
 * DescribeConfigs, and fetches that look up all the timestamps together. Read-only.
 */
export async function listDeadLetters(
  ctx: KafkaContext,
  scope: KafkaTarget,
  signal: AbortSignal,
): Promise<DeadLetterQueue[]> {
  return cancellable(signal, () => list(ctx, scope, signal))
}

async function list(ctx: KafkaContext, scope: KafkaTarget, signal: AbortSignal): Promise<DeadLetterQueue[]> {
  const check = () => {
    if (signal.aborted) throw interruption(signal)
  }
  const a = await ctx.getAdmin()
  let all: string[]
  try {
    all = await a.listTopics()
  } catch (err) {
    throw mapKafkaError(err, ctx.where())
  }
  check()
  const whole = scope.topics.length === 0
  const topics = whole ? all.filter(isDeadLetterName).sort() : await ctx.expandTopics(scope.topics)
  if (!whole) await ctx.partitionsOf(topics) // NotFoundError naming a missing topic
  if (topics.length === 0) return []
  const existing = new Set(all)
  const fetcher = ctx.port.fetcher()
  try {
    await fetcher.connect(topics)
    check()
    const [ends, configs] = await Promise.all([
      fetcher.listOffsets(topics),
      a.describeConfigs({
        resources: topics.map((name) => ({type: 2, name, configNames: ['cleanup.policy']})),
        includeSynonyms: false,
      }),
    ])
    check()
    const compacted = new Set<string>()
    configs.resources.forEach((r, i) => {
      const policy = r.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? ''
      if (policy.includes('compact')) compacted.add(topics[i]!)
    })
    const wanted: Wanted[] = []
    for (const topic of topics) {
      for (const e of ends.get(topic) ?? []) {
        const low = BigInt(e.low)
        const high = BigInt(e.high)
        if (high > low)
          wanted.push(
            {topic, partition: e.partition, offset: low},
            {topic, partition: e.partition, offset: high - 1n},
          )
      }
    }
    const stamps = await timestampsAt(fetcher, wanted, signal)
    check()
    const brokers = scope.brokers.join(',')
    return topics.map((topic) => {
      let depth = 0n
      let oldest: string | undefined
      let newest: string | undefined
      for (const e of ends.get(topic) ?? []) {
        const low = BigInt(e.low)
        const high = BigInt(e.high)
        depth += high - low
        if (high <= low) continue
        const first = stamps.get(`${topic}\u0000${e.partition}\u0000${low}`)
        const last = stamps.get(`${topic}\u0000${e.partition}\u0000${high - 1n}`)
        if (first && (oldest === undefined || first < oldest)) oldest = first
        if (last && (newest === undefined || last > newest)) newest = last
      }
      const source = sourceNames(topic).find((n) => existing.has(n))
      const isCompacted = compacted.has(topic)
      return {
        target: {...scope, url: `kafka://${brokers}/${topic}`, topics: [topic]},
        depth: Number(depth),
        depthExact: !isCompacted,
        ...(isCompacted
          ? {depthNote: 'compacted topic: end − start offsets count records compaction may have removed'}
          : {}),
        sources: source ? [{target: `kafka://${brokers}/${source}`, by: 'name' as const}] : [],
        ...(oldest ? {oldest} : {}),
        ...(newest ? {newest} : {}),
        warnings: isCompacted
          ? [warning('DEPTH_UPPER_BOUND', `${topic} is compacted, so its depth is an upper bound.`)]
          : [],
      }
    })
  } catch (err) {
    if (signal.aborted) throw interruption(signal)
    throw mapKafkaError(err, ctx.where(topics.join(',')))
  } finally {
    await fetcher.disconnect().catch(() => {})
  }
}
