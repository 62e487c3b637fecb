import type {KafkaConnection} from './kafkajs-port.js'
import {loadPlatformatic} from './platformatic-lib.js'
import {platformaticClientOptions} from './platformatic-producer.js'
import type {KafkaGroupsPort} from './port.js'

/**
 * The groups half of the port (`evtctl lag`) on @platformatic/kafka's admin client: it batches
 * what kafkajs cannot — one FindCoordinator for all groups, and one DescribeGroups and one
 * OffsetFetch (v8+, several groups a request) per coordinator. Never joins a group, never creates
 * a topic. Loaded only by `lag`.
 */
const PARTITIONS_MS = 30_000

export function createPlatformaticGroups(conn: KafkaConnection): KafkaGroupsPort {
  type Lib = typeof import('@platformatic/kafka')
  let admin: InstanceType<Lib['Admin']> | undefined
  const known = new Map<string, {ids: number[]; at: number}>()
  const get = async () => {
    if (admin) return admin
    const lib = await loadPlatformatic()
    admin = new lib.Admin(platformaticClientOptions(conn, lib))
    return admin
  }
  return {
    async listGroups() {
      const a = await get()
      const groups = await a.listGroups()
      return [...groups.values()].map((g) => ({
        group: g.id,
        state: g.state,
        type: g.groupType ?? 'classic',
        protocolType: g.protocolType,
      }))
    },
    async describeGroups(groups) {
      const out: Awaited<ReturnType<KafkaGroupsPort['describeGroups']>> = new Map()
      if (groups.length === 0) return out
      const a = await get()
      const described = await a.describeGroups({groups})
      for (const [id, g] of described) {
        out.set(id, {
          state: g.state,
          protocolType: g.protocolType,
          members: [...g.members.values()].map((m) => ({
            id: m.id,
            clientId: m.clientId,
            host: m.clientHost,
            assigned: new Map([...(m.assignments?.values() ?? [])].map((x) => [x.topic, x.partitions])),
          })),
        })
      }
      return out
    },
    async committedOffsets(groups) {
      const out: Awaited<ReturnType<KafkaGroupsPort['committedOffsets']>> = new Map()
      if (groups.length === 0) return out
      const a = await get()
      for (const g of await a.listConsumerGroupOffsets({groups})) {
        out.set(
          g.groupId,
          g.topics.map((t) => ({
            topic: t.name,
            partitions: t.partitions
              // -1: no offset committed for this partition.
              .filter((p) => p.committedOffset >= 0n)
              .map((p) => ({partition: p.partitionIndex, offset: String(p.committedOffset)}))
              .sort((x, y) => x.partition - y.partition),
          })),
        )
      }
      return out
    },
    async partitions(topics) {
      const out = new Map<string, number[]>()
      if (topics.length === 0) return out
      // Partition counts change rarely: asked again after PARTITIONS_MS, not on every poll.
      const now = Date.now()
      if (topics.every((t) => now - (known.get(t)?.at ?? 0) < PARTITIONS_MS)) {
        for (const t of topics) out.set(t, known.get(t)!.ids)
        return out
      }
      const a = await get()
      // One by one only when the batch fails: a missing topic fails the whole request.
      try {
        const meta = await a.metadata({topics, autocreateTopics: false, forceUpdate: true})
        for (const [name, t] of meta.topics)
          out.set(
            name,
            t.partitions.map((_, i) => i),
          )
      } catch {
        for (const topic of topics) {
          try {
            const meta = await a.metadata({topics: [topic], autocreateTopics: false, forceUpdate: true})
            const t = meta.topics.get(topic)
            if (t)
              out.set(
                topic,
                t.partitions.map((_, i) => i),
              )
          } catch {
            // missing: left out
          }
        }
      }
      for (const [t, ids] of out) known.set(t, {ids, at: now})
      return out
    },
    async listOffsets(topics) {
      const out: Awaited<ReturnType<KafkaGroupsPort['listOffsets']>> = new Map()
      if (topics.length === 0) return out
      const parts = await this.partitions(topics)
      const a = await get()
      const ask = (timestamp: bigint) =>
        a.listOffsets({
          topics: [...parts].map(([name, ids]) => ({
            name,
            partitions: ids.map((partitionIndex) => ({partitionIndex, timestamp})),
          })),
        })
      // -2 = earliest, -1 = latest (the high watermark, as kafka-consumer-groups shows it).
      const [low, high] = await Promise.all([ask(-2n), ask(-1n)])
      const lows = new Map<string, bigint>()
      for (const t of low)
        for (const p of t.partitions) lows.set(`${t.name}\u0000${p.partitionIndex}`, p.offset)
      for (const t of high) {
        out.set(
          t.name,
          t.partitions
            .map((p) => ({
              partition: p.partitionIndex,
              low: String(lows.get(`${t.name}\u0000${p.partitionIndex}`) ?? 0n),
              high: String(p.offset),
            }))
            .sort((x, y) => x.partition - y.partition),
        )
      }
      return out
    },
    async close() {
      const a = admin
      admin = undefined
      await a?.close().catch(() => {})
    },
  }
}
