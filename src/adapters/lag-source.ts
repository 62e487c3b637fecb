import type {Target} from '../config/targets.js'
import type {BrokerAdapter} from './types.js'

/*
 * What `evtctl lag` reads from a broker, one poll at a time: raw numbers as the broker tells them.
 * Lag, rates, trends and statuses are worked out by src/services/lag/ from successive polls.
 * Kept apart from types.ts (LagAware and its per-partition rows stay as they are for their users).
 * A number the broker cannot tell is null with a reason beside it, never a guessed 0.
 */

export interface LagScopeOptions {
  /** Only these consumer groups (Kafka, the file broker). */
  groups?: string[]
  /** Kafka: only these topics (also the TARGET's topic). */
  topics?: string[]
  /** SQS: with a whole region (sqs://REGION), the queues whose names start with this. */
  prefix?: string
  /** SQS: more queues than the TARGET's. */
  more?: Target[]
}

export interface KafkaPartitionRaw {
  partition: number
  /** The next offset the group reads; null when it never committed on this partition. */
  committed: string | null
  /** The log-end offset (high watermark, as kafka-consumer-groups shows it). */
  end: string
  /** The earliest offset still in the log. */
  low: string
  /**
   * Epoch ms of the oldest message the group has not consumed (the one at its committed offset,
   * or the earliest one left when retention deleted it); null with timestampNote when not read.
   */
  oldestUnconsumedMs: number | null
  timestampNote?: string
}

export interface KafkaGroupRaw {
  group: string
  /** The broker's word: STABLE, EMPTY, PREPARING_REBALANCE, …; null when it cannot be read. */
  state: string | null
  /** Consumers in the group; null when it cannot be read (see note). */
  members: number | null
  /** `consumer` groups (KIP-848) and anything not describable: why state and members are null. */
  note?: string
  topics: Array<{topic: string; partitions: KafkaPartitionRaw[]}>
}

/** Kafka's consumer groups, or the file broker's (groups with offsets stored beside a topic). */
export interface KafkaLagRaw {
  kind: 'kafka' | 'file'
  /** When the broker was asked (ISO). */
  at: string
  groups: KafkaGroupRaw[]
}

export interface SqsQueueRaw {
  queue: string
  url: string
  visible: number
  inFlight: number
  delayed: number
  dlq?: {queue: string; visible: number | null; note?: string}
  oldestAgeMs: number | null
  oldestAgeNote?: string
}

export interface SqsLagRaw {
  kind: 'sqs'
  at: string
  queues: SqsQueueRaw[]
}

export interface PubsubSubscriptionRaw {
  subscription: string
  topic: string
  /** num_undelivered_messages from Cloud Monitoring (about a minute old). */
  backlog: number | null
  /** oldest_unacked_message_age from Cloud Monitoring, in ms. */
  oldestUnackedAgeMs: number | null
  /** Why the backlog is null (and the age too, unless ageNote says otherwise). */
  note?: string
  /** Why the oldest unacked age is null when the backlog is not. */
  ageNote?: string
}

export interface PubsubLagRaw {
  kind: 'pubsub'
  at: string
  subscriptions: PubsubSubscriptionRaw[]
}

export type LagRaw = KafkaLagRaw | SqsLagRaw | PubsubLagRaw

/** A scope's lag, polled again and again by one dashboard (connections kept between polls). */
export interface LagReader {
  /**
   * One poll: reads only (never joins a group, receives, acks or commits). `signal` aborted:
   * rejects with its reason, and the reader stays usable for the next poll.
   * Throws NotFoundError (exit 5) for a missing topic, queue or subscription, UnsupportedError
   * (exit 6) when there is nothing the broker can tell (a file topic without groups).
   */
  poll(signal: AbortSignal): Promise<LagRaw>
  /** Broker requests made so far (where the adapter counts them), for the benchmark. */
  requests?(): number
  /** Releases the reader's own connections. Idempotent. */
  close(): Promise<void>
}

/** Optional capability interface, beside `lag`: a reader of a scope's lag for `evtctl lag`. */
export interface LagSourceAware {
  lagReader(scope: Target, opts: LagScopeOptions): LagReader
}

export function isLagSourceAware(a: BrokerAdapter): a is BrokerAdapter & LagSourceAware {
  return typeof (a as Partial<LagSourceAware>).lagReader === 'function'
}
