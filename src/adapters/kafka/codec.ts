import type {Envelope, Header} from '../../envelope/envelope.js'
import {payloadBytes, toPayload} from '../../envelope/payload.js'
import type {KafkaHeaders, KafkaMessageIn, KafkaMessageOut} from './port.js'

/** A Kafka record as an envelope. Header order: kafkajs groups repeated names (see README). */
export function toEnvelope(url: string, partition: number, m: KafkaMessageIn): Envelope {
  const env: Envelope = {
    v: 1,
    source: url,
    partition,
    offset: m.offset,
    timestamp: new Date(Number(m.timestamp)).toISOString(),
    timestampType: m.batchContext?.timestampType === 1 ? 'append' : 'create',
    key: m.key === null ? null : toPayload(m.key),
    value: m.value === null ? null : toPayload(m.value),
  }
  const headers = toHeaders(m.headers)
  if (headers.length > 0) env.headers = headers
  return env
}

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

export class UnsendableError extends Error {}

/**
 * An envelope as a kafkajs message. Throws UnsendableError for what kafkajs cannot send
 * faithfully (a header with a null value). Returns whether repeated header names were interleaved
 * (kafkajs groups them, so their relative order changes).
 */
export function toKafkaMessage(env: Envelope): {message: KafkaMessageOut; reordered: boolean} {
  const headers: Record<string, Buffer[]> = {}
  let reordered = false
  let last: string | undefined
  for (const [name, value] of env.headers ?? []) {
    if (value === null) {
      throw new UnsendableError(`header "${name}" has a null value, which kafkajs cannot send`)
    }
    const values = headers[name]
    if (values && last !== name) reordered = true
    if (values) values.push(payloadBytes(value))
    else headers[name] = [payloadBytes(value)]
    last = name
  }
  const message: KafkaMessageOut = {
    key: env.key == null ? null : payloadBytes(env.key),
    value: env.value === null ? null : payloadBytes(env.value),
  }
  if (env.headers?.length)
    message.headers = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, v.length === 1 ? v[0]! : v]),
    ) as Record<string, Buffer | Buffer[]>
  if (env.timestamp) {
    const ms = Date.parse(env.timestamp)
    if (!Number.isNaN(ms)) message.timestamp = String(ms)
  }
  return {message, reordered}
}
