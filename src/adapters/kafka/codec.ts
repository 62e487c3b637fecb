import type {Envelope, Header} from '../../envelope/envelope.js'
import {payloadBytes, toPayload} from '../../envelope/payload.js'
import type {KafkaHeaders, KafkaMessageIn, KafkaMessageOut} from './port.js'

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

/** A Kafka record as an envelope, headers in wire order. */
export function toEnvelope(url: string, partition: number, m: KafkaMessageIn): Envelope {
  const env: Envelope = {
    v: 1,
    source: url,
    partition,
    offset: m.offset,
    timestamp: isoOf(m.timestamp),
    timestampType: m.batchContext?.timestampType === 1 ? 'append' : 'create',
    key: m.key === null ? null : toPayload(m.key),
    value: m.value === null ? null : toPayload(m.value),
  }
  const headers = m.headerList ? fromList(m.headerList) : toHeaders(m.headers)
  if (headers.length > 0) env.headers = headers
  return env
}

function fromList(list: Array<[string, Buffer | null]>): Header[] {
  const out: Header[] = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const [name, v] = list[i]!
    out[i] = [name, v === null ? null : toPayload(v)]
  }
  return out
}

/** kafkajs's own header object (repeated names grouped): for records our decoder did not make. */
function toHeaders(h: KafkaHeaders | undefined): Header[] {
  const out: Header[] = []
  if (!h) return out
  for (const [name, v] of Object.entries(h)) {
    const values = Array.isArray(v) ? v : [v]
    for (const one of values) {
      out.push([
        name,
        one === null || one === undefined
          ? null
          : toPayload(typeof one === 'string' ? Buffer.from(one) : one),
      ])
    }
  }
  return out
}

/** An envelope as a Kafka record: bytes, headers in order (repeats and null values kept). */
export function toKafkaMessage(env: Envelope): KafkaMessageOut {
  const message: KafkaMessageOut = {
    key: env.key == null ? null : payloadBytes(env.key),
    value: env.value === null ? null : payloadBytes(env.value),
  }
  if (env.headers?.length)
    message.headers = env.headers.map(([k, v]) => [k, v === null ? null : payloadBytes(v)])
  if (env.timestamp) {
    const ms = Date.parse(env.timestamp)
    if (!Number.isNaN(ms)) message.timestamp = BigInt(ms)
  }
  return message
}
