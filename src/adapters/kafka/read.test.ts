import {describe, expect, test} from 'vitest'
import {deliveryId, idOf} from '../../services/replay/replay.js'
import type {KafkaMessageIn} from './port.js'
import {KafkaDelivery} from './read.js'

const noop = async () => {}

/** A record that counts how often its key and value are read. */
function record(raw = true): KafkaMessageIn & {reads: number} {
  const r = {
    reads: 0,
    timestamp: '1796000000000',
    offset: '41',
    headerList: [['h', Buffer.from('x')]] as Array<[string, Buffer | null]>,
    get key() {
      r.reads++
      return Buffer.from('k')
    },
    get value() {
      r.reads++
      return Buffer.from('v')
    },
    ...(raw ? {rawBuffer: Buffer.alloc(4), rawStart: 0, rawEnd: 4} : {}),
  }
  return r
}

describe('KafkaDelivery', () => {
  test('makes its envelope only when asked, once; its position and id need none', () => {
    const r = record()
    const d = new KafkaDelivery(r, 2, 'kafka://h:9092/t', noop, true)
    expect(d.partition).toBe(2)
    expect(d.offset).toBe('41')
    expect(deliveryId(d)).toBe('2:41')
    expect(d.asRead).toBe(d)
    expect(r.reads).toBe(0)
    const env = d.envelope
    const reads = r.reads
    expect(reads).toBeGreaterThan(0)
    expect(d.envelope).toBe(env)
    expect(r.reads).toBe(reads)
    // The id the journal keeps is the envelope's own.
    expect(idOf(env)).toBe(deliveryId(d))
    expect(env).toMatchObject({partition: 2, offset: '41', source: 'kafka://h:9092/t'})
  })

  test('offers its record as read only for a copy of bytes our decoder kept', () => {
    expect(new KafkaDelivery(record(), 0, 's', noop, false).asRead).toBeUndefined()
    expect(new KafkaDelivery(record(false), 0, 's', noop, true).asRead).toBeUndefined()
  })
})
