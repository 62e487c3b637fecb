import type {Target} from '../../config/targets.js'
import type {LagSourceAware} from '../lag-source.js'
import type {AdapterOptions, BrokerAdapter, DeadLetterAware, LagAware} from '../types.js'
import {kafkaConnection, RECONNECT_TIMEOUT_MS} from './connection.js'
import {asKafka, createKafkaContext} from './context.js'
import {listDeadLetters} from './dead-letters.js'
import {createKafkaPort} from './default-port.js'
import {kafkaLagReader} from './group-lag.js'
import {lag} from './offsets.js'
import type {KafkaPort} from './port.js'
import {openSender, publish} from './publish.js'
import {readBatches} from './read.js'

export {TAIL_GROUP_PREFIX} from './offsets.js'
export {startOffset} from './read.js'
export {recordBytes} from './record-size.js'

/**
 * Kafka on kafkajs, behind ./port.ts: this file wires one connection (./context.ts) to the parts.
 * - Reads (./read.ts, ./reconnect.ts) join no consumer group and commit nothing: Fetch requests go
 *   straight to the partition leaders (port.fetcher(), as kcat's assign), from offsets the adapter
 *   works out itself.
 * - Topics are never created: allowAutoTopicCreation is off and the topic is looked up first.
 * - Publishing (./publish.ts) uses the Java client's murmur2 partitioner for keyed messages, and
 *   round-robin from a random partition for keyless ones.
 * - Lag (./offsets.ts) reads committed offsets with the admin API, batched per broker.
 */
export function createKafkaAdapter(
  target: Target,
  opts: AdapterOptions = {},
  port?: KafkaPort,
): BrokerAdapter & LagAware & LagSourceAware & DeadLetterAware {
  const t = asKafka(target)
  const conn = port ? undefined : kafkaConnection(t, opts)
  const kafka = port ?? createKafkaPort(conn!)
  const ctx = createKafkaContext(t, kafka, opts, conn?.reconnectTimeoutMs ?? RECONNECT_TIMEOUT_MS)

  return {
    kind: 'kafka',
    read: async function* (target_, readOpts, signal) {
      for await (const batch of readBatches(ctx, asKafka(target_), readOpts, signal)) yield* batch
    },
    readBatches: (target_, readOpts, signal) => readBatches(ctx, asKafka(target_), readOpts, signal),
    publish: (target_, events, publishOpts) => publish(ctx, asKafka(target_), events, publishOpts),
    openSender: (target_, senderOpts) => openSender(ctx, asKafka(target_), senderOpts),
    lag: (target_, group, signal) => lag(ctx, asKafka(target_), group, signal),
    listDeadLetters: (scope, signal) => listDeadLetters(ctx, asKafka(scope), signal),
    lagReader: (scope, lagOpts) =>
      kafkaLagReader(ctx, asKafka(scope), lagOpts, () => {
        if (!kafka.groups) throw new Error('this Kafka port has no group reader')
        return kafka.groups()
      }),
    close: () => ctx.closeAdmin(),
  }
}
