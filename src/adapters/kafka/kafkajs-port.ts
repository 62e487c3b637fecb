import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {isIP, connect as netConnect, type Socket} from 'node:net'
import {connect as tlsConnect} from 'node:tls'
import type * as KafkajsModule from 'kafkajs'
import type {ISocketFactory, KafkaConfig} from 'kafkajs'
import {registerCodecs} from './kafkajs-codecs.js'
import {createFetcher} from './kafkajs-fetcher.js'
import {installRecordDecoder} from './kafkajs-record-decoder.js'
import {patchRequestQueueTimers} from './kafkajs-timers.js'
import type {KafkaAdminPort, KafkaMessageOut, KafkaPort, KafkaProducerPort} from './port.js'

export interface KafkaConnection {
  brokers: string[]
  clientId: string
  ssl?: {ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean} | true
  sasl?:
    | {mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string}
    | {mechanism: 'oauthbearer'; token: () => Promise<string>}
  connectionTimeoutMs: number
  requestTimeoutMs: number
  /** How long a read keeps reconnecting after it lost the cluster; 0 = not at all. */
  reconnectTimeoutMs?: number
}

/**
 * kafkajs, loaded after our record decoder is in place (see kafkajs-record-decoder.ts): a static
 * import would be hoisted above it by the bundler.
 */
function loadKafkajs(): {lib: typeof KafkajsModule; Batch: unknown} {
  installRecordDecoder()
  const req = createRequire(import.meta.url)
  const lib = req('kafkajs') as typeof KafkajsModule
  patchRequestQueueTimers(req)
  registerCodecs(lib as unknown as Parameters<typeof registerCodecs>[0])
  return {lib, Batch: req('kafkajs/src/consumer/batch.js')}
}

/** The kafkajs implementation of the port. Only it and kafkajs-fetcher, -record-decoder and -codecs know kafkajs. */
export function createKafkajsPort(conn: KafkaConnection): KafkaPort {
  const {lib, Batch} = loadKafkajs()
  const {CompressionTypes, Kafka, logLevel, Partitioners} = lib
  const config: KafkaConfig = {
    clientId: conn.clientId,
    brokers: conn.brokers,
    connectionTimeout: conn.connectionTimeoutMs,
    requestTimeout: conn.requestTimeoutMs,
    // Few, quick retries: an unreachable broker should be exit 4 in seconds, not minutes.
    retry: {retries: 2, initialRetryTime: 200, maxRetryTime: 2_000},
    logLevel: logLevel.NOTHING,
    ...(conn.ssl ? {ssl: conn.ssl === true ? true : {...conn.ssl}} : {}),
    ...(conn.sasl ? {sasl: toSasl(conn.sasl)} : {}),
  }
  // Our own sockets (as kafkajs's default factory makes them), so destroy() can drop them all.
  const sockets = new Set<Socket>()
  let destroyed = false
  const socketFactory: ISocketFactory = ({host, port, ssl, onConnect}) => {
    const socket = ssl
      ? tlsConnect({host, port, ...(!isIP(host) ? {servername: host} : {}), ...ssl}, onConnect)
      : netConnect({host, port}, onConnect)
    socket.setKeepAlive(true, 60_000)
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    if (destroyed) process.nextTick(() => socket.destroy(new Error('Connection closed: interrupted')))
    return socket
  }
  const kafka = new Kafka({...config, socketFactory})
  return {
    destroy: () => {
      destroyed = true
      // With an error: kafkajs hears of it only through 'error' (it ignores 'close'), and then
      // fails the pending requests and stops its request-timeout timer.
      for (const s of sockets) s.destroy(new Error('Connection closed: interrupted'))
    },
    admin: () => kafka.admin() as unknown as KafkaAdminPort,
    fetcher: () => createFetcher(kafka, Batch),
    producer: (opts) => {
      const producer = kafka.producer({
        allowAutoTopicCreation: false,
        // The Java client's murmur2 partitioner: keyed messages land where a Java producer puts them.
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: opts.idempotent,
        ...(opts.idempotent ? {maxInFlightRequests: 5} : {}),
      })
      return {
        connect: () => producer.connect(),
        disconnect: () => producer.disconnect(),
        // kafkajs's error does not say which partitions' batches were written: all count as failed.
        send: async ({topic, messages, acks, compression}) => {
          try {
            await producer.send({
              topic,
              acks,
              compression:
                compression === 'gzip'
                  ? CompressionTypes.GZIP
                  : compression === 'none'
                    ? CompressionTypes.None
                    : unsupported(compression),
              timeout: 30_000,
              messages: messages.map(toKafkajsMessage),
            })
            return {failed: []}
          } catch (error) {
            return {failed: messages.map((_, position) => ({position, error}))}
          }
        },
      } satisfies KafkaProducerPort
    },
  }
}

/**
 * kafkajs takes headers as an object: repeated names are sent together (interleaved order is
 * lost) and a null value cannot be sent at all.
 */
function toKafkajsMessage(m: KafkaMessageOut) {
  const headers: Record<string, Buffer[]> = {}
  for (const [name, value] of m.headers ?? []) {
    if (value === null) throw new Error(`header "${name}" has a null value, which kafkajs cannot send`)
    const list = headers[name]
    if (list) list.push(value)
    else headers[name] = [value]
  }
  return {
    key: m.key ?? null,
    value: m.value,
    ...(m.partition !== undefined ? {partition: m.partition} : {}),
    ...(m.timestamp !== undefined ? {timestamp: String(m.timestamp)} : {}),
    ...(m.headers?.length ? {headers} : {}),
  }
}

function toSasl(s: NonNullable<KafkaConnection['sasl']>): NonNullable<KafkaConfig['sasl']> {
  if (s.mechanism === 'oauthbearer') {
    return {mechanism: 'oauthbearer', oauthBearerProvider: async () => ({value: await s.token()})}
  }
  return {mechanism: s.mechanism, username: s.username, password: s.password} as NonNullable<
    KafkaConfig['sasl']
  >
}

export function readPem(path: string): string {
  return readFileSync(path, 'utf8')
}

function unsupported(compression: string): never {
  throw new Error(
    `the kafkajs producer (EVTCTL_KAFKA_PRODUCER=kafkajs) cannot compress with ${compression}; use the default producer`,
  )
}
