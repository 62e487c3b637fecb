import type {Target} from '../config/targets.js'
import type {Envelope} from '../envelope/envelope.js'
import type {Emit, UserEvent} from '../events.js'

/*
 * The adapter contract: what every broker adapter promises, and what commands and services may
 * rely on. test/contract/ checks these promises against every broker (the file broker always,
 * the real brokers in integration).
 *
 * - What a target can do is capabilitiesOf(target) in the registry, plain data decided before
 *   anything connects; a flag or a read the target cannot honour is refused there (exit 6).
 *   Adapters never claim capabilities of their own and never import the registry.
 * - read() peeks: it never acknowledges, commits or deletes by itself (Kafka: no consumer group;
 *   Pub/Sub: a temporary subscription or a snapshot; SQS: a careful browse whose held messages
 *   are released at the end). Only Delivery.ack() is destructive, and only where the target has
 *   the `consume` capability (SQS): there ack() resolves once the broker confirmed the delete.
 * - publish() counts a message as sent only once the broker confirmed it, reports each one's
 *   fate through onSettled (in any order), and on abort stops taking input, settles what is in
 *   flight and returns: the first sent + failed messages are settled, none after was sent.
 * - Errors are this project's classes (src/errors.ts) naming the resource of the call: a missing
 *   target is NotFoundError (exit 5), a broker that does not answer UnreachableError (exit 4)
 *   within a bounded time, refused credentials AuthError (exit 3).
 * - Adapters never print: what the user should hear is a typed event (src/events.ts) passed to
 *   `emit`; the command renders it and carries warnings into its --json document.
 */

/**
 * What a broker can do, declared up front so a command fails before connecting (exit 6) when it
 * needs something the broker cannot do. Nothing is silently faked.
 */
export interface Capabilities {
  /** Start a read at an absolute offset (or the last N). */
  seekOffset: boolean
  /** Start a read at a point in time. */
  seekTime: boolean
  /** Targets have numbered partitions that can be chosen. */
  partitions: boolean
  /** Reading has no side effect on the broker (no receive count, no ack deadline). */
  nonDestructiveRead: boolean
  /** Committed consumer-group positions exist and can be read. */
  consumerGroups: boolean
  /** Lag can be computed (see LagAware). */
  lag: boolean
  /** Dead-letter destinations can be found (see DeadLetterAware). */
  deadLetters: boolean
  /** The broker can move dead letters back by itself. */
  nativeRedrive: boolean
  orderingKeys: boolean
  fifo: boolean
  /** A read can follow live after reaching the end. */
  follow: boolean
  /** Messages carry a key (Kafka, the file broker); SQS and Pub/Sub have none. */
  keys: boolean
  /** Producer settings of Kafka: acknowledgements, batch compression, the idempotent producer. */
  producerAcks: boolean
  compression: boolean
  idempotentProducer: boolean
  /** SQS: a delivery delay per message. */
  deliveryDelay: boolean
  /** SQS: receives are counted and hidden for a while (--hold, --allow-receive-count). */
  receiveCounts: boolean
  /** SQS: a read can delete what it printed (tail --consume). */
  consume: boolean
  /** Credentials are an AWS profile (--profile). */
  awsProfile: boolean
}
export type Capability = keyof Capabilities

export type StartPosition =
  | {kind: 'beginning'}
  | {kind: 'end'}
  | {kind: 'offset'; offset: bigint}
  /** The last N messages (per partition). */
  | {kind: 'last'; count: number}
  | {kind: 'time'; time: Date}

/** undefined = follow live until aborted. */
export type StopCondition = {kind: 'end'} | {kind: 'time'; time: Date}

export interface ReadOptions {
  from: StartPosition
  until?: StopCondition
  partitions?: number[]
  /** SQS: receiving from a queue with a redrive policy counts toward maxReceiveCount; allow it. */
  allowReceiveCount?: boolean
  /** SQS: how long each received message stays hidden while the queue is listed. */
  holdSeconds?: number
  /** The reader stops after this many messages (`--max`): SQS receives no more than still needed. */
  max?: number
  /**
   * Read to take what is read, where the target can `consume`: each Delivery.ack() then takes the
   * message for good (SQS: deletes it; a Pub/Sub subscription: acks it; Kafka: commits it for
   * `group`). SQS receives one at a time; Pub/Sub pulls little at a time. ack() of a message that
   * was given back (released, or at the end of the read) rejects; it never resolves without the
   * broker's confirmation. SQS: when the read ends by itself, messages handed to the reader and not
   * yet settled stay hidden and the reader's, so it can still ack or release them (a replay's
   * last batch); on Ctrl-C or an early stop they are given back.
   */
  consume?: boolean
  /**
   * With consume: the reader settles what it is handed promptly and in batches (replay), so the
   * read may receive ahead (SQS: ten per receive, kept hidden until settled) instead of one at a time.
   */
  batched?: boolean
  /**
   * Kafka, with consume: the consumer group whose progress the read records. It starts where the
   * group's commits say (elsewhere at `from`), and ack() commits for the group, outside any
   * generation (Kafka takes that only while the group has no active members).
   */
  group?: string
  /**
   * Kafka, with consume: the reader acks after the read has handed over its last message (a
   * replay acks each batch once its copies are confirmed). The read ends as usual, but keeps its
   * connection and commits those acks until this settles; only then are acks still waiting
   * given up (rejected).
   */
  acksUntil?: Promise<unknown>
  /**
   * The reader copies what it reads elsewhere (replay) rather than showing it: payloads keep the
   * bytes they were read as, so a publish sends those bytes without re-encoding, and are not
   * recognised as JSON (`{utf8}`, lossless; a filter parses JSON itself). A hint: adapters that
   * gain nothing from it ignore it.
   */
  forCopy?: boolean
  /** What the read is doing and what it found, for the user (defaults to the adapter's emit). */
  emit?: Emit
}

/** How the command opens an adapter: flags that change connections, and where warnings go. */
export interface AdapterOptions {
  /** Do not verify TLS certificates (an explicit --insecure). */
  insecure?: boolean
  /** Where the adapter's events for the user go; adapters never print. */
  emit?: Emit
  /** SQS: the AWS profile to use (`--profile`), before the context's and AWS_PROFILE. */
  profile?: string
}

export interface Delivery {
  readonly envelope: Envelope
  /**
   * Optional, for a reader that copies without looking inside (replay): where in a log the
   * message was read, known without building the envelope — the envelope's own partition and
   * offset, given only by adapters whose envelopes carry no meta.messageId.
   */
  readonly partition?: number
  readonly offset?: string
  /**
   * Optional, opaque: the message as its source read it, for a destination's
   * BatchSender.sendAsRead (Kafka → Kafka: the record's bytes). Reading it builds no envelope.
   */
  readonly asRead?: unknown
  /**
   * Acknowledge (delete) this message where the target can `consume` (SQS): resolves only once
   * the broker confirmed it, rejects when it did not. A no-op elsewhere. Idempotent.
   */
  ack(): Promise<void>
  /** Give the message back to the broker without acknowledging it. Idempotent. */
  release(): Promise<void>
}

export interface PublishOptions {
  signal: AbortSignal
  /** Kafka: send every message to this partition. */
  partition?: number
  /** Kafka: use each envelope's own partition (replaying a capture as it was). */
  keepPartitions?: boolean
  /** Kafka: acks (-1 = all). */
  acks?: -1 | 0 | 1
  /** zstd needs Node 22.15+ (zlib's zstd). */
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  /** SQS FIFO: message group and deduplication ids for every message (else kept from envelopes). */
  groupId?: string
  dedupId?: string
  /** Pub/Sub: ordering key for every message (else kept from envelopes). */
  orderingKey?: string
  /** SQS: delivery delay. */
  delaySeconds?: number
  /** Kafka: idempotent producer. */
  idempotent?: boolean
  /** What the user should hear about this publish (keys dropped…); adapters never print. */
  emit?: Emit
  /** Called after each confirmed batch with the running count of sent messages. */
  onProgress?: (sent: number) => void
  /**
   * Called once per input message (by its 0-based index) when its fate is known: the broker
   * confirmed it (with the id or position it got, where the broker says), it failed, or the
   * broker dropped it as a duplicate. In any order (SQS sends batches in parallel). A replay ties
   * each confirmed copy to its source message through it.
   */
  onSettled?: (index: number, outcome: PublishOutcome) => void
}

export type PublishOutcome =
  | {status: 'sent'; id?: string; partition?: number; offset?: string}
  | {status: 'failed'; error: string}
  /** The broker accepted the send but kept an earlier message instead (SQS FIFO deduplication). */
  | {status: 'dropped'; reason: string; id?: string}

export interface PublishFailure {
  /** 0-based position in the input. */
  index: number
  error: string
}

export interface PublishReport {
  sent: number
  failed: PublishFailure[]
  /** SQS FIFO: accepted by the broker but dropped as duplicates (not counted in `sent`). */
  deduplicated?: Array<{index: number; messageId: string}>
}

/** See BrokerAdapter.openSender. */
export interface BatchSender {
  /**
   * Sends `envs` in order; resolves with each one's outcome once all have one. Rejects when the
   * target failed as a whole (missing, unreachable): nothing more goes there.
   */
  send(envs: Envelope[]): Promise<PublishOutcome[]>
  /**
   * Optional: sends messages as their source read them (Delivery.asRead), key, value and headers
   * byte for byte — what send() of their unchanged envelopes would send, without the envelopes.
   * Resolves undefined, having sent nothing, when it cannot write these (another broker's reads):
   * then send() their envelopes.
   */
  sendAsRead?(reads: unknown[], how: {newTimestamps?: boolean}): Promise<PublishOutcome[] | undefined>
  /** Ends the producer once what was sent is settled. */
  close(): Promise<void>
}

export interface BrokerAdapter {
  readonly kind: Target['kind']
  /**
   * Reads from `target`. Non-blocking between messages only as the broker allows; returns when the
   * stop condition is met, when `signal` aborts (within one poll), or when the consumer stops
   * iterating. Never acknowledges anything by itself. Throws NotFoundError (exit 5) for a missing
   * target, UnreachableError (exit 4) when the broker cannot be reached.
   */
  read(target: Target, opts: ReadOptions, signal: AbortSignal): AsyncIterable<Delivery>
  /**
   * Optional fast path: the same deliveries as read(), a broker batch at a time (Kafka: one
   * partition's part of a fetch). A reader that handles a batch without awaiting saves an
   * await per message, which is most of the cost of a fast read (1M messages: ~0.4 s).
   */
  readBatches?(target: Target, opts: ReadOptions, signal: AbortSignal): AsyncIterable<Iterable<Delivery>>
  /**
   * Sends every event, in order, and reports per message what failed. A message counts as sent
   * only once the broker confirmed it. Not idempotent: a second call sends copies.
   */
  publish(target: Target, events: AsyncIterable<Envelope>, opts: PublishOptions): Promise<PublishReport>
  /**
   * A producer kept open to one target and sent to batch by batch (replay), where the adapter
   * can do that more cheaply than a publish() fed one message at a time. Without it, replay
   * feeds a publish() (services/replay/sink.ts).
   */
  openSender?(target: Target, opts: Omit<PublishOptions, 'onSettled' | 'onProgress'>): Promise<BatchSender>
  /** Releases connections and handles. Idempotent. */
  close(): Promise<void>
}

export interface GroupLag {
  group: string
  topic?: string
  partition: number
  /** The next offset the group will read; undefined when it never committed. */
  committed?: string
  /** The offset the next message will get. */
  end: string
  /** end − committed, or undefined when unknown. */
  lag?: string
  committedAt?: string
  /** Timestamp of the last message the group has consumed (at committed − 1). */
  committedTimestamp?: string
  /** Timestamp of the newest message (at end − 1). */
  latestTimestamp?: string
}

/** Optional capability: `lag`. Reads committed positions without joining any group. */
export interface LagAware {
  /**
   * One row per group and partition. `signal` aborted: rejects at once with its reason (the
   * adapter stays usable, so a dashboard can abort a slow refresh and start the next).
   */
  lag(target: Target, group?: string, signal?: AbortSignal): Promise<GroupLag[]>
}

/** A dead-letter destination, as its broker describes it (`dlq list`). */
export interface DeadLetterQueue {
  /** The DLQ, as tail and replay take it (Pub/Sub: the dead-letter topic). */
  target: Target
  /** Messages in it; null when the broker cannot tell (see depthNote), never a guessed 0. */
  depth: number | null
  /** false: approximate (SQS) or an upper bound (a compacted Kafka topic). */
  depthExact: boolean
  /** Why depth is null or not exact. */
  depthNote?: string
  /** SQS: received and not yet deleted, and delayed — apart from depth. */
  inFlight?: number
  delayed?: number
  /** Where its messages come from, as the broker's settings say (or names, for Kafka). */
  sources: DeadLetterSource[]
  /** Timestamps of the oldest and newest message, where the broker tells them without a scan. */
  oldest?: string
  newest?: string
  /** SQS: a message move task under way (native redrive). */
  moveTask?: {status: string; moved?: number; toMove?: number; destination?: string}
  /** Why a --scan must not read it (an SQS DLQ with a redrive policy of its own); else readable. */
  unscannable?: string
  /**
   * Pub/Sub: subscriptions of the dead-letter topic, the targets a scan reads (the topic itself
   * holds nothing). None: Pub/Sub drops what is dead-lettered there.
   */
  readVia?: Target[]
  warnings: UserEvent[]
}

export interface DeadLetterSource {
  /** URL of the source queue, topic or subscription. */
  target: string
  /** SQS: receives before a message moves here. */
  maxReceiveCount?: number
  /** Pub/Sub: delivery attempts before a message moves here. */
  maxDeliveryAttempts?: number
  /** How the source was found: the broker's own settings, or a naming convention (Kafka). */
  by: 'redrive-policy' | 'dead-letter-policy' | 'name' | 'file-name'
}

/** Optional capability: `deadLetters`. */
export interface DeadLetterAware {
  /**
   * The dead-letter destinations in `scope`: a whole broker (a scope target with no resource, see
   * config/scope.ts) or one resource (then just it, as a DLQ). Read-only: lists and describes,
   * never receives, acks, commits or creates. A listing call that is not permitted is a warning
   * naming the permission, and what can be listed still is.
   */
  listDeadLetters(scope: Target, signal: AbortSignal): Promise<DeadLetterQueue[]>
  /**
   * Where a dead letter read from `source` came from, when that takes a look-up at the broker
   * (Pub/Sub: the topic of the subscription that dead-lettered it); undefined when it cannot say.
   */
  originOf?(source: Target, env: Envelope): Promise<Target | undefined>
}

export function isLagAware(a: BrokerAdapter): a is BrokerAdapter & LagAware {
  return typeof (a as Partial<LagAware>).lag === 'function'
}
export function isDeadLetterAware(a: BrokerAdapter): a is BrokerAdapter & DeadLetterAware {
  return typeof (a as Partial<DeadLetterAware>).listDeadLetters === 'function'
}

/** Optional capability: `nativeRedrive` (SQS's StartMessageMoveTask). */
export interface NativeRedriveAware {
  /**
   * The broker moves every message of the DLQ `source` by itself: to `dest`, or (undefined) back
   * to the queue each came from. Resolves when the task ends; `signal` cancels it (what was moved
   * stays moved).
   */
  nativeMove(source: Target, dest: Target | undefined, opts: NativeMoveOptions): Promise<NativeMoveResult>
}

export interface NativeMoveOptions {
  /** At most this many messages per second. */
  rate?: number
  signal: AbortSignal
  onProgress?(p: {moved: number; toMove?: number}): void
}

export interface NativeMoveResult {
  status: 'COMPLETED' | 'CANCELLED' | 'FAILED'
  /** Approximate, as the broker counts. */
  moved: number
  toMove?: number
  failureReason?: string
  durationMs: number
  /** The broker's id of the task. */
  task: string
}

export function isNativeRedriveAware(a: BrokerAdapter): a is BrokerAdapter & NativeRedriveAware {
  return typeof (a as Partial<NativeRedriveAware>).nativeMove === 'function'
}
