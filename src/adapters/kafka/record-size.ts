import type {KafkaMessageOut} from './port.js'
import {zigzagBytes} from './raw-batch.js'

/** Kafka's default message.max.bytes / max.message.bytes: 1 MiB + 12. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588

/** A record batch's header (v2, magic 2). */
export const BATCH_OVERHEAD = 61

/**
 * At most the bytes `m` takes as a record in a v2 batch: its fields plus the largest varints
 * (5 bytes each) for the length, timestamp delta and offset delta.
 */
export function recordBytes(m: KafkaMessageOut): number {
  let n = 1 + 5 + 5 + 5 // attributes, length, timestamp delta, offset delta
  // Key, value and headers as read: their bytes as they are.
  if (m.raw) return n + m.raw.rawEnd - m.raw.rawStart
  n += zigzagBytes(m.key ? m.key.length : -1) + (m.key?.length ?? 0)
  n += zigzagBytes(m.value ? m.value.length : -1) + (m.value?.length ?? 0)
  n += zigzagBytes(m.headers?.length ?? 0)
  for (const [name, value] of m.headers ?? []) {
    const k = Buffer.byteLength(name)
    n += zigzagBytes(k) + k + zigzagBytes(value ? value.length : -1) + (value?.length ?? 0)
  }
  return n
}

/** The exact bytes of a record alone in its batch (deltas 0), from its recordBytes bound. */
export function loneRecordBytes(bound: number): number {
  const body = bound - 13
  return body + zigzagBytes(body)
}
