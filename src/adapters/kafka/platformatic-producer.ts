import type {KafkaConnection} from './kafkajs-port.js'
import {keyPartition} from './murmur2.js'
import {loadPlatformatic} from './platformatic-lib.js'
import {RawProducer, writtenPartitions} from './platformatic-raw.js'
import type {KafkaProducerPort} from './port.js'

/**
 * The producer half of the port on @platformatic/kafka: measured 2.8× faster than kafkajs at
 * producing here (bench/kafka-clients.mjs), and it sends what kafkajs cannot: repeated header
 * names in their original interleaved order, and headers with a null value.
 * Loaded only by `publish`.
 */
export function createPlatformaticProducer(
  conn: KafkaConnection,
  opts: {idempotent: boolean},
): KafkaProducerPort {
  type Lib = typeof import('@platformatic/kafka')
  let lib: Lib | undefined
  let producer: InstanceType<Lib['Producer']> | undefined
  /** Writes records read from another topic as they were read (null: not available). */
  let raw: RawProducer | null | undefined
  const counts = new Map<string, number>()
  const names = new Map<string, Buffer>()
  return {
    async connect() {
      lib = await loadPlatformatic()
      producer = new lib.Producer({...platformaticClientOptions(conn, lib), idempotent: opts.idempotent})
      // Fail here, not on the first batch, when the cluster cannot be reached or rejects us.
      await producer.metadata({topics: []})
    },
    async disconnect() {
      await producer?.close(true)
    },
    async send({topic, messages, acks, compression}) {
      if (!producer || !lib) throw new Error('producer not connected')
      const partitions = await partitionCount(topic)
      // Every message's partition is fixed here, so a refused partition batch names its messages.
      // The Java client's murmur2 (masked to positive): keyed messages land where a Java producer
      // puts them. The library's own default uses the unmasked hash and would not.
      const placed = messages.map((m) => m.partition ?? (m.key ? keyPartition(m.key, partitions) : 0))
      if (compression === 'none' && acks !== 0 && messages.every((m) => m.raw)) {
        raw ??= RawProducer.of(lib, producer, opts.idempotent, conn.requestTimeoutMs) ?? null
        const sent = await raw?.send(topic, messages, placed, acks)
        if (sent) return sent
      }
      try {
        await producer.send({
          acks,
          compression: lib.CompressionAlgorithms[compression.toUpperCase() as Uppercase<typeof compression>],
          messages: messages.map((m, i) => ({
            topic,
            ...(m.key ? {key: m.key} : {}),
            value: m.value ?? undefined,
            partition: placed[i]!,
            ...(m.timestamp !== undefined ? {timestamp: m.timestamp} : {}),
            ...(m.headers?.length ? {headers: headerMap(m.headers)} : {}),
          })),
        })
        return {failed: []}
      } catch (error) {
        const written = writtenPartitions(error, topic)
        return {
          failed: placed.flatMap((p, position) =>
            written.get(p) === true ? [] : [{position, error: written.get(p) ?? error}],
          ),
        }
      }
    },
  }

  /**
   * Headers as the library takes them: a Map with Buffer keys, distinct objects, so that repeated
   * names stay separate and in order. A name's Buffer is made once and shared between messages.
   */
  function headerMap(headers: Array<[string, Buffer | null]>): Map<Buffer, Buffer> {
    const map = new Map<Buffer, Buffer>()
    for (const [k, v] of headers) {
      let name = names.get(k)
      if (!name) {
        name = Buffer.from(k)
        if (names.size < 1000) names.set(k, name)
      }
      // A repeated name in the same message needs a key object of its own.
      map.set(map.has(name) ? Buffer.from(k) : name, v as Buffer)
    }
    return map
  }

  async function partitionCount(topic: string): Promise<number> {
    let n = counts.get(topic)
    if (n === undefined) {
      const meta = await producer!.metadata({topics: [topic]})
      n = meta.topics.get(topic)?.partitionsCount ?? 1
      counts.set(topic, n)
    }
    return n
  }
}

function toSasl(s: NonNullable<KafkaConnection['sasl']>, lib: typeof import('@platformatic/kafka')) {
  if (s.mechanism === 'oauthbearer')
    return {mechanism: lib.SASLMechanisms.OAUTHBEARER, token: () => s.token()}
  const mechanism = {
    plain: lib.SASLMechanisms.PLAIN,
    'scram-sha-256': lib.SASLMechanisms.SCRAM_SHA_256,
    'scram-sha-512': lib.SASLMechanisms.SCRAM_SHA_512,
  }[s.mechanism]
  return {mechanism, username: s.username, password: s.password}
}

/** The SASL settings in @platformatic/kafka terms (the lag view uses them too). */
/**
 * Connection settings every @platformatic/kafka client of ours shares (producer, admin): the
 * connection's brokers, time-outs, TLS and SASL; two quick retries; never creating a topic
 * implicitly (the adapter looks topics up itself).
 */
export function platformaticClientOptions(conn: KafkaConnection, lib: typeof import('@platformatic/kafka')) {
  return {
    clientId: conn.clientId,
    bootstrapBrokers: conn.brokers,
    connectTimeout: conn.connectionTimeoutMs,
    requestTimeout: conn.requestTimeoutMs,
    timeout: conn.requestTimeoutMs,
    retries: 2,
    retryDelay: 200,
    autocreateTopics: false,
    ...(conn.ssl ? {tls: conn.ssl === true ? {} : conn.ssl} : {}),
    ...(conn.sasl ? {sasl: toSasl(conn.sasl, lib)} : {}),
  }
}
