import type {Target} from '../../config/targets.js'
import {InterruptedError, NotFoundError, UsageError} from '../../errors.js'
import type {AdapterOptions} from '../types.js'
import {mapKafkaError} from './errors.js'
import type {KafkaAdminPort, KafkaPort} from './port.js'

export type KafkaTarget = Extract<Target, {kind: 'kafka'}>

/**
 * What read, publish and offsets share: one connection (the port and its admin) and the helpers
 * every call needs. Made once per adapter by createKafkaAdapter.
 */
export interface KafkaContext {
  readonly target: KafkaTarget
  readonly port: KafkaPort
  readonly opts: AdapterOptions
  /** How long a read keeps reconnecting after it lost the cluster (0 = not at all). */
  readonly reconnectMs: number
  /** Where an error happened, for mapKafkaError. */
  where(topic?: string): {brokers: string[]; topic?: string}
  /**
   * `work`, or the signal's reason (exit 130) as soon as Ctrl-C/SIGTERM comes: the connections
   * are dropped then, so no pending call (a silent or frozen broker) keeps the process.
   */
  abortable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T>
  /** The adapter's admin client, connected on first use. */
  getAdmin(): Promise<KafkaAdminPort>
  /** The topics a read names, each `^…` pattern replaced by the existing topics it matches. */
  expandTopics(topics: string[]): Promise<string[]>
  /** Partition ids per topic; NotFoundError (exit 5) for a missing topic, which is not created. */
  partitionsOf(topics: string[]): Promise<Map<string, number[]>>
  /** Disconnects the admin client (the next call connects a new one). */
  closeAdmin(): Promise<void>
}

export function createKafkaContext(
  target: KafkaTarget,
  port: KafkaPort,
  opts: AdapterOptions,
  reconnectMs: number,
): KafkaContext {
  let admin: KafkaAdminPort | undefined
  const where = (topic?: string) => ({brokers: target.brokers, topic})

  async function getAdmin(): Promise<KafkaAdminPort> {
    if (admin) return admin
    const a = port.admin()
    try {
      await a.connect()
    } catch (err) {
      // A failed connect (e.g. no OAUTHBEARER token) leaves its socket open, which kept the
      // process alive until the broker closed it (600 s): close it before reporting.
      await a.disconnect().catch(() => {})
      throw mapKafkaError(err, where())
    }
    admin = a
    return a
  }

  /**
   * The topics a read names: as given, with each `^…` one (a regular expression, librdkafka's
   * convention) replaced by the existing topics it matches, internal ones (`__…`) left out.
   * NotFoundError (exit 5) when a pattern matches nothing.
   */
  async function expandTopics(topics: string[]): Promise<string[]> {
    if (!topics.some((t) => t.startsWith('^'))) return topics
    let existing: string[]
    try {
      existing = (await (await getAdmin()).listTopics()).filter((name) => !name.startsWith('__')).sort()
    } catch (err) {
      throw mapKafkaError(err, where())
    }
    const out = new Set<string>()
    for (const topic of topics) {
      if (!topic.startsWith('^')) {
        out.add(topic)
        continue
      }
      let re: RegExp
      try {
        re = new RegExp(topic)
      } catch (err) {
        throw new UsageError(
          `"${topic}" is not a valid regular expression: ${(err as Error).message}.`,
          'Topics that start with ^ are patterns, e.g. kafka://host:9092/^orders\\..*',
        )
      }
      const matched = existing.filter((name) => re.test(name))
      if (matched.length === 0) {
        throw new NotFoundError(
          `No topic on ${target.brokers.join(',')} matches ${topic}.`,
          'Check the pattern; list topics with kafka-topics.sh --list.',
        )
      }
      for (const m of matched) out.add(m)
    }
    return [...out]
  }

  async function partitionsOf(topics: string[]): Promise<Map<string, number[]>> {
    const a = await getAdmin()
    const out = new Map<string, number[]>()
    for (const topic of topics) {
      try {
        const meta = await a.fetchTopicMetadata({topics: [topic]})
        const parts = meta.topics[0]?.partitions.map((p) => p.partitionId).sort((x, y) => x - y) ?? []
        if (parts.length === 0)
          throw Object.assign(new Error('unknown topic'), {type: 'UNKNOWN_TOPIC_OR_PARTITION'})
        out.set(topic, parts)
      } catch (err) {
        throw mapKafkaError(err, where(topic))
      }
    }
    return out
  }

  return {
    target,
    port,
    opts,
    reconnectMs,
    where,
    abortable: (signal, work) =>
      cancellable(signal, work, () => {
        port.destroy?.()
      }),
    getAdmin,
    expandTopics,
    partitionsOf,
    closeAdmin: async () => {
      const a = admin
      admin = undefined
      await a?.disconnect().catch(() => {})
    },
  }
}

/**
 * `work`, or the signal's reason as soon as it aborts (after `onAbort`). What `work` does after
 * that is ignored (its rejection too).
 */
export function cancellable<T>(
  signal: AbortSignal,
  work: () => Promise<T>,
  onAbort: () => void = () => {},
): Promise<T> {
  if (signal.aborted) return Promise.reject(interruption(signal))
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort()
      reject(interruption(signal))
    }
    signal.addEventListener('abort', abort, {once: true})
    work()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', abort))
  })
}

/** Why the work stopped: the signal's reason (InterruptedError from the command), exit 130. */
export function interruption(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError()
}

export function asKafka(target: Target): KafkaTarget {
  if (target.kind !== 'kafka') throw new Error(`kafka adapter got a ${target.kind} target`)
  return target
}

export function noSuchPartition(topic: string, missing: number[], ids: number[]): NotFoundError {
  return new NotFoundError(
    `Topic "${topic}" has no partition ${missing.join(', ')} (it has ${ids.length}: ${ids[0]}–${ids[ids.length - 1]}).`,
    'Drop --partition (publish then places messages by key), or choose one that exists.',
  )
}
