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
  timestamp: string
  offset: string
  /** kafkajs internals: timestampType 1 = LogAppendTime. */
  batchContext?: {timestampType?: number}
}

export interface KafkaBatch {
  topic: string
  partition: number
  highWatermark: string
  messages: KafkaMessageIn[]
  lastOffset(): string
}

export interface KafkaMessageOut {
  key?: Buffer | null
  value: Buffer | null
  /** In wire order; names may repeat; a value may be null. */
  headers?: Array<[string, Buffer | null]>
  partition?: number
  /** Epoch milliseconds. */
  timestamp?: bigint
}

export type Compression = 'none' | 'gzip'

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
  /** Deletes empty groups (tail's own throw-away group, after it left). */
  deleteGroups(groupIds: string[]): Promise<unknown>
}

export interface KafkaConsumerPort {
  connect(): Promise<void>
  disconnect(): Promise<void>
  subscribe(opts: {topics: string[]; fromBeginning: boolean}): Promise<void>
  run(opts: {
    autoCommit: false
    eachBatchAutoResolve: boolean
    partitionsConsumedConcurrently?: number
    eachBatch: (payload: {batch: KafkaBatch; isRunning(): boolean; isStale(): boolean}) => Promise<void>
  }): Promise<void>
  seek(opts: {topic: string; partition: number; offset: string}): void
  pause(topics: Array<{topic: string; partitions?: number[]}>): void
  stop(): Promise<void>
  on(event: string, listener: (e: {payload: Record<string, unknown>}) => void): () => void
  readonly events: Record<string, string>
}

export interface KafkaProducerPort {
  connect(): Promise<void>
  disconnect(): Promise<void>
  /**
   * Sends one batch to one topic; resolves when the broker acknowledged all of it (per `acks`),
   * rejects if any part failed. Messages without a partition are placed by the Java-compatible
   * murmur2 partitioner (keyed) or round-robin (no key). Never creates the topic.
   */
  send(record: {
    topic: string
    messages: KafkaMessageOut[]
    acks: -1 | 0 | 1
    compression: Compression
  }): Promise<void>
}

export interface KafkaPort {
  admin(): KafkaAdminPort
  /** A consumer in `groupId`; the adapter never lets it commit. */
  consumer(
    groupId: string,
    opts: {maxWaitTimeInMs: number; maxBytesPerPartition: number; maxBytes: number},
  ): KafkaConsumerPort
  producer(opts: {idempotent: boolean}): KafkaProducerPort
}
