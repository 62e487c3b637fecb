import {readFileSync} from 'node:fs'
import {CompressionTypes, Kafka, type KafkaConfig, logLevel, Partitioners} from 'kafkajs'
import type {
  KafkaAdminPort,
  KafkaConsumerPort,
  KafkaMessageOut,
  KafkaPort,
  KafkaProducerPort,
} from './port.js'

export interface KafkaConnection {
  brokers: string[]
  clientId: string
  ssl?: {ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean} | true
  sasl?:
    | {mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string}
    | {mechanism: 'oauthbearer'; token: () => Promise<string>}
  connectionTimeoutMs: number
  requestTimeoutMs: number
}

/** The kafkajs implementation of the port: the one file that knows kafkajs's API. */
export function createKafkajsPort(conn: KafkaConnection): KafkaPort {
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
  const kafka = new Kafka(config)
  return {
    admin: () => kafka.admin() as unknown as KafkaAdminPort,
    consumer: (groupId, opts) =>
      kafka.consumer({
        groupId,
        // kafkajs defaults allowAutoTopicCreation to true; a typo would create a topic.
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: opts.maxWaitTimeInMs,
        maxBytesPerPartition: opts.maxBytesPerPartition,
        maxBytes: opts.maxBytes,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        rebalanceTimeout: 10_000,
      }) as unknown as KafkaConsumerPort,
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
        send: async ({topic, messages, acks, compression}) => {
          await producer.send({
            topic,
            acks,
            compression: compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
            timeout: 30_000,
            messages: messages.map(toKafkajsMessage),
          })
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
