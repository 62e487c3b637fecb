import {NotFoundError} from '../../errors.js'
import type {KafkaGroupRaw, KafkaLagRaw, LagReader, LagScopeOptions} from '../lag-source.js'
import {cancellable, interruption, type KafkaContext, type KafkaTarget} from './context.js'
import {mapKafkaError} from './errors.js'
import {TAIL_GROUP_PREFIX, timestampsAt, type Wanted} from './offsets.js'
import type {KafkaFetcherPort, KafkaGroupsPort} from './port.js'

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`

/**
 * `evtctl lag` on Kafka: consumer groups read with admin requests only (never joining a group,
 * which would rebalance its consumers), polled again and again on the same connections.
 * One poll: ListGroups (every broker), FindCoordinator (all groups at once), DescribeGroups and
 * OffsetFetch (one per coordinator), Metadata and two ListOffsets (per leader), and one Fetch per
 * leader broker for the message at every group's committed offset (its timestamp is the time lag;
 * a second round only for partitions a shared fetch brought nothing for).
 */
export function kafkaLagReader(
  ctx: KafkaContext,
  scope: KafkaTarget,
  opts: LagScopeOptions,
  makeGroups: () => KafkaGroupsPort,
): LagReader {
  let groupsPort: KafkaGroupsPort | undefined
  let fetcher: {port: KafkaFetcherPort; topics: string} | undefined
  // The message at an offset never changes: its timestamp is fetched once, not every poll (a
  // group that does not move costs no Fetch). Entries not wanted by the last poll are dropped.
  let stampCache = new Map<string, string>()

  async function fetcherFor(topics: string[]): Promise<KafkaFetcherPort> {
    const k = [...topics].sort().join('\u0000')
    if (fetcher?.topics === k) return fetcher.port
    await fetcher?.port.disconnect().catch(() => {})
    fetcher = undefined
    const port = ctx.port.fetcher()
    await port.connect(topics)
    fetcher = {port, topics: k}
    return port
  }

  async function measure(signal: AbortSignal): Promise<KafkaLagRaw> {
    const check = () => {
      if (signal.aborted) throw interruption(signal)
    }
    groupsPort ??= makeGroups()
    const gp = groupsPort
    const named = opts.groups ?? []
    const wantedTopics = [...(await ctx.expandTopics(scope.topics)), ...(opts.topics ?? [])]
    check()
    const topicFilter = wantedTopics.length ? new Set(wantedTopics) : undefined
    if (topicFilter) {
      const parts = await gp.partitions([...topicFilter])
      const missing = [...topicFilter].filter((t) => !parts.has(t))
      if (missing.length) {
        throw new NotFoundError(
          `Topic "${missing[0]}" does not exist on ${scope.brokers.join(',')}.`,
          'Check the name; list topics with kafka-topics.sh --list.',
        )
      }
    }
    const listed = await gp.listGroups()
    check()
    const byId = new Map(listed.map((g) => [g.group, g]))
    for (const g of named) {
      if (!byId.has(g)) {
        throw new NotFoundError(
          `Consumer group "${g}" does not exist on ${scope.brokers.join(',')}.`,
          `Run "evtctl lag kafka://${scope.brokers.join(',')}" to see the groups there.`,
        )
      }
    }
    const ids = (
      named.length
        ? named
        : listed
            // Connect workers' groups and the like hold no offsets; tail's old throw-away groups.
            .filter((g) => g.protocolType === 'consumer' || g.protocolType === '' || g.type === 'consumer')
            .map((g) => g.group)
            .filter((g) => !g.startsWith(TAIL_GROUP_PREFIX))
    ).sort()
    // KIP-848 groups (type `consumer`) answer classic DescribeGroups with an error: asked apart.
    const classic = ids.filter((g) => byId.get(g)?.type !== 'consumer')
    const [described, committed] = await Promise.all([gp.describeGroups(classic), gp.committedOffsets(ids)])
    check()

    // Per group: topic → partition → committed offset, and the topics its members are assigned.
    const perGroup = new Map<string, Map<string, Map<number, string>>>()
    const allTopics = new Set<string>()
    for (const g of ids) {
      const topics = new Map<string, Map<number, string>>()
      for (const t of committed.get(g) ?? []) {
        if (t.partitions.length === 0) continue
        topics.set(t.topic, new Map(t.partitions.map((p) => [p.partition, p.offset])))
      }
      for (const m of described.get(g)?.members ?? []) {
        for (const topic of m.assigned.keys()) if (!topics.has(topic)) topics.set(topic, new Map())
      }
      // A named group on a named topic is shown there even with nothing committed.
      if (named.includes(g) && topicFilter)
        for (const t of topicFilter) if (!topics.has(t)) topics.set(t, new Map())
      for (const t of [...topics.keys()]) if (topicFilter && !topicFilter.has(t)) topics.delete(t)
      perGroup.set(g, topics)
      for (const t of topics.keys()) allTopics.add(t)
    }
    const offsets = await gp.listOffsets([...allTopics])
    check()
    const at = Date.now()

    // The oldest unconsumed message of every group and partition behind: the one at its committed
    // offset, or the earliest left when retention deleted that one.
    const wanted: Wanted[] = []
    for (const [, topics] of perGroup) {
      for (const [topic, parts] of topics) {
        for (const e of offsets.get(topic) ?? []) {
          const c = parts.get(e.partition)
          if (c === undefined) continue
          const from = BigInt(c) > BigInt(e.low) ? BigInt(c) : BigInt(e.low)
          if (from < BigInt(e.high)) wanted.push({topic, partition: e.partition, offset: from})
        }
      }
    }
    const stamps = new Map<string, string>()
    const wkey = (w: Wanted) => `${key(w.topic, w.partition)}\u0000${w.offset}`
    const missing = wanted.filter((w) => {
      const hit = stampCache.get(wkey(w))
      if (hit) stamps.set(wkey(w), hit)
      return !hit
    })
    if (missing.length > 0) {
      const f = await fetcherFor([...new Set(missing.map((w) => w.topic))])
      check()
      for (const [k, v] of await timestampsAt(f, missing, signal)) stamps.set(k, v)
      check()
    }
    stampCache = new Map(stamps)

    const groups: KafkaGroupRaw[] = []
    for (const g of ids) {
      const listing = byId.get(g)
      const d = described.get(g)
      const topics = perGroup.get(g)!
      if (topics.size === 0 && !named.includes(g)) continue
      const kip848 = listing?.type === 'consumer'
      groups.push({
        group: g,
        state: kip848 ? (listing?.state ?? null) : (d?.state ?? listing?.state ?? null),
        members: kip848 || !d ? null : d.members.length,
        ...(kip848
          ? {
              note: 'a KIP-848 consumer group: its members need ConsumerGroupDescribe, which evtctl does not send yet',
            }
          : !d
            ? {note: 'the group coordinator did not describe it'}
            : {}),
        topics: [...topics]
          .filter(([topic]) => offsets.has(topic))
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([topic, parts]) => ({
            topic,
            partitions: (offsets.get(topic) ?? []).map((e) => {
              const c = parts.get(e.partition) ?? null
              const from = c === null ? null : BigInt(c) > BigInt(e.low) ? BigInt(c) : BigInt(e.low)
              let oldest: number | null = null
              let timestampNote: string | undefined
              if (c === null) timestampNote = 'never committed'
              else if (from !== null && from >= BigInt(e.high)) oldest = null
              else {
                const s = stamps.get(`${key(topic, e.partition)}\u0000${from}`)
                if (s) oldest = Date.parse(s)
                else timestampNote = 'the message at the committed offset could not be read in time'
              }
              return {
                partition: e.partition,
                committed: c,
                end: e.high,
                low: e.low,
                oldestUnconsumedMs: oldest,
                ...(timestampNote ? {timestampNote} : {}),
              }
            }),
          })),
      })
    }
    return {kind: 'kafka', at: new Date(at).toISOString(), groups}
  }

  return {
    poll: (signal) =>
      cancellable(signal, async () => {
        try {
          return await measure(signal)
        } catch (err) {
          if (signal.aborted) throw interruption(signal)
          throw mapKafkaError(err, ctx.where(scope.topics.join(',') || undefined))
        }
      }),
    close: async () => {
      await fetcher?.port.disconnect().catch(() => {})
      fetcher = undefined
      await groupsPort?.close()
      groupsPort = undefined
    },
  }
}
