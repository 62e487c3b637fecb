import {GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand} from '@aws-sdk/client-sqs'
import {describe, expect, test} from 'vitest'
import {createPubsubAdapter} from '../../src/adapters/pubsub/pubsub-adapter.js'
import {createSqsAdapter} from '../../src/adapters/sqs/sqs-adapter.js'
import {parseScope} from '../../src/config/scope.js'
import {parseTarget} from '../../src/config/targets.js'
import {NotFoundError} from '../../src/errors.js'
import {LagTracker, type PubsubLagDoc, type SqsLagDoc} from '../../src/services/lag/view.js'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic as createPubsubTopic, createSubscription} from '../brokers/pubsub.js'
import {createQueue, fill, testSqs} from '../brokers/sqs.js'
import {run} from '../e2e/helpers.js'

const env = brokerEnv()

describe.skipIf(!env.SQS_ENDPOINT)('evtctl lag on SQS (ElasticMQ)', () => {
  test('visible, in flight, delayed and the DLQ depth equal GetQueueAttributes read by another client', async () => {
    const dlq = await createQueue('lag-dlq')
    const q = await createQueue('lag-main', {
      RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq.arn, maxReceiveCount: 5}),
    })
    await fill(
      q.url,
      Array.from({length: 7}, (_, i) => `m${i}`),
    )
    await fill(dlq.url, ['d1', 'd2', 'd3'])
    const sqs = testSqs()
    try {
      for (const i of [1, 2])
        await sqs.send(new SendMessageCommand({QueueUrl: q.url, MessageBody: `later${i}`, DelaySeconds: 120}))
      // Two received and held: in flight.
      const got = await sqs.send(
        new ReceiveMessageCommand({QueueUrl: q.url, MaxNumberOfMessages: 2, VisibilityTimeout: 120}),
      )
      expect(got.Messages?.length).toBe(2)

      const target = parseTarget(q.url)
      const adapter = createSqsAdapter(target)
      const reader = adapter.lagReader(target, {})
      const doc = new LagTracker().update(await reader.poll(AbortSignal.timeout(10_000))).doc as SqsLagDoc
      await adapter.close()
      const attrs = async (url: string) =>
        (await sqs.send(new GetQueueAttributesCommand({QueueUrl: url, AttributeNames: ['All']}))).Attributes!
      const [a, d] = await Promise.all([attrs(q.url), attrs(dlq.url)])
      expect(doc.queues).toHaveLength(1)
      const row = doc.queues[0]!
      expect(row).toMatchObject({
        queue: q.url.replace(/^.*\//, ''),
        visible: Number(a.ApproximateNumberOfMessages),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed),
        dlq: {queue: dlq.url.replace(/^.*\//, ''), visible: Number(d.ApproximateNumberOfMessages)},
        oldestAgeMs: null,
      })
      // What was set up, so the comparison cannot pass on zeros.
      expect([row.visible, row.inFlight, row.delayed, row.dlq?.visible]).toEqual([5, 2, 2, 3])
      expect(row.reasons?.oldestAgeMs).toMatch(/no CloudWatch/)
      expect(row.status).toBe('behind — one poll, no trend yet')
    } finally {
      sqs.destroy()
    }
  })

  test('sqs://REGION with --prefix: exactly the queues named so; the command prints the issue shape', async () => {
    const prefix = uniqueName('lagpfx')
    await createQueue(`${prefix}-a`)
    const b = await createQueue(`${prefix}-b`)
    await fill(b.url, ['x', 'y'])
    const saved = process.env.AWS_ENDPOINT_URL_SQS
    process.env.AWS_ENDPOINT_URL_SQS = env.SQS_ENDPOINT
    try {
      const scope = await parseScope(`sqs://${env.SQS_REGION}`, undefined)
      const adapter = createSqsAdapter(scope)
      const reader = adapter.lagReader(scope, {prefix})
      const doc = new LagTracker().update(await reader.poll(AbortSignal.timeout(10_000))).doc as SqsLagDoc
      await adapter.close()
      expect(doc.queues.map((x) => [x.queue.replace(/-[0-9a-f]{8}$/, ''), x.visible])).toEqual([
        [`${prefix}-a`, 0],
        [`${prefix}-b`, 2],
      ])
      const none = createSqsAdapter(scope).lagReader(scope, {prefix: uniqueName('nothing')})
      await expect(none.poll(AbortSignal.timeout(10_000))).rejects.toBeInstanceOf(NotFoundError)
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SQS
      else process.env.AWS_ENDPOINT_URL_SQS = saved
    }
    const r = await run(['lag', b.url, '--json'], {env: {...process.env, CI: ''}})
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout.toString()) as SqsLagDoc
    expect(Object.keys(doc).sort()).toEqual(['at', 'queues'])
    expect(Object.keys(doc.queues[0]!).sort()).toEqual(
      ['queue', 'visible', 'inFlight', 'delayed', 'oldestAgeMs', 'status', 'reasons'].sort(),
    )
  })
})

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)('evtctl lag on Pub/Sub (emulator)', () => {
  test('subscriptions are listed with null backlog and the plain reason, never 0', async () => {
    const topic = await createPubsubTopic('lag-topic')
    const sub = await createSubscription(topic, 'lag-sub')
    const url = `pubsub://${env.PUBSUB_PROJECT_ID}/topics/${topic}`
    // The adapter finds the emulator as the CLI does, through PUBSUB_EMULATOR_HOST.
    const saved = process.env.PUBSUB_EMULATOR_HOST
    process.env.PUBSUB_EMULATOR_HOST = env.PUBSUB_EMULATOR_HOST
    let doc: PubsubLagDoc
    try {
      const scope = await parseScope(url, undefined)
      const adapter = createPubsubAdapter(scope)
      doc = new LagTracker().update(await adapter.lagReader(scope, {}).poll(AbortSignal.timeout(10_000)))
        .doc as PubsubLagDoc
      await adapter.close()
    } finally {
      if (saved === undefined) delete process.env.PUBSUB_EMULATOR_HOST
      else process.env.PUBSUB_EMULATOR_HOST = saved
    }
    expect(doc.subscriptions).toEqual([
      {
        subscription: sub,
        backlog: null,
        oldestUnackedAgeMs: null,
        status: 'unknown — the Pub/Sub emulator has no Cloud Monitoring, so no backlog numbers',
        reasons: {
          backlog: 'the Pub/Sub emulator has no Cloud Monitoring, so no backlog numbers',
          oldestUnackedAgeMs: 'the Pub/Sub emulator has no Cloud Monitoring, so no backlog numbers',
        },
      },
    ])
    // The CLI finds the emulator the way a user's shell tells it: PUBSUB_EMULATOR_HOST.
    const cliEnv = {...process.env, CI: '', PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST}
    const r = await run(['lag', `pubsub://${env.PUBSUB_PROJECT_ID}/subscriptions/${sub}`], {env: cliEnv})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.toString()).toMatch(/^SUBSCRIPTION\s+TOPIC\s+BACKLOG\s+OLDEST UNACKED\s+STATUS/)
    expect(r.stderr).toContain('? backlog, oldest unacked: the Pub/Sub emulator has no Cloud Monitoring')
    const missing = await run(
      ['lag', `pubsub://${env.PUBSUB_PROJECT_ID}/subscriptions/${uniqueName('none')}`],
      {env: cliEnv},
    )
    expect(missing.code).toBe(5)
  })
})
