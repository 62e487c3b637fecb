import {createRequire} from 'node:module'
import {createRecordsBatch} from '@platformatic/kafka'
import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {MAX_TIMESTAMP_SPAN_MS, timestampRuns} from './timestamp-span.js'

// kafkajs's own record batch decoder (kafkajs 2.2.4) reads what @platformatic/kafka encoded.
const req = createRequire(import.meta.url)
const decodeBatch = req('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{
  records: Array<{timestamp: string}>
}>
const Decoder = req('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown

/** Encodes one record batch with @platformatic/kafka's producer code and reads the timestamps back with kafkajs's. */
async function roundTrip(timestamps: bigint[]): Promise<bigint[]> {
  const messages = timestamps.map((timestamp, i) => ({
    topic: 't',
    partition: 0,
    key: null as unknown as Buffer,
    value: Buffer.from(String(i)),
    timestamp,
  }))
  const bytes = createRecordsBatch(messages as never).buffer
  const batch = await decodeBatch(new Decoder(bytes))
  return batch.records.map((r) => BigInt(r.timestamp))
}

const DAY = 86_400_000n
/** Epoch ms from 1970 to ~2109, clustered sometimes (close together), spread widely at others. */
const timestampSets = fc.oneof(
  fc.array(fc.bigInt({min: 0n, max: 2n ** 42n}), {minLength: 1, maxLength: 40}),
  fc
    .tuple(
      fc.bigInt({min: 0n, max: 2n ** 41n}),
      fc.array(fc.bigInt({min: -60n * DAY, max: 60n * DAY}), {minLength: 1, maxLength: 40}),
    )
    .map(([base, deltas]) => deltas.map((d) => (base + d < 0n ? 0n : base + d))),
  // Right at the limit, on both sides of it.
  fc
    .tuple(fc.bigInt({min: 0n, max: 2n ** 41n}), fc.array(fc.integer({min: -2, max: 2}), {minLength: 1}))
    .map(([base, ks]) => [base, ...ks.map((k) => base + MAX_TIMESTAMP_SPAN_MS + BigInt(k))]),
)

describe('timestamp span of a produce request', () => {
  test('the @platformatic/kafka encoder still corrupts deltas of 2^31 ms and more (remove the workaround when it does not)', async () => {
    const first = BigInt(Date.parse('2026-01-01T00:00:00Z'))
    const later = BigInt(Date.parse('2026-11-30T05:00:00Z'))
    expect(await roundTrip([first, later])).not.toEqual([first, later])
    expect(await roundTrip([later, first])).not.toEqual([later, first])
  })

  test('every run it splits into reads back exact through kafkajs, in the original order', async () => {
    await fc.assert(
      fc.asyncProperty(timestampSets, async (timestamps) => {
        const runs = timestampRuns(timestamps, (t) => t)
        expect(runs.flat()).toEqual(timestamps)
        for (const run of runs) {
          const lo = run.reduce((a, b) => (b < a ? b : a))
          const hi = run.reduce((a, b) => (b > a ? b : a))
          expect(hi - lo).toBeLessThanOrEqual(MAX_TIMESTAMP_SPAN_MS)
          // Any subset (a partition's share of the request) starting anywhere is exact too.
          expect(await roundTrip(run)).toEqual(run)
          expect(await roundTrip([...run].reverse())).toEqual([...run].reverse())
        }
        // Runs split only where they had to: each next run's first would not have fitted.
        for (let i = 1; i < runs.length; i++) {
          const widened = [...runs[i - 1]!, runs[i]![0]!]
          const lo = widened.reduce((a, b) => (b < a ? b : a))
          const hi = widened.reduce((a, b) => (b > a ? b : a))
          expect(hi - lo).toBeGreaterThan(MAX_TIMESTAMP_SPAN_MS)
        }
      }),
      {numRuns: 300},
    )
  })
})
