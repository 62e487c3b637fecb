import type {Kafka} from 'kafkajs'
import type {KafkaFetchedPartition, KafkaFetcherPort, KafkaMessageIn, PartitionOffsets} from './port.js'

/** kafkajs internals the fetcher uses (kafkajs 2.2.4, pinned; it is no longer developed). */
interface KafkajsCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  addMultipleTargetTopics(topics: string[]): Promise<void>
  refreshMetadata(): Promise<void>
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>
  findTopicPartitionMetadata(topic: string): Array<{partitionId: number}>
  /** ListOffsets, one request per leader for all the topics (kafkajs's admin does one topic a call). */
  fetchTopicsOffset(
    topics: Array<{topic: string; fromBeginning: boolean; partitions: Array<{partition: number}>}>,
  ): Promise<Array<{topic: string; partitions: Array<{partition: number; offset: string}>}>>
  findGroupCoordinator(opts: {groupId: string}): Promise<{
    offsetCommit(request: {
      groupId: string
      groupGenerationId: number
      memberId: string
      topics: Array<{topic: string; partitions: Array<{partition: number; offset: string}>}>
    }): Promise<unknown>
  }>
  findBroker(opts: {nodeId: string}): Promise<{
    fetch(request: {
      maxWaitTime: number
      minBytes: number
      maxBytes: number
      isolationLevel: number
      topics: Array<{
        topic: string
        partitions: Array<{partition: number; fetchOffset: string; maxBytes: number}>
      }>
    }): Promise<{responses: Array<{topicName: string; partitions: Array<{partition: number}>}>}>
  }>
}
interface KafkajsBatch {
  partition: number
  highWatermark: string
  messages: KafkaMessageIn[]
  isEmptyIncludingFiltered(): boolean
  lastOffset(): string
}

const READ_COMMITTED = 1
/** kafkajs's broker sends Fetch requests on the second connection of its pool. */
const FETCH_CONNECTION = 1
/** Errors after which kafkajs's own consumer reloads metadata and fetches again. */
const STALE_METADATA = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
])

/**
 * Fetch requests without a consumer group, on kafkajs's cluster and broker objects (its consumer
 * has no manual assignment, tulios/kafkajs#373). The cluster comes from the Kafka object's own
 * factory, so it shares its connection settings (TLS, SASL, time-outs).
 */
export function createFetcher(kafka: Kafka, Batch: unknown): KafkaFetcherPort {
  const factory = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  )
  if (!factory) throw new Error('kafkajs internals changed: no cluster factory (kafkajs 2.2.4 expected)')
  const cluster = (kafka as unknown as Record<symbol, (o: object) => KafkajsCluster>)[factory]!({
    allowAutoTopicCreation: false,
    isolationLevel: READ_COMMITTED,
    metadataMaxAge: 300_000,
  })

  async function fetchOnce(
    positions: Array<{topic: string; partition: number; offset: string}>,
    opts: {maxWaitMs: number; maxBytes: number; maxBytesPerPartition: number},
  ): Promise<KafkaFetchedPartition[]> {
    // Group by leader: {nodeId → {topic → [{partition, fetchOffset}]}}.
    const byLeader = new Map<
      string,
      Map<string, Array<{partition: number; fetchOffset: string; maxBytes: number}>>
    >()
    const byTopic = new Map<string, Map<number, string>>()
    for (const p of positions) {
      const t = byTopic.get(p.topic) ?? new Map<number, string>()
      byTopic.set(p.topic, t)
      t.set(p.partition, p.offset)
    }
    for (const [topic, offsets] of byTopic) {
      const leaders = cluster.findLeaderForPartitions(topic, [...offsets.keys()])
      for (const [nodeId, partitions] of Object.entries(leaders)) {
        const topics = byLeader.get(nodeId) ?? new Map()
        byLeader.set(nodeId, topics)
        topics.set(
          topic,
          partitions.map((partition) => ({
            partition,
            fetchOffset: offsets.get(partition)!,
            maxBytes: opts.maxBytesPerPartition,
          })),
        )
      }
    }
    const results = await Promise.all(
      [...byLeader].map(async ([nodeId, topics]) => {
        const broker = await cluster.findBroker({nodeId})
        const {responses} = await broker.fetch({
          maxWaitTime: opts.maxWaitMs,
          minBytes: 1,
          maxBytes: opts.maxBytes,
          isolationLevel: READ_COMMITTED,
          topics: [...topics].map(([topic, partitions]) => ({topic, partitions})),
        })
        const out: KafkaFetchedPartition[] = []
        for (const {topicName, partitions} of responses) {
          for (const data of partitions) {
            const fetchOffset = byTopic.get(topicName)!.get(data.partition)!
            // kafkajs's Batch drops control records, aborted transactions and records before
            // the fetch offset, the way its consumer does.
            const batch = new (Batch as unknown as new (t: string, o: string, d: object) => KafkajsBatch)(
              topicName,
              fetchOffset,
              data,
            )
            const raw = (data as {messages?: unknown[]}).messages?.length ?? 0
            // Nothing at all: stay. Otherwise past the last record seen, delivered or not
            // (its lastOffset() is the fetch offset when compaction left nothing at or after it).
            const nextOffset = raw === 0 ? fetchOffset : String(BigInt(batch.lastOffset()) + 1n)
            out.push({
              topic: topicName,
              partition: data.partition,
              messages: batch.messages,
              nextOffset,
              highWatermark: batch.highWatermark,
            })
          }
        }
        return out
      }),
    )
    return results.flat()
  }

  /** As kafkajs's admin.fetchTopicOffsets, for several topics at once. */
  async function listOffsetsOnce(topics: string[]): Promise<Map<string, PartitionOffsets[]>> {
    const request = (fromBeginning: boolean) =>
      cluster.fetchTopicsOffset(
        topics.map((topic) => ({
          topic,
          fromBeginning,
          partitions: cluster.findTopicPartitionMetadata(topic).map((p) => ({partition: p.partitionId})),
        })),
      )
    const [high, low] = await Promise.all([request(false), request(true)])
    const out = new Map<string, PartitionOffsets[]>()
    for (const {topic, partitions} of high) {
      const lows = low.find((l) => l.topic === topic)?.partitions ?? []
      out.set(
        topic,
        partitions
          .map(({partition, offset}) => ({
            partition,
            offset,
            high: offset,
            low: lows.find((l) => l.partition === partition)?.offset ?? offset,
          }))
          .sort((x, y) => x.partition - y.partition),
      )
    }
    return out
  }

  return {
    connect: async (topics) => {
      await cluster.connect()
      await cluster.addMultipleTargetTopics(topics)
      // Open each leader's fetch connection now, one at a time. kafkajs sends Fetch on a second
      // connection that it opens on first use; concurrent first fetches each opened one, and
      // only the last was closed on disconnect: the others kept the process alive after the
      // read (seen with kafkajs 2.2.4).
      for (const topic of topics) {
        const ids = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId)
        for (const nodeId of Object.keys(cluster.findLeaderForPartitions(topic, ids))) {
          const broker = (await cluster.findBroker({nodeId})) as unknown as {
            connectionPool?: {getConnection(index: number): Promise<unknown>}
          }
          await broker.connectionPool?.getConnection(FETCH_CONNECTION)
        }
      }
    },
    disconnect: () => cluster.disconnect(),
    fetch: async (positions, opts) => {
      try {
        return await fetchOnce(positions, opts)
      } catch (err) {
        // A leader moved: reload metadata and try once more, as kafkajs's consumer would.
        if (!STALE_METADATA.has((err as {type?: string}).type ?? '')) throw err
        await cluster.refreshMetadata()
        return await fetchOnce(positions, opts)
      }
    },
    commitOffsets: async (groupId, offsets) => {
      const byTopic = new Map<string, Array<{partition: number; offset: string}>>()
      for (const o of offsets) {
        const list = byTopic.get(o.topic) ?? []
        byTopic.set(o.topic, list)
        list.push({partition: o.partition, offset: o.offset})
      }
      const request = {
        groupId,
        // A commit outside any generation, as kafka-consumer-groups --reset-offsets does: Kafka
        // takes it only while the group has no members (else UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION).
        groupGenerationId: -1,
        memberId: '',
        topics: [...byTopic].map(([topic, partitions]) => ({topic, partitions})),
      }
      try {
        await (await cluster.findGroupCoordinator({groupId})).offsetCommit(request)
      } catch (err) {
        const type = (err as {type?: string}).type ?? ''
        if (
          type !== 'NOT_COORDINATOR' &&
          type !== 'COORDINATOR_NOT_AVAILABLE' &&
          type !== 'COORDINATOR_LOAD_IN_PROGRESS'
        )
          throw err
        // The coordinator moved or is loading: ask again, once.
        await new Promise((r) => setTimeout(r, 500))
        await cluster.refreshMetadata()
        await (await cluster.findGroupCoordinator({groupId})).offsetCommit(request)
      }
    },
    listOffsets: async (topics) => {
      try {
        return await listOffsetsOnce(topics)
      } catch (err) {
        if (!STALE_METADATA.has((err as {type?: string}).type ?? '')) throw err
        await cluster.refreshMetadata()
        return await listOffsetsOnce(topics)
      }
    },
  }
}
