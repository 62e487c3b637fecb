import {ReceiveMessageCommand} from '@aws-sdk/client-sqs'
import {describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic as createKafkaTopic, listTopics, testKafka} from '../brokers/kafka.js'
import {kcatProduce} from '../brokers/peers.js'
import {createTopic as createPubsubTopic, leftovers, testPubsub} from '../brokers/pubsub.js'
import {counts, createQueue, fill, testSqs} from '../brokers/sqs.js'
import {run, sandboxEnv} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = {...sandboxEnv(), PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST}

interface Dlq {
  target: string
  depth: number | null
  depthExact: boolean
  sources: Array<{target: string; maxReceiveCount?: number; maxDeliveryAttempts?: number; by: string}>
  reasons?: Array<{reason: string; count: number}>
  sourcesSeen?: Array<{source: string; count: number}>
  scanned?: number
  maxReceiveCount?: number
  inFlight?: number
  oldest?: string
  newest?: string
  warnings: Array<{code: string; message: string}>
}

async function dlqList(args: string[]): Promise<{code: number; dlqs: Dlq[]; stderr: string}> {
  const r = await run(['dlq', 'list', ...args, '--json'], {env: cli})
  const doc = JSON.parse(r.stdout.toString() || '{}') as {dlqs?: Dlq[]}
  return {code: r.code ?? -1, dlqs: doc.dlqs ?? [], stderr: r.stderr}
}

describe.skipIf(!env.SQS_ENDPOINT)('dlq list on SQS (ElasticMQ)', () => {
  /** Receives everything from `url` with visibility 0 until SQS has moved it all to the DLQ. */
  async function deadLetterAll(url: string): Promise<void> {
    const sqs = testSqs()
    try {
      for (let i = 0; i < 20; i++) {
        const r = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 0,
            WaitTimeSeconds: 0,
          }),
        )
        if (!r.Messages?.length && (await counts(url)).visible === 0) return
      }
    } finally {
      sqs.destroy()
    }
  }

  test('a DLQ filled by SQS itself: depth, sources with maxReceiveCount, DeadLetterQueueSourceArn per message; nothing moved', async () => {
    const dlq = await createQueue('dl-orders-dlq')
    const main = await createQueue('dl-orders', {
      RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq.arn, maxReceiveCount: 1}),
    })
    await fill(main.url, ['a', 'b', 'c'])
    await deadLetterAll(main.url)
    expect(await counts(dlq.url)).toEqual({visible: 3, inFlight: 0})

    const one = await dlqList([dlq.url, '--scan', '10'])
    expect(one.code, one.stderr).toBe(0)
    expect(one.dlqs).toHaveLength(1)
    const d = one.dlqs[0]!
    expect(d).toMatchObject({
      target: dlq.url,
      depth: 3,
      depthExact: false,
      inFlight: 0,
      maxReceiveCount: 1,
      sources: [{target: main.url, maxReceiveCount: 1, by: 'redrive-policy'}],
      scanned: 3,
      reasons: [{reason: '(no reason recorded)', count: 3}],
      sourcesSeen: [{source: main.arn, count: 3}],
    })
    // Read-only: everything is still there, nothing hidden.
    expect(await counts(dlq.url)).toEqual({visible: 3, inFlight: 0})
    expect(await counts(main.url)).toEqual({visible: 0, inFlight: 0})
  })

  test('the whole endpoint: every DLQ once, a source queue never; a DLQ with its own redrive policy is not scanned', async () => {
    const dlq2 = await createQueue('dl-second-dlq')
    const dlq1 = await createQueue('dl-first-dlq', {
      RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq2.arn, maxReceiveCount: 5}),
    })
    const src = await createQueue('dl-src', {
      RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq1.arn, maxReceiveCount: 2}),
    })
    await fill(dlq1.url, ['x'])
    // Through a context naming the endpoint (no TARGET): as a user would set it up.
    const set = await run(
      [
        'config',
        'set-context',
        'sqs-here',
        '--broker',
        'sqs',
        '--region',
        env.SQS_REGION!,
        '--endpoint',
        env.SQS_ENDPOINT!,
      ],
      {env: cli},
    )
    expect(set.code, set.stderr).toBe(0)
    const listed = await run(['dlq', 'list', '--scan', '5', '--json', '--context', 'sqs-here'], {env: cli})
    expect(listed.code, listed.stderr).toBe(0)
    const dlqs = (JSON.parse(listed.stdout.toString()) as {dlqs: Dlq[]}).dlqs
    const mine = dlqs.filter((d) => [dlq1.url, dlq2.url, src.url].includes(d.target))
    expect(mine.map((d) => d.target).sort()).toEqual([dlq1.url, dlq2.url].sort())
    const first = mine.find((d) => d.target === dlq1.url)!
    expect(first.sources).toEqual([{target: src.url, maxReceiveCount: 2, by: 'redrive-policy'}])
    expect(first.scanned).toBeUndefined()
    expect(first.warnings.map((w) => w.code)).toContain('NOT_SCANNED')
    expect(await counts(dlq1.url)).toEqual({visible: 1, inFlight: 0})
  })

  test('a queue that does not exist is exit 5; a queue nobody dead-letters to is listed with a warning', async () => {
    const missing = await dlqList([`${env.SQS_ENDPOINT}/000000000000/${uniqueName('nope')}`])
    expect(missing.code).toBe(5)
    const plain = await createQueue('dl-plain')
    const r = await dlqList([plain.url])
    expect(r.code, r.stderr).toBe(0)
    expect(r.dlqs[0]!.warnings.map((w) => w.code)).toEqual(['NOT_A_DLQ'])
  })
})

describe.skipIf(!env.KAFKA_BROKERS)('dlq list on Kafka', () => {
  test('Spring- and Connect-style DLQs with real headers (written by kcat): depth, source, reasons; nothing made', async () => {
    const source = await createKafkaTopic('dl-pay')
    const spring = `${source}.DLT`
    const connect = `dlq-${uniqueName('ship')}`
    const admin = testKafka().admin()
    await admin.connect()
    await admin.createTopics({
      topics: [{topic: spring, numPartitions: 2}, {topic: connect}],
      waitForLeaders: true,
    })
    const groupsBefore = (await admin.listGroups()).groups.map((g) => g.groupId).sort()
    await admin.disconnect()
    for (const [i, msg] of ['bad total', 'bad total', 'no customer'].entries()) {
      const p = await kcatProduce(
        env.KAFKA_BROKERS!,
        spring,
        {
          partition: i % 2,
          headers: [
            `kafka_dlt-original-topic=${source}`,
            'kafka_dlt-exception-fqcn=java.lang.IllegalStateException',
            `kafka_dlt-exception-message=${msg}`,
          ],
        },
        `{"i":${i}}\n`,
      )
      expect(p.code, p.stderr).toBe(0)
    }
    const c = await kcatProduce(
      env.KAFKA_BROKERS!,
      connect,
      {
        headers: [
          '__connect.errors.topic=shipments',
          '__connect.errors.exception.class.name=org.apache.kafka.connect.errors.DataException',
          '__connect.errors.exception.message=Converting byte[] to Kafka Connect data failed due to serialization error',
        ],
      },
      'x\n',
    )
    expect(c.code, c.stderr).toBe(0)
    const topicsBefore = (await listTopics()).sort()

    const r = await dlqList([`kafka://${env.KAFKA_BROKERS}`, '--scan', '100'])
    expect(r.code, r.stderr).toBe(0)
    const s = r.dlqs.find((d) => d.target.endsWith(`/${spring}`))!
    expect(s).toMatchObject({
      depth: 3,
      depthExact: true,
      sources: [{target: `kafka://${env.KAFKA_BROKERS}/${source}`, by: 'name'}],
      scanned: 3,
      reasons: [
        {reason: 'java.lang.IllegalStateException: bad total', count: 2},
        {reason: 'java.lang.IllegalStateException: no customer', count: 1},
      ],
      sourcesSeen: [{source, count: 3}],
    })
    expect(Date.parse(s.oldest!)).toBeLessThanOrEqual(Date.parse(s.newest!))
    const k = r.dlqs.find((d) => d.target.endsWith(`/${connect}`))!
    expect(k).toMatchObject({
      depth: 1,
      sources: [],
      reasons: [
        {
          reason:
            'org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error',
          count: 1,
        },
      ],
      sourcesSeen: [{source: 'shipments', count: 1}],
    })
    // The source topic is no DLQ; nothing was created: no topic, no consumer group.
    expect(r.dlqs.some((d) => d.target.endsWith(`/${source}`))).toBe(false)
    expect((await listTopics()).sort()).toEqual(topicsBefore)
    const after = testKafka().admin()
    await after.connect()
    const groupsAfter = (await after.listGroups()).groups.map((g) => g.groupId)
    await after.disconnect()
    expect(groupsAfter.filter((g) => !groupsBefore.includes(g))).toEqual([])
  })

  test('one topic: just it; a missing one is exit 5', async () => {
    const t = await createKafkaTopic('dl-single')
    const one = await dlqList([`kafka://${env.KAFKA_BROKERS}/${t}`])
    expect(one.code, one.stderr).toBe(0)
    expect(one.dlqs).toMatchObject([{depth: 0, depthExact: true}])
    const missing = await dlqList([`kafka://${env.KAFKA_BROKERS}/${uniqueName('nope')}.DLT`])
    expect(missing.code).toBe(5)
  })
})

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)('dlq list on Pub/Sub (emulator)', () => {
  const project = env.PUBSUB_PROJECT_ID
  test('a dead-letter policy: the DLQ, its source, what scan finds; a dead-letter topic with no subscription is flagged', async () => {
    const source = await createPubsubTopic('dl-src')
    const dlt = await createPubsubTopic('dl-dlt', 86_400)
    const orphanDlt = await createPubsubTopic('dl-orphan')
    const ps = testPubsub()
    const dltSub = uniqueName('dl-dlt-sub')
    await ps.topic(dlt).createSubscription(dltSub)
    const srcSub = uniqueName('dl-src-sub')
    await ps.topic(source).createSubscription(srcSub, {
      deadLetterPolicy: {deadLetterTopic: `projects/${project}/topics/${dlt}`, maxDeliveryAttempts: 5},
    })
    const lossySub = uniqueName('dl-lossy-sub')
    await ps.topic(source).createSubscription(lossySub, {
      deadLetterPolicy: {deadLetterTopic: `projects/${project}/topics/${orphanDlt}`, maxDeliveryAttempts: 5},
    })
    // Two messages nacked until the emulator dead-letters them (after 5 delivery attempts).
    await ps.topic(source).publishMessage({data: Buffer.from('p1')})
    await ps.topic(source).publishMessage({data: Buffer.from('p2')})
    const attempts = new Map<string, number>()
    const sub = ps.subscription(srcSub)
    sub.on('message', (m) => {
      attempts.set(m.id, m.deliveryAttempt)
      m.nack()
    })
    for (let i = 0; i < 150 && !(attempts.size === 2 && [...attempts.values()].every((a) => a >= 5)); i++)
      await new Promise((r) => setTimeout(r, 200))
    await new Promise((r) => setTimeout(r, 1_500)) // the last nacks move them
    await sub.close()
    await ps.close()

    const r = await dlqList([`pubsub://${project}`, '--scan', '50'])
    expect(r.code, r.stderr).toBe(0)
    const d = r.dlqs.find((x) => x.target === `pubsub://${project}/topics/${dlt}`)!
    expect(d).toMatchObject({
      depth: 2, // counted by the scan, which read to the end
      depthExact: true,
      maxReceiveCount: 5,
      sources: [
        {
          target: `pubsub://${project}/subscriptions/${srcSub}`,
          maxDeliveryAttempts: 5,
          by: 'dead-letter-policy',
        },
      ],
      scanned: 2,
      reasons: [{reason: '(no reason recorded; 5 delivery attempts)', count: 2}],
      sourcesSeen: [{source: `pubsub://${project}/subscriptions/${srcSub}`, count: 2}],
    })
    const lossy = r.dlqs.find((x) => x.target === `pubsub://${project}/topics/${orphanDlt}`)!
    expect(lossy.warnings.map((w) => w.code)).toEqual(['DLQ_WITHOUT_SUBSCRIPTION'])
    expect(lossy.depth).toBeNull()
    // Lost messages are the worst: listed first.
    expect(r.dlqs[0]!.warnings.map((w) => w.code)).toContain('DLQ_WITHOUT_SUBSCRIPTION')
    // Nothing left behind by the scan (its snapshot and temporary subscription are gone).
    expect(await leftovers(dlt)).toEqual([])
  })
})

describe('dlq list on the file broker', () => {
  test('the README example: NAME.dlq.jsonl beside NAME.jsonl, reasons from the error header', async () => {
    const own = sandboxEnv() // no contexts: the embedded file broker
    const pub = (target: string, value: string, header?: string) =>
      run(['publish', target, value, ...(header ? ['-H', header] : [])], {env: own})
    expect((await pub('orders', '{"id":1}')).code).toBe(0)
    expect((await pub('orders.dlq', '{"id":2}', 'error=ValidationError: total must be a number')).code).toBe(
      0,
    )
    expect((await pub('orders.dlq', '{"id":3}', 'error=ValidationError: total must be a number')).code).toBe(
      0,
    )
    expect((await pub('orders.dlq', '{"id":4}', 'error=TimeoutError: payments did not answer')).code).toBe(0)
    const json = await run(['dlq', 'list', '--scan', '10', '--json'], {env: own})
    expect(json.code, json.stderr).toBe(0)
    expect((JSON.parse(json.stdout.toString()) as {dlqs: Dlq[]}).dlqs).toMatchObject([
      {
        depth: 3,
        depthExact: true,
        sources: [{by: 'file-name'}],
        reasons: [
          {reason: 'ValidationError: total must be a number', count: 2},
          {reason: 'TimeoutError: payments did not answer', count: 1},
        ],
      },
    ])
    const table = await run(['dlq', 'list'], {env: own})
    expect(table.stdout.toString()).toMatch(
      /^DLQ\s+DEPTH\s+SOURCES\s+OLDEST\s+NEWEST\n.*orders\.dlq\.jsonl\s+3\s+orders\.jsonl/,
    )
  })
})
