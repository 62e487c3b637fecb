import {createRequire} from 'node:module'
import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {forTests} from './kafkajs-record-decoder.js'

// kafkajs's own record encoder, decoder and protocol classes (kafkajs 2.2.4): ours must decode
// exactly what theirs does, plus headers in order.
const req = createRequire(import.meta.url)
const encodeRecord = req('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const theirDecoder = req('kafkajs/src/protocol/recordBatch/record/v0/decoder.js')
const Decoder = req('kafkajs/src/protocol/decoder.js')
const Long = req('kafkajs/src/utils/long.js')

/** A record's bytes as the batch decoder hands them over: without the length prefix. */
function recordBytes(fields: object): Buffer {
  const framed = new Decoder(encodeRecord(fields).buffer)
  return framed.readVarIntBytes()
}

const int64 = fc.bigInt({min: -(2n ** 63n), max: 2n ** 63n - 1n})
const someBytes = fc.uint8Array({maxLength: 40}).map((b) => Buffer.from(b))
const bytes = fc.option(someBytes, {nil: null})

describe('record decoder (drop-in for kafkajs)', () => {
  test('decodes any record exactly as kafkajs does, with headers also in wire order', () => {
    fc.assert(
      fc.property(
        fc.record({
          firstOffset: fc.oneof(
            fc.bigInt({min: 0n, max: 2n ** 40n}),
            fc.bigInt({min: 0n, max: 2n ** 63n - 2n ** 32n}),
          ),
          firstTimestamp: fc.oneof(fc.bigInt({min: -1n, max: 2n ** 42n}), int64),
          timestampDelta: fc.oneof(
            fc.integer({min: -1e6, max: 1e6}),
            int64.map((b) => b / 2n),
          ),
          offsetDelta: fc.nat({max: 2 ** 31 - 1}),
          logAppend: fc.boolean(),
          key: bytes,
          value: bytes,
          headers: fc.dictionary(
            fc.string({minLength: 1, maxLength: 5}).filter((k) => k !== '__proto__'),
            // kafkajs's encoder cannot write a null header value (the integration tests do).
            fc.oneof(someBytes, fc.array(someBytes, {minLength: 2, maxLength: 3})),
            {maxKeys: 4},
          ),
        }),
        (r) => {
          const bytesOf = recordBytes({
            offsetDelta: r.offsetDelta,
            timestampDelta: Long.fromString(String(r.timestampDelta)),
            key: r.key,
            value: r.value,
            headers: r.headers,
          })
          const context = () => ({
            firstOffset: String(r.firstOffset),
            firstTimestamp: String(r.firstTimestamp),
            magicByte: 2,
            isControlBatch: false,
            timestampType: r.logAppend ? 1 : 0,
            maxTimestamp: '1795490000000',
          })
          const theirs = theirDecoder(new Decoder(bytesOf), context())
          const rec = forTests.decodeRecord(new Decoder(bytesOf), context())
          const {headerList, rawBuffer, rawStart, rawEnd} = rec
          // Every field kafkajs's decoder gives, the same (key, value and headers read on demand).
          const fields = (r: Record<string, unknown>) =>
            Object.fromEntries(
              [
                'magicByte',
                'attributes',
                'timestamp',
                'offset',
                'key',
                'value',
                'headers',
                'isControlRecord',
              ].map((k) => [k, r[k]]),
            )
          expect(fields(rec as unknown as Record<string, unknown>)).toEqual(fields(theirs))
          // Key, value and headers are the record's last bytes, from the key's length to its end.
          expect(rawBuffer).toBe(bytesOf)
          expect(rawEnd).toBe(bytesOf.length)
          const tail = new Decoder(bytesOf.subarray(rawStart))
          expect(tail.readVarIntBytes()).toEqual(theirs.key)
          expect(tail.readVarIntBytes()).toEqual(theirs.value)
          const flat = Object.entries(r.headers).flatMap(([k, v]) =>
            Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]],
          )
          expect(headerList).toEqual(flat)
          // A copy asks for the end and the key first: found without reading the rest, the same.
          const fresh = forTests.decodeRecord(new Decoder(bytesOf), context())
          expect(fresh.rawEnd).toBe(bytesOf.length)
          expect(fresh.key).toEqual(theirs.key)
          expect(fresh.value).toEqual(theirs.value)
          expect(fresh.headerList).toEqual(flat)
        },
      ),
      {numRuns: 500},
    )
  })

  test('skipping a record cut short throws instead of reading past it', () => {
    const whole = recordBytes({
      offsetDelta: 0,
      timestampDelta: Long.fromString('0'),
      key: Buffer.from('k'),
      value: Buffer.from('value'),
      headers: {h: Buffer.from('x')},
    })
    const start = forTests.decodeRecord(new Decoder(whole), {
      firstOffset: '0',
      firstTimestamp: '0',
      magicByte: 2,
      timestampType: 0,
      maxTimestamp: '0',
    }).rawStart
    expect(forTests.skipFields(whole, start)).toBe(whole.length)
    for (let cut = start; cut < whole.length; cut++)
      expect(() => forTests.skipFields(whole.subarray(0, cut), start)).toThrow(RangeError)
  })

  test('small varlongs are read as numbers, long ones are left to kafkajs', () => {
    const enc = (n: bigint) => {
      const Encoder = req('kafkajs/src/protocol/encoder.js')
      return new Decoder(new Encoder().writeVarLong(Long.fromString(String(n))).buffer)
    }
    for (const n of [0n, 1n, -1n, 63n, -64n, 2n ** 40n, -(2n ** 47n)]) {
      expect(forTests.readSmallVarLong(enc(n))).toBe(Number(n))
    }
    const big = enc(2n ** 60n)
    expect(forTests.readSmallVarLong(big)).toBeUndefined()
    expect(big.offset).toBe(0)
  })
})
