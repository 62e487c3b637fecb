import type {BrokerKind, Target} from '../config/targets.js'
import {UnsupportedError} from '../errors.js'
import type {AdapterOptions, BrokerAdapter, Capabilities, Capability} from './types.js'

/**
 * URL scheme → adapter. Capabilities are plain data here so a command can refuse before any SDK
 * is loaded; the adapter module itself is imported lazily, so `sqs://` never loads kafkajs.
 * This map is the one seam tests may swap. Adapters never import it (no cycle): what a target
 * can do is capabilitiesOf(target), and the contract suite checks each claim by behaviour.
 */
interface Registration {
  label: string
  capabilities: Capabilities
  /** What to do instead, per missing capability (ends the exit-6 sentence). */
  instead: Partial<Record<Capability, string>>
  load(): Promise<{create(target: Target, opts: AdapterOptions): BrokerAdapter}>
}

const none: Capabilities = {
  seekOffset: false,
  seekTime: false,
  partitions: false,
  nonDestructiveRead: false,
  consumerGroups: false,
  lag: false,
  deadLetters: false,
  nativeRedrive: false,
  orderingKeys: false,
  fifo: false,
  follow: false,
  keys: false,
  producerAcks: false,
  compression: false,
  idempotentProducer: false,
  deliveryDelay: false,
  receiveCounts: false,
  consume: false,
  awsProfile: false,
}

export const registry: Record<BrokerKind, Registration> = {
  file: {
    label: 'The file broker',
    capabilities: {
      ...none,
      seekOffset: true,
      seekTime: true,
      nonDestructiveRead: true,
      consumerGroups: true,
      lag: true,
      deadLetters: true,
      follow: true,
      keys: true,
    },
    instead: {partitions: 'A file topic has one partition (0); drop --partition.'},
    load: async () => {
      const m = await import('./file/file-adapter.js')
      return {create: () => m.createFileAdapter()}
    },
  },
  kafka: {
    label: 'Kafka',
    capabilities: {
      ...none,
      seekOffset: true,
      seekTime: true,
      partitions: true,
      nonDestructiveRead: true,
      consumerGroups: true,
      lag: true,
      deadLetters: true,
      follow: true,
      keys: true,
      // With a consumer group that records what was taken (ReadOptions.group).
      consume: true,
      producerAcks: true,
      compression: true,
      idempotentProducer: true,
    },
    instead: {},
    load: async () => {
      const m = await import('./kafka/kafka-adapter.js')
      return {create: (target, opts) => m.createKafkaAdapter(target, opts)}
    },
  },
  sqs: {
    label: 'SQS',
    capabilities: {
      ...none,
      deadLetters: true,
      nativeRedrive: true,
      // Queue depth for `lag` (GetQueueAttributes).
      lag: true,
      fifo: true,
      follow: true,
      deliveryDelay: true,
      receiveCounts: true,
      consume: true,
      awsProfile: true,
    },
    instead: {
      seekOffset:
        'SQS queues have no offsets or positions; a browse lists what the queue hands out. Drop --from.',
      seekTime: 'SQS cannot start a read at a time. Drop --from.',
      partitions: 'SQS queues have no partitions. Drop --partition.',
      keys: 'SQS messages have no key (a FIFO queue groups messages by their group id). Drop --key.',
    },
    load: async () => {
      const m = await import('./sqs/sqs-adapter.js')
      return {create: (target, opts) => m.createSqsAdapter(target, opts)}
    },
  },
  pubsub: {
    label: 'Pub/Sub',
    // lag: subscriptions listed; their backlog from Cloud Monitoring (null, with the reason, where it cannot be read).
    capabilities: {...none, seekTime: true, orderingKeys: true, follow: true, deadLetters: true, lag: true},
    instead: {
      seekOffset:
        'Pub/Sub has no offsets, so no --from beginning, offset or last N: use --from <time> (e.g. --from -7d) on a topic that retains messages, or no --from (a tail starts at the end).',
      partitions: 'Pub/Sub has no partitions. Drop --partition.',
      keys: 'Pub/Sub messages have no key (an ordering key orders the messages that share one). Drop --key.',
    },
    load: async () => {
      const m = await import('./pubsub/pubsub-adapter.js')
      return {create: (target, opts) => m.createPubsubAdapter(target, opts)}
    },
  },
}

/**
 * What `target` can do. Mostly the broker's, but a Pub/Sub subscription is peeked from its
 * backlog through a snapshot, so it cannot start at a time as a topic can, and it can be consumed.
 */
export function capabilitiesOf(target: Target): Capabilities {
  const c = registry[target.kind].capabilities
  // A subscription can be consumed (pulled and acked); a topic has nothing to ack.
  if (target.kind === 'pubsub' && target.resource === 'subscriptions')
    return {...c, seekTime: false, consume: true}
  return c
}

/** What to do instead, for `target` (a subscription has its own advice). */
function insteadOf(target: Target, need: Capability): string | undefined {
  if (target.kind === 'pubsub' && target.resource === 'subscriptions' && need === 'seekTime') {
    return `A subscription is peeked from its backlog; --from <time> applies to topics. Drop --from, or tail the topic: pubsub://${target.project}/topics/TOPIC.`
  }
  return registry[target.kind].instead[need]
}

/**
 * Broker-specific flags and the capability each needs: a flag the broker cannot honour is refused
 * (exit 6) before anything is read or sent, never silently dropped.
 */
export const FLAG_NEEDS: Readonly<Record<string, Capability>> = {
  partition: 'partitions',
  'keep-partitions': 'partitions',
  key: 'keys',
  acks: 'producerAcks',
  compression: 'compression',
  idempotent: 'idempotentProducer',
  'ordering-key': 'orderingKeys',
  'group-id': 'fifo',
  'dedup-id': 'fifo',
  delay: 'deliveryDelay',
  hold: 'receiveCounts',
  'allow-receive-count': 'receiveCounts',
  // Before consume: --group names the more specific refusal.
  group: 'consumerGroups',
  consume: 'consume',
  profile: 'awsProfile',
}

/** Refuses (exit 6) the first given flag of `flags` that `target`'s broker cannot honour. */
export function requireFlags(target: Target, flags: Record<string, unknown>): void {
  const reg = registry[target.kind]
  const can = capabilitiesOf(target)
  for (const [flag, need] of Object.entries(FLAG_NEEDS)) {
    const value = flags[flag]
    const given = value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0)
    if (given && !can[need]) {
      throw new UnsupportedError(
        `${reg.label} cannot honour --${flag} (${describeCapability(need)}).`,
        insteadOf(target, need) ?? `Drop --${flag}; see "${reg.label}" in the README for what it offers.`,
      )
    }
  }
}

/** Throws UnsupportedError (exit 6) naming the first missing capability. Never connects. */
export function requireCapabilities(target: Target, needs: readonly Capability[]): void {
  const reg = registry[target.kind]
  const can = capabilitiesOf(target)
  for (const need of needs) {
    if (!can[need]) {
      const what =
        target.kind === 'pubsub' && target.resource === 'subscriptions' ? 'A Pub/Sub subscription' : reg.label
      throw new UnsupportedError(
        `${what} cannot do what was asked (${describeCapability(need)}).`,
        insteadOf(target, need) ?? 'See "Brokers and capabilities" in the README.',
      )
    }
  }
}

function describeCapability(c: Capability): string {
  const words: Record<Capability, string> = {
    seekOffset: 'start at the beginning, an offset or the last N',
    seekTime: 'start at a time',
    partitions: 'choose partitions',
    nonDestructiveRead: 'read without side effects',
    consumerGroups: 'consumer groups',
    lag: 'report lag',
    deadLetters: 'find dead letters',
    nativeRedrive: 'redrive natively',
    orderingKeys: 'ordering keys',
    fifo: 'FIFO ordering',
    follow: 'follow live',
    keys: 'message keys',
    producerAcks: 'producer acknowledgements',
    compression: 'batch compression',
    idempotentProducer: 'an idempotent producer',
    deliveryDelay: 'delay delivery',
    receiveCounts: 'hold received messages',
    consume: 'delete what it reads',
    awsProfile: 'AWS profiles',
  }
  return words[c]
}

export async function openAdapter(target: Target, opts: AdapterOptions = {}): Promise<BrokerAdapter> {
  const mod = await registry[target.kind].load()
  return mod.create(target, opts)
}
