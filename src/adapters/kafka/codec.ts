import {type Envelope, type Header, READ_FROM} from '../../envelope/envelope.js'
import {keptBytes, type Payload, payloadBytes, toPayload} from '../../envelope/payload.js'
import type {KafkaHeaders, KafkaMessageIn, KafkaMessageOut} from './port.js'
import type {RawTail} from './raw-batch.js'

let lastMs = ''
let lastIso = ''
/** Records of one batch mostly share a timestamp: format each millisecond once. */
function isoOf(ms: string): string {
  if (ms !== lastMs) {
    lastMs = ms
    lastIso = new Date(Number(ms)).toISOString()
  }
  return lastIso
}

/** How payloads are made: for display (JSON recognised), or for a copy (bytes kept, no JSON). */
type How = Parameters<typeof toPayload>[1]
const SHOWN: How = {}
const COPIED: How = {json: false, keepBytes: true}

/** A Kafka record as an envelope, headers in wire order. `forCopy`: see ReadOptions.forCopy. */
export function toEnvelope(url: string, partition: number, m: KafkaMessageIn, forCopy = false): Envelope {
  const how = forCopy ? COPIED : SHOWN
  const env: Envelope = {
    v: 1,
    source: url,
    partition,
    offset: m.offset,
    timestamp: isoOf(m.timestamp),
    timestampType: m.batchContext?.timestampType === 1 ? 'append' : 'create',
    key: m.key === null ? null : toPayload(m.key, how),
    value: m.value === null ? null : toPayload(m.value, how),
  }
  const headers = m.headerList ? fromList(m.headerList, how) : toHeaders(m.headers, how)
  if (headers.length > 0) env.headers = headers
  if (forCopy && m.rawBuffer) (env as ReadForCopy)[READ_FROM] = m
  return env
}

/**
 * A copy's envelope keeps the record it was read from (READ_FROM), so that a Kafka producer can
 * write the record's key, value and headers as they were read. Since copies of the envelope carry
 * it too, it is used only while the envelope still holds those very bytes (sameAsRead).
 */
type ReadForCopy = Envelope & {[READ_FROM]?: KafkaMessageIn}

/** The record `env` was read from, when its key, value and headers are still that record's bytes. */
function sameAsRead(env: Envelope): KafkaMessageIn | undefined {
  const m = (env as ReadForCopy)[READ_FROM]
  if (!m?.rawBuffer) return undefined
  if (!sameBytes(env.key ?? null, m.key) || !sameBytes(env.value, m.value)) return undefined
  const list = m.headerList ?? []
  const headers = env.headers ?? []
  if (headers.length !== list.length) return undefined
  for (let i = 0; i < list.length; i++) {
    const [name, v] = headers[i]!
    if (name !== list[i]![0] || !sameBytes(v, list[i]![1])) return undefined
  }
  return m
}

function sameBytes(p: Payload | null, read: Buffer | null): boolean {
  return p === null ? read === null : read !== null && keptBytes(p) === read
}

function fromList(list: Array<[string, Buffer | null]>, how: How): Header[] {
  const out: Header[] = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const [name, v] = list[i]!
    out[i] = [name, v === null ? null : toPayload(v, how)]
  }
  return out
}

/** kafkajs's own header object (repeated names grouped): for records our decoder did not make. */
function toHeaders(h: KafkaHeaders | undefined, how: How): Header[] {
  const out: Header[] = []
  if (!h) return out
  for (const [name, v] of Object.entries(h)) {
    const values = Array.isArray(v) ? v : [v]
    for (const one of values) {
      out.push([
        name,
        one === null || one === undefined
          ? null
          : toPayload(typeof one === 'string' ? Buffer.from(one) : one, how),
      ])
    }
  }
  return out
}

/** An envelope as a Kafka record: bytes, headers in order (repeats and null values kept). */
export function toKafkaMessage(env: Envelope): KafkaMessageOut {
  const read = sameAsRead(env)
  if (read) {
    // Written from the bytes read (key and value kept for partitioning and sizes).
    const message: KafkaMessageOut = {
      key: read.key,
      value: read.value,
      raw: read as KafkaMessageIn & RawTail,
    }
    // Also as fields, for a producer that encodes them (the same arrays: nothing copied).
    if (read.headerList?.length) message.headers = read.headerList
    if (env.timestamp) {
      const ms = msOf(env.timestamp)
      if (ms !== undefined) message.timestamp = ms
    }
    return message
  }
  const message: KafkaMessageOut = {
    key: env.key == null ? null : payloadBytes(env.key),
    value: env.value === null ? null : payloadBytes(env.value),
  }
  if (env.headers?.length)
    message.headers = env.headers.map(([k, v]) => [k, v === null ? null : payloadBytes(v)])
  if (env.timestamp) {
    const ms = msOf(env.timestamp)
    if (ms !== undefined) message.timestamp = ms
  }
  return message
}

/**
 * A record read from another topic, as the producer writes it: its bytes as read (raw), its key
 * for the partitioner; value and headers looked at only by a producer that encodes them (the
 * library's own path: compression, old brokers).
 */
export class ReadMessage implements KafkaMessageOut {
  readonly key: Buffer | null
  readonly raw: KafkaMessageIn & RawTail
  partition?: number
  timestamp?: bigint

  constructor(read: KafkaMessageIn & RawTail, timestamp: bigint | undefined) {
    this.raw = read
    this.key = read.key
    if (timestamp !== undefined) this.timestamp = timestamp
  }

  get value(): Buffer | null {
    return this.raw.value
  }

  get headers(): Array<[string, Buffer | null]> | undefined {
    const list = this.raw.headerList
    return list?.length ? list : undefined
  }
}

let lastRead = ''
let lastReadMs = 0n
/** A record's timestamp (epoch ms as text) as the producer takes it; records of a batch mostly share one. */
export function readTimestamp(ms: string): bigint {
  if (ms !== lastRead) {
    lastReadMs = BigInt(ms)
    lastRead = ms
  }
  return lastReadMs
}

let lastText = ''
let lastMsValue: bigint | undefined
/** Messages sent together mostly share a timestamp: parse each once. */
function msOf(iso: string): bigint | undefined {
  if (iso !== lastText) {
    const ms = Date.parse(iso)
    lastText = iso
    lastMsValue = Number.isNaN(ms) ? undefined : BigInt(ms)
  }
  return lastMsValue
}
