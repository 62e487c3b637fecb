import {describe, expect, test} from 'vitest'
import {cloudWatchSqsMetrics, MAX_QUERIES} from './cloudwatch.js'
import type {CloudWatchPort, CloudWatchQuery, CloudWatchSeries} from './port.js'

const NOW = Date.parse('2026-12-01T10:00:00Z')
const signal = () => AbortSignal.timeout(10_000)

/** A CloudWatch that answers from a table (queue → [ISO time, seconds][]) and records each call. */
function fakeCloudWatch(
  data: Record<string, Array<[string, number]>>,
  behave: {fail?: unknown; hang?: boolean} = {},
) {
  const calls: Array<{queries: CloudWatchQuery[]; start: Date; end: Date}> = []
  const port: CloudWatchPort = {
    async getMetricData(queries, window, s) {
      calls.push({queries, ...window})
      if (behave.hang)
        return new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason), {once: true}))
      if (behave.fail) throw behave.fail
      const out: CloudWatchSeries[] = []
      for (const q of queries) {
        const points = data[q.dimension.value]
        if (!points) continue
        out.push({id: q.id, timestamps: points.map(([t]) => new Date(t)), values: points.map(([, v]) => v)})
      }
      return out
    },
  }
  return {port, calls}
}

describe('CloudWatch ApproximateAgeOfOldestMessage', () => {
  test('one GetMetricData for all queues: AWS/SQS by QueueName, 60 s periods over the last 10 min', async () => {
    const cw = fakeCloudWatch({
      orders: [['2026-12-01T09:58:00Z', 42]],
      'pay.fifo': [['2026-12-01T09:59:00Z', 0]],
    })
    let loads = 0
    const m = cloudWatchSqsMetrics(
      async () => {
        loads++
        return cw.port
      },
      {now: () => NOW},
    )
    expect(loads).toBe(0) // nothing loads before a poll asks
    const r = await m.oldestAge(['orders', 'pay.fifo', 'idle', 'orders'], signal())
    expect(cw.calls).toHaveLength(1)
    const {queries, start, end} = cw.calls[0]!
    expect(queries.map((q) => q.dimension)).toEqual([
      {name: 'QueueName', value: 'orders'},
      {name: 'QueueName', value: 'pay.fifo'},
      {name: 'QueueName', value: 'idle'},
    ])
    expect(queries[0]).toMatchObject({
      namespace: 'AWS/SQS',
      metric: 'ApproximateAgeOfOldestMessage',
      periodSeconds: 60,
      stat: 'Maximum',
    })
    expect(new Set(queries.map((q) => q.id)).size).toBe(3)
    expect(end.getTime() - start.getTime()).toBe(10 * 60_000)
    expect(end.getTime()).toBe(NOW)
    // Seconds → ms; an empty queue's age is a real 0; a queue without a datapoint is absent.
    expect(Object.fromEntries(r.values)).toEqual({orders: 42_000, 'pay.fifo': 0})
    expect(r.unavailable).toBeUndefined()
    expect(r.missing).toMatch(/no ApproximateAgeOfOldestMessage datapoint .* last 10 min/)
    await m.oldestAge(['orders'], signal())
    expect(loads).toBe(1)
  })

  test('the latest datapoint wins, whatever order or page it came in', async () => {
    const cw = fakeCloudWatch({})
    cw.port.getMetricData = async () => [
      {id: 'q0', timestamps: [new Date('2026-12-01T09:55:00Z')], values: [300]},
      {
        id: 'q0',
        timestamps: [new Date('2026-12-01T09:59:00Z'), new Date('2026-12-01T09:57:00Z')],
        values: [61.4, 180],
      },
      {id: 'q9', timestamps: [new Date('2026-12-01T09:59:00Z')], values: [7]}, // not asked: ignored
    ]
    const r = await cloudWatchSqsMetrics(async () => cw.port).oldestAge(['orders'], signal())
    expect(Object.fromEntries(r.values)).toEqual({orders: 61_400})
  })

  test(`more than ${MAX_QUERIES} queues: ${MAX_QUERIES} queries per call`, async () => {
    const names = Array.from({length: 1_201}, (_, i) => `q-${i}`)
    const cw = fakeCloudWatch(Object.fromEntries(names.map((n, i) => [n, [['2026-12-01T09:59:00Z', i]]])))
    const r = await cloudWatchSqsMetrics(async () => cw.port).oldestAge(names, signal())
    expect(cw.calls.map((c) => c.queries.length)).toEqual([500, 500, 201])
    expect(r.values.size).toBe(1_201)
    expect(r.values.get('q-1200')).toBe(1_200_000)
  })

  test('AccessDenied: null with the missing permission, and no call on later polls', async () => {
    const denied = Object.assign(
      new Error('User: arn:aws:iam::1:user/x is not authorized to perform: cloudwatch:GetMetricData'),
      {
        name: 'AccessDenied',
        $metadata: {httpStatusCode: 400},
      },
    )
    const cw = fakeCloudWatch({}, {fail: denied})
    const m = cloudWatchSqsMetrics(async () => cw.port)
    const first = await m.oldestAge(['orders'], signal())
    expect(first.values.size).toBe(0)
    expect(first.unavailable).toMatch(/^needs cloudwatch:GetMetricData/)
    const second = await m.oldestAge(['orders'], signal())
    expect(second.unavailable).toBe(first.unavailable)
    expect(cw.calls).toHaveLength(1)
  })

  test('refused credentials are remembered too; a 403 of any name means the permission', async () => {
    const cw = fakeCloudWatch(
      {},
      {
        fail: Object.assign(new Error('The security token included in the request is invalid.'), {
          name: 'UnrecognizedClientException',
        }),
      },
    )
    const m = cloudWatchSqsMetrics(async () => cw.port)
    expect((await m.oldestAge(['a'], signal())).unavailable).toMatch(/did not accept the AWS credentials/)
    await m.oldestAge(['a'], signal())
    expect(cw.calls).toHaveLength(1)
    const forbidden = fakeCloudWatch(
      {},
      {fail: Object.assign(new Error('Forbidden'), {name: 'Whatever', $metadata: {httpStatusCode: 403}})},
    )
    expect(
      (await cloudWatchSqsMetrics(async () => forbidden.port).oldestAge(['a'], signal())).unavailable,
    ).toMatch(/^needs cloudwatch:GetMetricData/)
  })

  test('no answer: bounded, this poll only — the next poll asks again', async () => {
    const cw = fakeCloudWatch({}, {hang: true})
    const m = cloudWatchSqsMetrics(async () => cw.port, {callMs: 50})
    const started = Date.now()
    const r = await m.oldestAge(['orders'], signal())
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(r.unavailable).toBe('CloudWatch did not answer within 0.05 s')
    await m.oldestAge(['orders'], signal())
    expect(cw.calls).toHaveLength(2)
  })

  test('a network error is this poll reason, not remembered', async () => {
    const cw = fakeCloudWatch(
      {},
      {
        fail: Object.assign(new Error('getaddrinfo ENOTFOUND monitoring.us-east-1.amazonaws.com'), {
          code: 'ENOTFOUND',
        }),
      },
    )
    const m = cloudWatchSqsMetrics(async () => cw.port)
    expect((await m.oldestAge(['a'], signal())).unavailable).toBe(
      'CloudWatch could not be read: getaddrinfo ENOTFOUND monitoring.us-east-1.amazonaws.com',
    )
    await m.oldestAge(['a'], signal())
    expect(cw.calls).toHaveLength(2)
  })

  test('asked at most once a minute (one-minute metrics, billed per metric): a new queue asks again', async () => {
    const cw = fakeCloudWatch({orders: [['2026-12-01T09:59:00Z', 5]]})
    let t = NOW
    const m = cloudWatchSqsMetrics(async () => cw.port, {now: () => t})
    await m.oldestAge(['orders', 'idle'], signal())
    t += 30_000
    expect(Object.fromEntries((await m.oldestAge(['orders'], signal())).values)).toEqual({orders: 5_000})
    expect(cw.calls).toHaveLength(1)
    await m.oldestAge(['orders', 'new'], signal()) // a queue not in the last reading
    expect(cw.calls).toHaveLength(2)
    t += 60_000
    await m.oldestAge(['orders', 'new'], signal())
    expect(cw.calls).toHaveLength(3)
  })

  test('no queues: no call', async () => {
    const cw = fakeCloudWatch({})
    let loads = 0
    const r = await cloudWatchSqsMetrics(async () => {
      loads++
      return cw.port
    }).oldestAge([], signal())
    expect(r.values.size).toBe(0)
    expect(loads + cw.calls.length).toBe(0)
  })
})
