import type {KafkaMessageOut, SendOutcome} from './port.js'
import {type BatchIdentity, encodeRawBatch, type RawRecordOut} from './raw-batch.js'

type Lib = typeof import('@platformatic/kafka')
type Producer = InstanceType<Lib['Producer']>
type Callback<T> = (error: Error | null, result?: T) => void
interface Metadata {
  brokers: Map<number, unknown>
  topics: Map<string, {partitions: Array<{leader: number}>}>
}
/** @platformatic/kafka's client internals used here (1.35, pinned): symbols found by name. */
interface Internals {
  getConnection(broker: unknown, cb: Callback<unknown>): void
  getApi(name: string, cb: Callback<{version: number}>): void
  getBootstrapConnection(cb: Callback<unknown>): void
  metadata(
    opts: {topics: string[]; autocreateTopics: boolean; forceUpdate?: boolean},
    cb: Callback<Metadata>,
  ): void
}
type Api = (connection: unknown, ...args: unknown[]) => void

/** Errors of a partition's answer after which the same batch is sent again (to the new leader). */
const RETRIES = 2
const RETRY_DELAY_MS = 200
/** The first produce version with the flexible (compact) request this module writes. */
const FIRST_VERSION = 9

/**
 * Produce requests whose record batches are written from the bytes records were read as
 * (raw-batch.ts), on @platformatic/kafka's connections, metadata and API versions. Its own
 * idempotent producer id and sequence numbers: the library's producer keeps its own for what it
 * sends, and the two never share a partition's sequence.
 */
export class RawProducer {
  readonly #lib: Lib
  readonly #internals: Internals
  readonly #idempotent: boolean
  readonly #timeoutMs: number
  #identity: Promise<{producerId: bigint; producerEpoch: number}> | undefined
  readonly #sequences = new Map<string, number>()
  #api: Promise<Api | undefined> | undefined

  private constructor(lib: Lib, internals: Internals, idempotent: boolean, timeoutMs: number) {
    this.#lib = lib
    this.#internals = internals
    this.#idempotent = idempotent
    this.#timeoutMs = timeoutMs
  }

  /** undefined when the library's internals are not what this module expects. */
  static of(lib: Lib, producer: Producer, idempotent: boolean, timeoutMs: number): RawProducer | undefined {
    const symbols = new Map<string, symbol>()
    for (let p = Object.getPrototypeOf(producer); p && p !== Object.prototype; p = Object.getPrototypeOf(p))
      for (const s of Object.getOwnPropertySymbols(p)) if (s.description) symbols.set(s.description, s)
    const fn = (name: string) => {
      const s = symbols.get(name)
      const f = s && (producer as unknown as Record<symbol, unknown>)[s]
      return typeof f === 'function' ? (f.bind(producer) as unknown) : undefined
    }
    const internals = {
      getConnection: fn('plt.kafka.base.getConnection'),
      getApi: fn('plt.kafka.base.getApi'),
      getBootstrapConnection: fn('plt.kafka.base.getBootstrapConnection'),
      metadata: fn('plt.kafka.base.metadata'),
    }
    if (Object.values(internals).some((f) => f === undefined)) return undefined
    return new RawProducer(lib, internals as unknown as Internals, idempotent, timeoutMs)
  }

  /**
   * Sends messages that all carry `raw`, each to its `placed` partition. undefined when the
   * broker's produce versions are older than this module writes (the caller encodes as usual).
   */
  async send(
    topic: string,
    messages: KafkaMessageOut[],
    placed: number[],
    acks: -1 | 1,
  ): Promise<SendOutcome | undefined> {
    // A failure here fails this chunk only: the next one asks again.
    this.#api ??= this.#produceApi().catch((err) => {
      this.#api = undefined
      throw err
    })
    const api = await this.#api
    if (!api) return undefined
    if (this.#idempotent)
      this.#identity ??= withRetries(() => this.#initProducerId()).catch((err) => {
        this.#identity = undefined
        throw err
      })
    const identity = await this.#identity
    // One batch per partition, made once: a retry sends the same bytes with the same sequence.
    const positions = new Map<number, number[]>()
    placed.forEach((p, i) => {
      const list = positions.get(p)
      if (list) list.push(i)
      else positions.set(p, [i])
    })
    const batches = new Map<number, Buffer>()
    const now = Date.now()
    for (const [partition, list] of positions) {
      const records: RawRecordOut[] = list.map((i) => messages[i]!)
      const id: BatchIdentity = identity
        ? {...identity, baseSequence: this.#sequences.get(`${topic}:${partition}`) ?? 0}
        : {producerId: -1n, producerEpoch: -1, baseSequence: -1}
      batches.set(partition, encodeRawBatch(records, id, this.#lib.crc32c as (b: Buffer) => number, now))
    }
    const errors = new Map<number, unknown>()
    let pending = [...batches.keys()]
    for (let attempt = 0; pending.length > 0; attempt++) {
      const answers = await this.#sendOnce(api, topic, pending, batches, acks, attempt > 0)
      const again: number[] = []
      for (const partition of pending) {
        const answer = answers.get(partition)
        if (answer === true) {
          errors.delete(partition)
          const key = `${topic}:${partition}`
          const n = positions.get(partition)!.length
          this.#sequences.set(key, ((this.#sequences.get(key) ?? 0) + n) % 2 ** 31)
          continue
        }
        errors.set(partition, answer)
        if (attempt < RETRIES && retriable(answer)) again.push(partition)
      }
      pending = again
      if (pending.length > 0) await new Promise((r) => setTimeout(r, RETRY_DELAY_MS))
    }
    if ([...errors.values()].some((e) => !refused(e))) {
      // What the broker holds of a batch without a clear answer is not known: the next batches
      // start afresh, with a new producer id (sequence numbers from 0). A batch the broker
      // refused was not appended: its sequence did not move, and the producer id stays.
      this.#identity = undefined
      this.#sequences.clear()
    }
    const failed: SendOutcome['failed'] = []
    for (const [partition, error] of errors)
      for (const position of positions.get(partition)!) failed.push({position, error})
    return {failed}
  }

  /** One produce request per leader; each partition's answer: true or its error. */
  async #sendOnce(
    api: Api,
    topic: string,
    partitions: number[],
    batches: Map<number, Buffer>,
    acks: -1 | 1,
    refresh: boolean,
  ): Promise<Map<number, true | unknown>> {
    const out = new Map<number, true | unknown>()
    let meta: Metadata
    try {
      meta = await call<Metadata>((cb) =>
        this.#internals.metadata({topics: [topic], autocreateTopics: false, forceUpdate: refresh}, cb),
      )
    } catch (error) {
      for (const p of partitions) out.set(p, error)
      return out
    }
    const byLeader = new Map<number, number[]>()
    for (const p of partitions) {
      const leader = meta.topics.get(topic)?.partitions[p]?.leader ?? -1
      const list = byLeader.get(leader)
      if (list) list.push(p)
      else byLeader.set(leader, [p])
    }
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        try {
          const broker = meta.brokers.get(leader)
          if (!broker) throw Object.assign(new Error(`no leader for ${topic} now`), {canRetry: true})
          const connection = await call((cb) => this.#internals.getConnection(broker, cb))
          const request = () => this.#request(topic, list, batches, acks)
          await call((cb) => api(connection, request, cb))
          for (const p of list) out.set(p, true)
        } catch (error) {
          const answered = writtenPartitions(error, topic)
          for (const p of list) out.set(p, answered.get(p) ?? error)
        }
      }),
    )
    return out
  }

  /** Produce request v9+ (flexible): no transactional id, one topic, a batch per partition. */
  #request(topic: string, partitions: number[], batches: Map<number, Buffer>, acks: -1 | 1) {
    return this.#lib.Writer.create()
      .appendString(null, true)
      .appendInt16(acks)
      .appendInt32(this.#timeoutMs)
      .appendArray([topic], (w, name) => {
        w.appendString(name, true).appendArray(partitions, (w, partition) => {
          const batch = batches.get(partition)!
          w.appendInt32(partition)
            .appendUnsignedVarInt(batch.length + 1)
            .append(batch)
        })
      })
      .appendTaggedFields()
  }

  /** The library's produce API for the broker's version, with this module's request. */
  async #produceApi(): Promise<Api | undefined> {
    const chosen = await call<{version: number}>((cb) => this.#internals.getApi('Produce', cb))
    if (chosen.version < FIRST_VERSION) return undefined
    const mod = (this.#lib as unknown as Record<string, {parseResponse?: unknown}>)[
      `produceV${chosen.version}`
    ]
    if (typeof mod?.parseResponse !== 'function') return undefined
    const createRequest = (request: () => unknown) => request()
    return this.#lib.createAPI(0, chosen.version, createRequest as never, mod.parseResponse as never) as Api
  }

  async #initProducerId(): Promise<{producerId: bigint; producerEpoch: number}> {
    const api = await call<Api>((cb) => this.#internals.getApi('InitProducerId', cb as never))
    const connection = await call((cb) => this.#internals.getBootstrapConnection(cb))
    // No transactional id: the broker hands out a new producer id whatever these say.
    const r = await call<{producerId: bigint; producerEpoch: number}>((cb) =>
      api(connection, null, this.#timeoutMs, -1n, -1, cb),
    )
    return {producerId: r.producerId, producerEpoch: r.producerEpoch}
  }
}

function call<T>(f: (cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    f((error, result) => (error ? reject(error) : resolve(result as T))),
  )
}

/**
 * Kafka's answers that refuse a partition's batch outright, before appending anything (the batch,
 * not the connection or the producer's state, is at fault). Anything else — no answer, a time-out,
 * a sequence or producer id the broker does not accept — leaves the producer's state unknown.
 */
const REFUSALS = new Set([
  'INVALID_TIMESTAMP',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_REQUIRED_ACKS',
  'TOPIC_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
])
function refused(error: unknown): boolean {
  return REFUSALS.has((error as {apiId?: string})?.apiId ?? '')
}

/** `f` again after a pause while it fails with an error worth retrying (as the library does). */
async function withRetries<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f()
    } catch (err) {
      if (attempt >= RETRIES || !retriable(err)) throw err
      await new Promise((r) => setTimeout(r, RETRY_DELAY_MS))
    }
  }
}

/** A network error, or a partition's error the library marks as worth retrying (leader moved…). */
function retriable(error: unknown): boolean {
  const e = error as {canRetry?: boolean; findBy?: (k: string, v: unknown) => unknown}
  if (typeof e?.findBy === 'function') return !e.findBy('canRetry', false)
  return e?.canRetry === true
}

/**
 * What the answers inside a failed send say per partition of `topic`: true = its batch was
 * written, an error = the broker refused it. Partitions not named got no answer (time-out, lost
 * connection): the caller counts them as failed. A produce request goes to each leader; one
 * leader's answer can refuse one partition's batch and accept the others'.
 */
export function writtenPartitions(error: unknown, topic: string): Map<number, true | unknown> {
  const out = new Map<number, true | unknown>()
  type Answer = {
    responses?: Array<{name: string; partitionResponses: Array<{index: number; errorCode: number}>}>
  }
  const seen = new Set<unknown>()
  const visit = (e: unknown) => {
    if (!e || typeof e !== 'object' || seen.has(e)) return
    seen.add(e)
    const x = e as {
      errors?: unknown[]
      cause?: unknown
      response?: Answer
      produced?: {offsets?: Array<{topic: string; partition: number}>}
    }
    for (const o of x.produced?.offsets ?? []) if (o.topic === topic) out.set(o.partition, true)
    const responses = x.response?.responses ?? []
    responses.forEach((r, i) => {
      if (r.name !== topic) return
      r.partitionResponses.forEach((p, j) => {
        if (p.errorCode === 0) {
          if (!out.has(p.index)) out.set(p.index, true)
          return
        }
        // The library's error for this partition: its path names the answer's place.
        const own = x.errors?.find(
          (c) => (c as {path?: string}).path === `/responses/${i}/partition_responses/${j}`,
        )
        out.set(p.index, own ?? Object.assign(new Error(`partition ${p.index}: error ${p.errorCode}`), {}))
      })
    })
    for (const c of x.errors ?? []) visit(c)
    visit(x.cause)
  }
  visit(error)
  return out
}
