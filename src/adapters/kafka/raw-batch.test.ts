import {createRequire} from 'node:module'
import {crc32c, Reader, readRecordsBatch} from '@platformatic/kafka'
import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {forTests} from './kafkajs-record-decoder.js'
import {encodeRawBatch, type RawRecordOut, type RawTail} from './raw-batch.js'

// Records made by kafkajs's own encoder, read by our decoder (which notes where key, value and
// headers lie), written by encodeRawBatch, and read back by another client's parser
// (@platformatic/kafka's readRecordsBatch): the fields must come back as they went in.
const req = createRequire(import.meta.url)
const encodeRecord = req('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const Decoder = req('kafkajs/src/protocol/decoder.js')

const someBytes = fc.uint8Array({maxLength: 300}).map((b) => Buffer.from(b))
const bytes = fc.option(someBytes, {nil: null})
const header = fc.tuple(fc.string({maxLength: 12}), bytes)

describe('raw record batches (a copy writes key, value and headers as read)', () => {
  test('another client reads back every field, and the CRC is right', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: bytes,
            value: bytes,
            headers: fc.array(header, {maxLength: 4}),
            timestamp: fc.integer({min: 1_500_000_000_000, max: 1_500_000_000_000 + 2 ** 31 - 1}),
          }),
          {minLength: 1, maxLength: 30},
        ),
        fc.record({
          producerId: fc.bigInt({min: -1n, max: 2n ** 40n}),
          producerEpoch: fc.integer({min: -1, max: 32767}),
          baseSequence: fc.integer({min: -1, max: 2 ** 31 - 1}),
        }),
        (records, id) => {
          const out: RawRecordOut[] = records.map((r, i) => {
            // kafkajs takes headers as an object: one value per name here, in the list's order.
            const headers = Object.fromEntries(r.headers.map(([k, v]) => [k, v ?? Buffer.alloc(0)]))
            const framed = new Decoder(
              encodeRecord({key: r.key, value: r.value, headers, offsetDelta: i, timestampDelta: 7}).buffer,
            )
            const decoded = forTests.decodeRecord(new Decoder(framed.readVarIntBytes()), {
              firstOffset: '0',
              firstTimestamp: '0',
              magicByte: 2,
              timestampType: 0,
              maxTimestamp: '0',
            }) as unknown as RawTail
            return {raw: decoded, timestamp: BigInt(r.timestamp)}
          })
          const buf = encodeRawBatch(out, id, crc32c as (b: Buffer) => number)
          const batch = readRecordsBatch(Reader.from(buf)) as unknown as {
            length: number
            magic: number
            crc: number
            lastOffsetDelta: number
            firstTimestamp: bigint
            maxTimestamp: bigint
            producerId: bigint
            producerEpoch: number
            firstSequence: number
            records: Array<{
              timestampDelta: bigint
              offsetDelta: number
              key: Buffer | null
              value: Buffer | null
              headers: Array<[Buffer, Buffer]>
            }>
          }
          expect(batch.length).toBe(buf.length - 12)
          expect(batch.magic).toBe(2)
          expect(batch.crc).toBe((crc32c as (b: Buffer) => number)(buf.subarray(21)))
          expect(batch.lastOffsetDelta).toBe(records.length - 1)
          expect(batch.producerId).toBe(id.producerId)
          expect(batch.producerEpoch).toBe(id.producerEpoch)
          expect(batch.firstSequence).toBe(id.baseSequence)
          expect(Number(batch.maxTimestamp)).toBe(Math.max(...records.map((r) => r.timestamp)))
          batch.records.forEach((got, i) => {
            const want = records[i]!
            expect(Number(batch.firstTimestamp + got.timestampDelta)).toBe(want.timestamp)
            expect(got.offsetDelta).toBe(i)
            // The library reads an absent key or value as an empty buffer.
            expect(Buffer.compare(got.key ?? Buffer.alloc(0), want.key ?? Buffer.alloc(0))).toBe(0)
            expect(Buffer.compare(got.value ?? Buffer.alloc(0), want.value ?? Buffer.alloc(0))).toBe(0)
            const wantHeaders = Object.entries(
              Object.fromEntries(want.headers.map(([k, v]) => [k, v ?? Buffer.alloc(0)])),
            )
            expect(got.headers.map(([k, v]) => [k.toString(), v.toString('hex')])).toEqual(
              wantHeaders.map(([k, v]) => [k, v.toString('hex')]),
            )
          })
        },
      ),
      {numRuns: 300},
    )
  })
})
