import type {RawTail} from './raw-batch.js'
/**
 * The kafkajs calls the Kafka adapter makes, and no others (add one when a feature needs it).
 * kafkajs is unmaintained since 2024 (tulios/kafkajs#1603); everything client-specific stays
 * behind this port so the client can be swapped (@platformatic/kafka, @confluentinc/kafka-javascript).
 */
export interface KafkaHeaders {
  [key: string]: Buffer | string | Array<Buffer | string> | null | undefined
}

export interface KafkaMessageIn {
  key: Buffer | null
  value: Buffer | null
  headers?: KafkaHeaders
  /** Headers in wire order, repeats and null values kept (our record decoder adds it). */
  headerList?: Array<[string, Buffer | null]>
  /** Where key, value and headers lie in the record's bytes (our record decoder adds them). */
  rawBuffer?: Buffer
  rawStart?: number
  rawEnd?: number
  timestamp: string
  offset: string
  /** kafkajs internals: timestampType 1 = LogAppendTime. */
  batchContext?: {timestampType?: number}
}

export interface KafkaMessageOut {
  key?: Buffer | null
  value: Buffer | null
  /** In wire order; names may repeat; a value may be null. */
  headers?: Array<[string, Buffer | null]>
  partition?: number
  /** Epoch milliseconds. */
  timestamp?: bigint
  /**
   * The key, value and headers as read from another topic, byte for byte the same as `key`,
   * `value` and `headers`: a producer may write these bytes instead of encoding the fields.
   */
  raw?: RawTail
}

/** zstd only where Node's zlib has it (22.15+): see src/util/zstd.ts. */
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

export interface PartitionOffsets {
  partition: number
  offset: string
  high: string
  low: string
}

export interface KafkaAdminPort {
  connect(): Promise<void>
  disconnect(): Promise<void>
  /** Throws for a missing topic (UNKNOWN_TOPIC_OR_PARTITION); never creates one. */
  /** Names of all topics (internal ones included). */
  listTopics(): Promise<string[]>
  fetchTopicMetadata(opts: {topics: string[]}): Promise<{
    topics: Array<{name: string; partitions: Array<{partitionId: number}>}>
  }>
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>
  fetchTopicOffsetsByTimestamp(
    topic: string,
    timestamp: number,
  ): Promise<Array<{partition: number; offset: string}>>
  fetchOffsets(opts: {
    groupId: string
    topics: string[]
  }): Promise<Array<{topic: string; partitions: Array<{partition: number; offset: string}>}>>
  listGroups(): Promise<{groups: Array<{groupId: string; protocolType: string}>}>
  /** Topic settings (kafkajs's shape; resource type 2 = topic). */
  describeConfigs(opts: {
    resources: Array<{type: number; name: string; configNames: string[]}>
    includeSynonyms: boolean
  }): Promise<{
    resources: Array<{configEntries: Array<{configName: string; configValue: string | null}>}>
  }>
}

/** What one fetch brought for one partition. */
export interface KafkaFetchedPartition {
  topic: string
  partition: number
  /**
   * Records to deliver, in offset order: control records, records of aborted transactions and
   * records before the requested offset are left out (read_committed, as a Java consumer).
   */
  messages: KafkaMessageIn[]
  /** Where the next fetch of this partition starts (past gaps, markers and aborted records). */
  nextOffset: string
  highWatermark: string
}

/**
 * Reads partitions at offsets the adapter chooses, with Fetch requests to their leaders: no
 * consumer group, so nothing to join (no rebalance wait), nothing to commit, nothing left behind,
 * and no group ACL needed — what kcat does with assign().
 */
export interface KafkaFetcherPort {
  /** Connects and loads metadata for `topics`. */
  connect(topics: string[]): Promise<void>
  disconnect(): Promise<void>
  /**
   * One Fetch per leader broker for these positions (in parallel), waiting at most `maxWaitMs`
   * for data. Partitions with nothing new come back with no messages.
   */
  fetch(
    positions: Array<{topic: string; partition: number; offset: string}>,
    opts: {maxWaitMs: number; maxBytes: number; maxBytesPerPartition: number},
  ): Promise<KafkaFetchedPartition[]>
  /**
   * Low and high offsets of every partition of `topics` (connected ones), read_committed as the
   * admin's: one ListOffsets request per leader broker for all of them (two: low and high).
   */
  listOffsets(topics: string[]): Promise<Map<string, PartitionOffsets[]>>
  /**
   * Commits `offsets` (the next offset to read, per partition) for `groupId` outside any group
   * generation; resolves once the group coordinator wrote them. Kafka refuses it while the group
   * has active members.
   */
  commitOffsets(
    groupId: string,
    offsets: Array<{topic: string; partition: number; offset: string}>,
  ): Promise<void>
}

export interface KafkaProducerPort {
  connect(): Promise<void>
  disconnect(): Promise<void>
  /**
   * Sends one batch to one topic; resolves when every part has an answer (per `acks`), with the
   * messages that failed (their positions in `messages`). A produce request carries one batch per
   * partition and the broker accepts or refuses each on its own: only the messages of a refused
   * batch — or of one whose answer never came — are failed; the others are written. Keyed messages
   * without a partition are placed by the Java-compatible murmur2 partitioner. Never creates the topic.
   */
  send(record: {
    topic: string
    messages: KafkaMessageOut[]
    acks: -1 | 0 | 1
    compression: Compression
  }): Promise<SendOutcome>
}

export interface SendOutcome {
  failed: Array<{position: number; error: unknown}>
}

/**
 * Consumer groups, read for `evtctl lag` without joining any: each call is batched per broker
 * (ListGroups to every broker, FindCoordinator once for all groups, then one DescribeGroups and one
 * OffsetFetch per coordinator for all its groups, one ListOffsets per leader). kafkajs asks for one
 * group's offsets per request, so 200 groups were 400 requests a poll.
 */
export interface KafkaGroupsPort {
  /** Every group the cluster knows: id, the broker's state word, and its type (`classic`, `consumer`). */
  listGroups(): Promise<Array<{group: string; state: string; type: string; protocolType: string}>>
  /**
   * State and members of `groups` (classic protocol). A group the call cannot describe (a KIP-848
   * `consumer` group on a broker that answers classic calls with an error) has `error`.
   */
  describeGroups(groups: string[]): Promise<
    Map<
      string,
      {
        state: string
        protocolType: string
        /** Topic → partitions assigned, per member. */
        members: Array<{id: string; clientId: string; host: string; assigned: Map<string, number[]>}>
        error?: string
      }
    >
  >
  /** Committed offsets of `groups` (all their topics); a partition never committed is absent. */
  committedOffsets(
    groups: string[],
  ): Promise<Map<string, Array<{topic: string; partitions: Array<{partition: number; offset: string}>}>>>
  /** Earliest and log-end offsets (high watermark) of every partition of `topics`. */
  listOffsets(topics: string[]): Promise<Map<string, Array<{partition: number; low: string; high: string}>>>
  /** Topic → partition ids; missing topics are absent. */
  partitions(topics: string[]): Promise<Map<string, number[]>>
  close(): Promise<void>
}

export interface KafkaPort {
  admin(): KafkaAdminPort
  /** The lag view's group reader (optional: a test port may leave it out). */
  groups?(): KafkaGroupsPort
  fetcher(): KafkaFetcherPort
  producer(opts: {idempotent: boolean}): KafkaProducerPort
  /**
   * Ctrl-C: drops every connection of the admin and the fetchers at once, and any made later.
   * Pending calls fail instead of waiting out their time-outs, so nothing keeps the process.
   */
  destroy?(): void
}
