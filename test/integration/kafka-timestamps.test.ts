import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {createKafkaAdapter} from '../../src/adapters/kafka/kafka-adapter.js'
import {parseTarget} from '../../src/config/targets.js'
import type {Envelope} from '../../src/envelope/envelope.js'
import {brokerEnv} from '../brokers/env.js'
import {createTopic} from '../brokers/kafka.js'
import {kcat} from '../brokers/peers.js'
import {lines, run, sandboxEnv} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = sandboxEnv()

/** `value timestamp-ms` of every record in the topic, as kcat (librdkafka) reads them. */
async function kcatTimestamps(topic: string): Promise<Map<string, number>> {
  const r = await kcat(['-b', env.KAFKA_BROKERS!, '-C', '-t', topic, '-e', '-q', '-f', '%s %T\\n'])
  expect(r.code, r.stderr).toBe(0)
  return new Map(
    lines(Buffer.from(r.stdout)).map((l) => {
      const [value, ts] = l.split(' ')
      return [value!, Number(ts)]
    }),
  )
}

const DAY = 86_400_000

describe.skipIf(!env.KAFKA_BROKERS)('kafka publish keeps every timestamp (real broker)', () => {
  const url = (topic: string) => `kafka://${env.KAFKA_BROKERS}/${topic}`

  test('a batch spanning more than 2^31 ms (the issue’s reproduction): kcat reads both timestamps as sent', async () => {
    const topic = await createTopic('tsy')
    const input = [
      {v: 1, timestamp: '2026-01-01T00:00:00Z', value: {utf8: 'a'}},
      {v: 1, timestamp: '2026-11-30T05:00:00Z', value: {utf8: 'b'}},
      {v: 1, timestamp: '2025-01-01T00:00:00Z', value: {utf8: 'c'}},
    ]
    const r = await run(['publish', url(topic), '--input', 'jsonl'], {
      env: cli,
      input: input.map((e) => JSON.stringify(e)).join('\n'),
    })
    expect(r.code, r.stderr).toBe(0)
    expect(Object.fromEntries(await kcatTimestamps(topic))).toEqual({
      a: Date.parse('2026-01-01T00:00:00Z'),
      b: Date.parse('2026-11-30T05:00:00Z'),
      c: Date.parse('2025-01-01T00:00:00Z'),
    })
  })

  test('property: any set of timestamps, spread over three partitions, reads back exact in kcat', async () => {
    // Kafka 4 refuses timestamps more than an hour ahead by default (message.timestamp.after.max.ms,
    // tested below); this property is about evtctl keeping any timestamp, so the topic allows all.
    const topic = await createTopic('ts-prop', 3, {'message.timestamp.after.max.ms': String(2n ** 63n - 1n)})
    const target = parseTarget(url(topic))
    const adapter = createKafkaAdapter(target)
    let runNo = 0
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            // 1970 … ~2109, anywhere.
            fc.array(fc.integer({min: 0, max: 2 ** 42}), {minLength: 1, maxLength: 30}),
            // Around one time, weeks apart: older and newer than the first.
            fc
              .tuple(
                fc.integer({min: 100 * DAY, max: 2 ** 41}),
                fc.array(fc.integer({min: -80 * DAY, max: 80 * DAY}), {minLength: 1, maxLength: 30}),
              )
              .map(([base, ds]) => ds.map((d) => base + d)),
          ),
          async (timestamps) => {
            const id = runNo++
            async function* events(): AsyncGenerator<Envelope> {
              for (const [i, ms] of timestamps.entries()) {
                yield {v: 1, timestamp: new Date(ms).toISOString(), value: {utf8: `${id}:${i}`}} as Envelope
              }
            }
            const report = await adapter.publish(target, events(), {signal: new AbortController().signal})
            expect(report).toEqual({sent: timestamps.length, failed: []})
            const seen = await kcatTimestamps(topic)
            expect(timestamps.map((_, i) => seen.get(`${id}:${i}`))).toEqual(timestamps)
          },
        ),
        {numRuns: 15},
      )
    } finally {
      await adapter.close()
    }
  }, 120_000)

  test("a timestamp beyond the topic's message.timestamp.after.max.ms (Kafka 4: an hour ahead by default) is listed failed, naming why: exit 7", async () => {
    const topic = await createTopic('ts-future', 1, {'message.timestamp.after.max.ms': '3600000'})
    const input = [
      {v: 1, timestamp: '2026-01-01T00:00:00Z', value: {utf8: 'past'}},
      {v: 1, timestamp: new Date(Date.now() + 3 * 3_600_000).toISOString(), value: {utf8: 'future'}},
    ]
    const r = await run(['publish', url(topic), '--input', 'jsonl', '--json'], {
      env: cli,
      input: input.map((e) => JSON.stringify(e)).join('\n'),
    })
    expect(r.code, r.stderr).toBe(7)
    const report = JSON.parse(r.stdout.toString()) as {failed: Array<{index: number; error: string}>}
    // The broker judges a partition's batch as a whole: both are refused, the reason named.
    expect(report.failed.map((f) => f.index)).toContain(1)
    expect(report.failed.find((f) => f.index === 1)?.error).toMatch(/INVALID_TIMESTAMP/)
    expect((await kcatTimestamps(topic)).has('future')).toBe(false)
  })
})
