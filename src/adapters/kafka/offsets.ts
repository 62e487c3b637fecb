import type {GroupLag} from '../types.js'
import {cancellable, interruption, type KafkaContext, type KafkaTarget} from './context.js'
import {mapKafkaError} from './errors.js'
import type {KafkaFetchedPartition, KafkaFetcherPort, PartitionOffsets} from './port.js'

/**
 * Prefix of the throw-away consumer groups that earlier builds of tail used (it now joins no group
 * at all); lag still leaves such groups out.
 */
export const TAIL_GROUP_PREFIX = 'evtctl-tail-'

/** How long one lag() call may look for message timestamps (missing ones are left out). */
const TIMESTAMP_BUDGET_MS = 5_000
/** Committed offsets of this many groups are asked for at once (one request per group). */
const GROUPS_AT_ONCE = 16
const PROBE = {maxWaitMs: 100, maxBytes: 1024 * 1024, maxBytesPerPartition: 64 * 1024}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`

/**
 * Committed offsets of consumer groups against the log-end offsets, read with the admin API
 * only: never joins the group it measures (that would rebalance its consumers). One call asks
 * for all its topics and groups together: one metadata and two ListOffsets requests per broker,
 * one OffsetFetch per group (kafkajs cannot put several groups in one), and one fetcher whose
 * fetches look up every timestamp at once. On abort it rejects at once with the signal's reason;
 * its own connections close as soon as the step under way ends, the adapter's admin stays usable.
 */
export async function lag(
  ctx: KafkaContext,
  target_: KafkaTarget,
  group?: string,
  signal?: AbortSignal,
): Promise<GroupLag[]> {
  const stop = signal ?? new AbortController().signal
  return cancellable(stop, () => measure(ctx, target_, group, stop))
}

async function measure(
  ctx: KafkaContext,
  target_: KafkaTarget,
  group: string | undefined,
  signal: AbortSignal,
): Promise<GroupLag[]> {
  const check = () => {
    if (signal.aborted) throw interruption(signal)
  }
  const topics = await ctx.expandTopics(target_.topics)
  check()
  const a = await ctx.getAdmin()
  check()
  const fetcher = ctx.port.fetcher()
  try {
    try {
      // Loads the metadata of every topic in one request; a missing one is named below.
      await fetcher.connect(topics)
    } catch (err) {
      check()
      await ctx.partitionsOf(topics) // NotFoundError naming the missing topic
      throw mapKafkaError(err, ctx.where(topics.join(',')))
    }
    check()
    const groups = group
      ? [group]
      : (await a.listGroups()).groups
          .map((g) => g.groupId)
          .filter((g) => !g.startsWith(TAIL_GROUP_PREFIX))
          .sort()
    check()
    const ends = await fetcher.listOffsets(topics)
    check()
    const committed = new Map<string, Map<string, Array<{partition: number; offset: string}>>>()
    for (let i = 0; i < groups.length; i += GROUPS_AT_ONCE) {
      const chunk = groups.slice(i, i + GROUPS_AT_ONCE)
      const answers = await Promise.all(chunk.map((groupId) => a.fetchOffsets({groupId, topics})))
      check()
      chunk.forEach((g, j) => {
        committed.set(g, new Map(answers[j]!.map((r) => [r.topic, r.partitions])))
      })
    }

    // Timestamps wanted: the latest message per partition (end − 1) and the last one each group
    // committed past (committed − 1), where such a message can exist (low ≤ offset < end).
    const wanted: Wanted[] = []
    for (const topic of topics) {
      for (const e of ends.get(topic) ?? []) {
        const low = BigInt(e.low)
        const high = BigInt(e.high)
        if (high > low) wanted.push({topic, partition: e.partition, offset: high - 1n})
        for (const g of groups) {
          const c = committed
            .get(g)
            ?.get(topic)
            ?.find((p) => p.partition === e.partition)?.offset
          if (c === undefined || c === '-1') continue
          const at = BigInt(c) - 1n
          if (at >= low && at < high) wanted.push({topic, partition: e.partition, offset: at})
        }
      }
    }
    const stamps = await timestampsAt(fetcher, wanted, signal)
    check()
    const stamp = (topic: string, partition: number, offset: bigint) =>
      stamps.get(`${key(topic, partition)}\u0000${offset}`)

    const rows: GroupLag[] = []
    for (const topic of topics) {
      const topicEnds: PartitionOffsets[] = ends.get(topic) ?? []
      for (const g of groups) {
        const parts = committed.get(g)?.get(topic) ?? []
        // Without a group name, only groups that committed on this topic are listed.
        if (!group && parts.every((p) => p.offset === '-1')) continue
        for (const end of topicEnds) {
          const c = parts.find((p) => p.partition === end.partition)?.offset
          const has = c !== undefined && c !== '-1'
          const committedTs = has ? stamp(topic, end.partition, BigInt(c) - 1n) : undefined
          const latestTs = stamp(topic, end.partition, BigInt(end.high) - 1n)
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
    if (signal.aborted) throw interruption(signal)
    throw mapKafkaError(err, ctx.where(target_.topics.join(',')))
  } finally {
    await fetcher.disconnect().catch(() => {})
  }
}

export interface Wanted {
  topic: string
  partition: number
  offset: bigint
}

/**
 * The timestamp of the first message at or after each wanted (topic, partition, offset), keyed
 * `topic\0partition\0offset`, read with group-less fetches on `fetcher` (connected to every topic
 * wanted): each round is one Fetch per leader broker for all partitions still looked for.
 * Missing ones (deleted by retention, TIMESTAMP_BUDGET_MS passed) are left out.
 */
export async function timestampsAt(
  fetcher: KafkaFetcherPort,
  wanted: Wanted[],
  signal: AbortSignal,
): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  // Per partition: the offsets still looked for (ascending) and where to fetch next.
  const looking = new Map<string, {topic: string; partition: number; offsets: bigint[]; at: bigint}>()
  for (const w of wanted) {
    const k = key(w.topic, w.partition)
    const l = looking.get(k) ?? {topic: w.topic, partition: w.partition, offsets: [], at: w.offset}
    looking.set(k, l)
    if (!l.offsets.includes(w.offset)) l.offsets.push(w.offset)
  }
  for (const l of looking.values()) {
    l.offsets.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
    l.at = l.offsets[0]!
  }
  // Partitions fetched on their own: a shared fetch may bring nothing for a partition (the
  // response's byte limit was reached, or another partition's offset is out of range); alone, the
  // broker returns at least its first batch.
  const alone = new Set<string>()
  const deadline = Date.now() + TIMESTAMP_BUDGET_MS
  const pos = (k: string) => {
    const l = looking.get(k)!
    return {topic: l.topic, partition: l.partition, offset: String(l.at)}
  }
  while (looking.size > 0 && Date.now() < deadline) {
    if (signal.aborted) throw interruption(signal)
    const shared = [...looking.keys()].filter((k) => !alone.has(k))
    const rounds = [shared, ...[...alone].map((k) => [k])].filter((ks) => ks.length > 0)
    const results = await Promise.all(
      rounds.map(async (ks): Promise<Array<[string, KafkaFetchedPartition | undefined]>> => {
        try {
          const fetched = await fetcher.fetch(ks.map(pos), PROBE)
          return fetched.map((f) => [key(f.topic, f.partition), f])
        } catch (err) {
          // Retention deleted a message meanwhile: look for it alone, or leave it out.
          if ((err as {type?: string}).type !== 'OFFSET_OUT_OF_RANGE') throw err
          return ks.map((k) => [k, undefined])
        }
      }),
    )
    for (const [i, result] of results.entries()) {
      // Alone in its fetch, a partition gets at least its first batch: no progress means none.
      const single = rounds[i]!.length === 1
      for (const [k, f] of result) {
        const l = looking.get(k)
        if (!l) continue
        if (!f) {
          if (single) looking.delete(k)
          else alone.add(k)
          continue
        }
        const ts = (m: {timestamp: string}) => new Date(Number(m.timestamp)).toISOString()
        while (l.offsets.length > 0) {
          const want = l.offsets[0]!
          const m = f.messages.find((x) => BigInt(x.offset) >= want)
          if (!m) break
          found.set(`${k}\u0000${want}`, ts(m))
          l.offsets.shift()
        }
        const next = BigInt(f.nextOffset)
        if (l.offsets.length === 0) looking.delete(k)
        else if (next > l.at) l.at = next > l.offsets[0]! ? next : l.offsets[0]!
        else if (single)
          looking.delete(k) // nothing there (any more)
        else alone.add(k)
      }
    }
  }
  return found
}
