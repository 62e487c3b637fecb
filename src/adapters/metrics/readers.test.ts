import {describe, expect, test} from 'vitest'
import {parseTarget, type Target} from '../../config/targets.js'
import {LagTracker, type PubsubLagDoc, type SqsLagDoc} from '../../services/lag/view.js'
import {pubsubLagReader} from '../pubsub/backlog.js'
import {depthOf, EMULATOR_DEPTH_NOTE} from '../pubsub/dead-letters.js'
import type {PubsubPort} from '../pubsub/port.js'
import type {SqsPort} from '../sqs/port.js'
import {sqsLagReader} from '../sqs/queue-depth.js'
import type {MetricReading, PubsubMetrics, SqsMetrics, SubscriptionBacklog} from './port.js'

/*
 * How the lag readers and the Pub/Sub DLQ listing merge the metrics into their rows: fakes of our
 * own ports only (SqsPort, PubsubPort, SqsMetrics, PubsubMetrics).
 */

const signal = () => AbortSignal.timeout(10_000)
const MISSING = 'no datapoint in the last 10 min'

function fakeSqs(queues: Record<string, number>): SqsPort {
  return {
    getQueueAttributes: async (i: {QueueUrl?: string}) => ({
      Attributes: {
        ApproximateNumberOfMessages: String(queues[i.QueueUrl!.replace(/^.*\//, '')] ?? 0),
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
      },
      $metadata: {},
    }),
  } as unknown as SqsPort
}

function sqsReader(metrics: SqsMetrics | undefined, names: string[]) {
  const targets = names.map(
    (n) =>
      parseTarget(`https://sqs.us-east-1.amazonaws.com/123456789012/${n}`) as Extract<Target, {kind: 'sqs'}>,
  )
  return sqsLagReader(
    {
      sqs: fakeSqs(Object.fromEntries(names.map((n, i) => [n, i + 1]))),
      call: (_what, fn) => fn({}),
      urlOf: async (t) => t.queueUrl!,
    },
    targets,
    {more: targets.slice(1)},
    metrics ? {aws: true, metrics} : {aws: false, endpoint: 'http://127.0.0.1:9324'},
  )
}

describe('SQS lag rows with CloudWatch ages', () => {
  test('one ask for all queues; an age where CloudWatch has one, the reason where not', async () => {
    const asked: string[][] = []
    const metrics: SqsMetrics = {
      async oldestAge(names) {
        asked.push(names)
        return {values: new Map([['orders', 61_000]]), missing: MISSING}
      },
    }
    const reader = sqsReader(metrics, ['orders', 'idle'])
    const doc = new LagTracker().update(await reader.poll(signal())).doc as SqsLagDoc
    expect(asked).toEqual([['orders', 'idle']])
    const byName = Object.fromEntries(doc.queues.map((q) => [q.queue, q]))
    expect(byName.orders).toMatchObject({visible: 1, oldestAgeMs: 61_000})
    expect(byName.orders!.reasons?.oldestAgeMs).toBeUndefined()
    expect(byName.idle).toMatchObject({visible: 2, oldestAgeMs: null, reasons: {oldestAgeMs: MISSING}})
  })

  test('CloudWatch unavailable: every age null with its reason (never 0)', async () => {
    const metrics: SqsMetrics = {
      oldestAge: async () => ({
        values: new Map(),
        unavailable: 'needs cloudwatch:GetMetricData (…)',
        missing: MISSING,
      }),
    }
    const raw = await sqsReader(metrics, ['orders']).poll(signal())
    expect(raw.kind === 'sqs' && raw.queues[0]).toMatchObject({
      oldestAgeMs: null,
      oldestAgeNote: 'needs cloudwatch:GetMetricData (…)',
    })
  })

  test('not AWS: no metrics at all, and the plain reason', async () => {
    const raw = await sqsReader(undefined, ['orders']).poll(signal())
    expect(raw.kind === 'sqs' && raw.queues[0]!.oldestAgeNote).toMatch(
      /^http:\/\/127\.0\.0\.1:9324 is not AWS and has no CloudWatch/,
    )
  })
})

function fakePubsub(subs: Array<{name: string; topic: string}>): PubsubPort {
  return {
    listSubscriptionDetails: async () => subs,
    subscriptionTopic: async (n: string) => `projects/p/topics/${subs.find((s) => s.name === n)!.topic}`,
  } as unknown as PubsubPort
}

function fakeBacklog(reading: Omit<MetricReading<SubscriptionBacklog>, 'missing'>) {
  const asked: string[][] = []
  const metrics: PubsubMetrics = {
    async backlog(names) {
      asked.push(names)
      return {...reading, missing: MISSING}
    },
  }
  return {metrics, asked}
}

describe('Pub/Sub lag rows with Cloud Monitoring numbers', () => {
  const scope = parseTarget('pubsub://p/topics/orders') as Extract<Target, {kind: 'pubsub'}>
  const subs = [
    {name: 'b-sub', topic: 'orders'},
    {name: 'a-sub', topic: 'orders'},
    {name: 'c-sub', topic: 'orders'},
    {name: 'other', topic: 'payments'},
  ]
  const reader = (metrics?: PubsubMetrics) =>
    pubsubLagReader(
      fakePubsub(subs),
      scope,
      {emulator: !metrics, tempPrefixes: [], ...(metrics ? {metrics} : {})},
      (_x, f) => f(),
    )

  test('backlog and age merged per subscription; a missing series says so', async () => {
    const {metrics, asked} = fakeBacklog({
      values: new Map([
        ['a-sub', {backlog: 0, oldestUnackedAgeMs: 0}],
        ['b-sub', {backlog: 12, oldestUnackedAgeMs: null}],
      ]),
    })
    const doc = new LagTracker().update(await reader(metrics).poll(signal())).doc as PubsubLagDoc
    expect(asked).toEqual([['a-sub', 'b-sub', 'c-sub']])
    expect(doc.subscriptions).toEqual([
      {subscription: 'a-sub', backlog: 0, oldestUnackedAgeMs: 0, status: 'ok'},
      {
        subscription: 'b-sub',
        backlog: 12,
        oldestUnackedAgeMs: null,
        status: '12 waiting',
        reasons: {oldestUnackedAgeMs: MISSING},
      },
      {
        subscription: 'c-sub',
        backlog: null,
        oldestUnackedAgeMs: null,
        status: `unknown — ${MISSING}`,
        reasons: {backlog: MISSING, oldestUnackedAgeMs: MISSING},
      },
    ])
  })

  test('Cloud Monitoring refused: null with the permission; the emulator: no ask, its own reason', async () => {
    const {metrics} = fakeBacklog({
      values: new Map(),
      unavailable: 'needs monitoring.timeSeries.list on project p',
    })
    const refused = (await reader(metrics).poll(signal())) as Extract<
      Awaited<ReturnType<ReturnType<typeof reader>['poll']>>,
      {kind: 'pubsub'}
    >
    expect(refused.subscriptions.map((s) => [s.backlog, s.note])).toEqual(
      Array(3).fill([null, 'needs monitoring.timeSeries.list on project p']),
    )
    const emu = (await reader().poll(signal())) as typeof refused
    expect(emu.subscriptions[0]!.note).toBe(
      'the Pub/Sub emulator has no Cloud Monitoring, so no backlog numbers',
    )
  })
})

describe('Pub/Sub DLQ depth from its subscriptions', () => {
  const reading = (values: Array<[string, number | null]>, unavailable?: string) => ({
    values: new Map(values.map(([k, v]) => [k, {backlog: v, oldestUnackedAgeMs: null}])),
    missing: MISSING,
    ...(unavailable ? {unavailable} : {}),
  })

  test('the largest backlog of its subscriptions, approximate, each named', () => {
    expect(depthOf(['dlq-sub'], reading([['dlq-sub', 4]]))).toEqual({
      depth: 4,
      depthExact: false,
      depthNote: 'Cloud Monitoring num_undelivered_messages, sampled each minute',
    })
    expect(
      depthOf(
        ['a', 'b'],
        reading([
          ['a', 3],
          ['b', 9],
        ]),
      ),
    ).toMatchObject({
      depth: 9,
      depthNote: expect.stringContaining("the largest of its subscriptions' (a 3, b 9)"),
    })
    expect(depthOf(['a'], reading([['a', 0]])).depth).toBe(0)
  })

  test('null, never 0, with the reason: unreadable, a subscription without data, the emulator', () => {
    expect(depthOf(['a'], reading([], 'needs monitoring.timeSeries.list on project p'))).toEqual({
      depth: null,
      depthExact: false,
      depthNote: 'needs monitoring.timeSeries.list on project p; --scan counts it when it reads to the end.',
    })
    expect(depthOf(['a', 'b'], reading([['a', 3]]))).toMatchObject({
      depth: null,
      depthNote: `b: ${MISSING}; --scan counts it when it reads to the end.`,
    })
    expect(depthOf(['a'], undefined)).toEqual({
      depth: null,
      depthExact: false,
      depthNote: EMULATOR_DEPTH_NOTE,
    })
    expect(depthOf([], reading([])).depth).toBeNull()
  })
})
