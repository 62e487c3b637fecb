import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ReceiveMessageCommand} from '@aws-sdk/client-sqs'
import {describe, expect, test} from 'vitest'
import {createFileAdapter} from '../../src/adapters/file/file-adapter.js'
import {createKafkaAdapter} from '../../src/adapters/kafka/kafka-adapter.js'
import {createSqsAdapter} from '../../src/adapters/sqs/sqs-adapter.js'
import type {BrokerAdapter, PublishOutcome} from '../../src/adapters/types.js'
import {parseTarget, type Target} from '../../src/config/targets.js'
import type {Envelope} from '../../src/envelope/envelope.js'
import {brokerEnv} from '../brokers/env.js'
import {createTopic} from '../brokers/kafka.js'
import {kcat} from '../brokers/peers.js'
import {counts, createQueue, fill, testSqs} from '../brokers/sqs.js'

/**
 * Issue #11.1: a confirmed copy can be tied to its source message. Each input message is settled
 * exactly once through onSettled, also when SQS sends 16 batches at a time that finish out of order.
 */
async function* envelopes(n: number, body: (i: number) => string): AsyncGenerator<Envelope> {
  for (let i = 0; i < n; i++) yield {v: 1, value: {utf8: body(i)}}
}

async function publishRecording(
  adapter: BrokerAdapter,
  target: Target,
  n: number,
  body: (i: number) => string,
) {
  const outcomes = new Map<number, PublishOutcome>()
  const twice: number[] = []
  const report = await adapter.publish(target, envelopes(n, body), {
    signal: new AbortController().signal,
    onSettled: (i, o) => {
      if (outcomes.has(i)) twice.push(i)
      outcomes.set(i, o)
    },
  })
  return {report, outcomes, twice}
}

describe('per-message publish outcomes (onSettled)', () => {
  test('SQS: 300 messages in parallel batches; every index settled once, with the MessageId SQS gave that very message', async () => {
    const q = await createQueue('outcomes')
    const target = parseTarget(q.url)
    const adapter = createSqsAdapter(target)
    try {
      const {report, outcomes, twice} = await publishRecording(adapter, target, 300, (i) => `m-${i}`)
      expect(twice).toEqual([])
      expect(report).toMatchObject({sent: 300, failed: []})
      expect([...outcomes.keys()].sort((a, b) => a - b)).toEqual(Array.from({length: 300}, (_, i) => i))
      // What the queue holds: each body's MessageId is the id reported for its index.
      const sqs = testSqs()
      const idOfBody = new Map<string, string>()
      try {
        for (;;) {
          const r = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: q.url,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
              VisibilityTimeout: 60,
            }),
          )
          if (!r.Messages?.length) break
          for (const m of r.Messages) idOfBody.set(m.Body!, m.MessageId!)
        }
      } finally {
        sqs.destroy()
      }
      expect(idOfBody.size).toBe(300)
      for (const [i, o] of outcomes) expect(o).toEqual({status: 'sent', id: idOfBody.get(`m-${i}`)})
    } finally {
      await adapter.close()
    }
  })

  test('SQS: a message SQS refuses is settled as failed, the others as sent', async () => {
    const q = await createQueue('outcomes-mixed')
    const target = parseTarget(q.url)
    const adapter = createSqsAdapter(target)
    try {
      // An empty body cannot go to SQS: refused before sending, for that message only.
      const {report, outcomes} = await publishRecording(adapter, target, 25, (i) => (i === 7 ? '' : `m-${i}`))
      expect(report.sent).toBe(24)
      expect(report.failed.map((f) => f.index)).toEqual([7])
      expect(outcomes.get(7)).toMatchObject({status: 'failed'})
      expect([...outcomes.values()].filter((o) => o.status === 'sent')).toHaveLength(24)
    } finally {
      await adapter.close()
    }
  })

  test('Kafka: every index settled once; the one too large for the topic fails alone, the rest are at the broker', async () => {
    const env = brokerEnv()
    const topic = await createTopic('outcomes', 3)
    const target = parseTarget(`kafka://${env.KAFKA_BROKERS}/${topic}`)
    const adapter = createKafkaAdapter(target)
    try {
      const big = 'x'.repeat(2 * 1024 * 1024)
      const {report, outcomes, twice} = await publishRecording(adapter, target, 600, (i) =>
        i === 300 ? big : `m-${i}`,
      )
      expect(twice).toEqual([])
      expect(outcomes.size).toBe(600)
      expect(outcomes.get(300)).toMatchObject({status: 'failed'})
      expect(report.sent).toBe(599)
      const sentTo = new Map(
        [...outcomes].filter(([, o]) => o.status === 'sent').map(([i, o]) => [`m-${i}`, o]),
      )
      expect(sentTo.size).toBe(599)
      // Keyless messages name the partition they went to; kcat finds each there.
      const r = await kcat(['-b', env.KAFKA_BROKERS!, '-C', '-t', topic, '-e', '-q', '-f', '%p %s\n'])
      const seen = r.stdout.toString().trim().split('\n')
      expect(seen).toHaveLength(599)
      for (const line of seen) {
        const [p, body] = line.split(' ') as [string, string]
        expect(sentTo.get(body)).toEqual({status: 'sent', partition: Number(p)})
      }
    } finally {
      await adapter.close()
    }
  })

  test('file broker: every index settled once, after its append', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evtctl-outcomes-'))
    const target = parseTarget(`file://${join(dir, 't.jsonl')}`)
    const adapter = createFileAdapter()
    const {report, outcomes, twice} = await publishRecording(adapter, target, 2500, (i) => `m-${i}`)
    expect(twice).toEqual([])
    expect(report.sent).toBe(2500)
    expect(outcomes.size).toBe(2500)
    expect([...outcomes.values()].every((o) => o.status === 'sent')).toBe(true)
  })

  test('SQS: a peek leaves every message; in consume mode ack() has deleted the message when it resolves', async () => {
    const q = await createQueue('ack-durable')
    await fill(q.url, ['a', 'b', 'c'])
    const target = parseTarget(q.url)
    const adapter = createSqsAdapter(target)
    try {
      const peek = {from: {kind: 'end' as const}, until: {kind: 'end' as const}, holdSeconds: 30}
      let seen = 0
      for await (const _ of adapter.read(target, peek, new AbortController().signal)) seen++
      expect(seen).toBe(3)
      expect(await counts(q.url)).toEqual({visible: 3, inFlight: 0})
      const consume = {...peek, consume: true, max: 1}
      for await (const d of adapter.read(target, consume, new AbortController().signal)) {
        await d.ack()
        // Checked by an independent client the moment ack() resolved: gone, not queued for later.
        expect(await counts(q.url)).toEqual({visible: 2, inFlight: 0})
        break
      }
      expect(await counts(q.url)).toEqual({visible: 2, inFlight: 0})
    } finally {
      await adapter.close()
    }
  })
})
