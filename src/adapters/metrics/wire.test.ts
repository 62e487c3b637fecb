import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {OAuth2Client} from 'google-auth-library'
import {afterEach, describe, expect, test} from 'vitest'
import {cloudWatchSqsMetrics} from './cloudwatch.js'
import {createCloudWatchPort} from './cloudwatch-client.js'
import {monitoringPubsubMetrics} from './monitoring.js'
import {createMonitoringPort} from './monitoring-client.js'

/*
 * The wire format, against a loopback server that answers as the services document their
 * protocols: CloudWatch's AWS JSON 1.0 (the SDK's protocol for it; Query-compatible errors) and
 * Cloud Monitoring's REST v3 JSON. Endpoint and auth overrides exist for these tests only. Not a
 * proof against AWS or Google Cloud themselves (untested there: no access from here).
 */

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((r) => server?.close(r))
  server = undefined
})

async function serve(
  answer: (seen: Seen, res: ServerResponse) => void,
): Promise<{url: string; seen: Seen[]}> {
  const seen: Seen[] = []
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      const s = {method: req.method!, url: req.url!, headers: req.headers, body}
      seen.push(s)
      answer(s, res)
    })
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return {url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen}
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, {'content-type': 'application/json', ...headers})
  res.end(JSON.stringify(body))
}

describe('CloudWatch GetMetricData on the wire (AWS JSON 1.0)', () => {
  const credentials = {accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret'}

  test('one signed POST for all queues; Timestamps as epoch seconds; the latest value taken', async () => {
    const t = Math.floor(Date.now() / 1000 / 60) * 60
    const {url, seen} = await serve((s, res) => {
      const body = JSON.parse(s.body) as {MetricDataQueries: Array<{Id: string}>}
      json(
        res,
        200,
        {
          MetricDataResults: [
            {
              Id: body.MetricDataQueries[0]!.Id,
              Label: 'x',
              StatusCode: 'Complete',
              Timestamps: [t, t - 60],
              Values: [42, 7],
            },
            {
              Id: body.MetricDataQueries[1]!.Id,
              Label: 'x',
              StatusCode: 'Complete',
              Timestamps: [],
              Values: [],
            },
          ],
          Messages: [],
        },
        {'content-type': 'application/x-amz-json-1.0'},
      )
    })
    const m = cloudWatchSqsMetrics(() =>
      createCloudWatchPort({region: 'us-east-1', credentials, endpoint: url}),
    )
    const r = await m.oldestAge(['orders', 'idle'], AbortSignal.timeout(10_000))
    expect(r.unavailable).toBeUndefined()
    expect(Object.fromEntries(r.values)).toEqual({orders: 42_000})
    expect(seen).toHaveLength(1)
    const req = seen[0]!
    expect(req.method).toBe('POST')
    expect(req.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.GetMetricData')
    expect(req.headers['content-type']).toBe('application/x-amz-json-1.0')
    expect(req.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/monitoring\/aws4_request/,
    )
    const body = JSON.parse(req.body)
    expect(body).toMatchObject({
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [
        {
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: 'ApproximateAgeOfOldestMessage',
              Dimensions: [{Name: 'QueueName', Value: 'orders'}],
            },
            Period: 60,
            Stat: 'Maximum',
          },
          ReturnData: true,
        },
        {MetricStat: {Metric: {Dimensions: [{Name: 'QueueName', Value: 'idle'}]}}},
      ],
    })
    expect(body.EndTime - body.StartTime).toBe(600)
  })

  test('AccessDenied (a Query-compatible JSON error): the permission is named, and asked once', async () => {
    const {url, seen} = await serve((_, res) =>
      json(
        res,
        400,
        {
          __type: 'com.amazon.coral.service#AccessDeniedException',
          message:
            'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudwatch:GetMetricData',
        },
        {'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'AccessDenied;Sender'},
      ),
    )
    const m = cloudWatchSqsMetrics(() =>
      createCloudWatchPort({region: 'us-east-1', credentials, endpoint: url}),
    )
    const r = await m.oldestAge(['orders'], AbortSignal.timeout(10_000))
    expect(r.values.size).toBe(0)
    expect(r.unavailable).toMatch(
      /^needs cloudwatch:GetMetricData .*not authorized to perform: cloudwatch:GetMetricData/,
    )
    await m.oldestAge(['orders'], AbortSignal.timeout(10_000))
    expect(seen).toHaveLength(1)
  })

  test('a server that never answers: the poll ends within the bound', async () => {
    await serve(() => {}).then(async ({url}) => {
      const m = cloudWatchSqsMetrics(
        () => createCloudWatchPort({region: 'us-east-1', credentials, endpoint: url}),
        {
          callMs: 300,
        },
      )
      const started = Date.now()
      const r = await m.oldestAge(['orders'], AbortSignal.timeout(10_000))
      expect(r.unavailable).toBe('CloudWatch did not answer within 0.3 s')
      expect(Date.now() - started).toBeLessThan(3_000)
    })
  })
})

describe('Cloud Monitoring timeSeries.list on the wire (REST v3)', () => {
  const authClient = () => {
    const c = new OAuth2Client()
    c.setCredentials({access_token: 'test-token', expiry_date: Date.now() + 3_600_000})
    return c
  }

  test('one authorised GET per metric with the filter and interval; int64 values as strings', async () => {
    const {url, seen} = await serve((s, res) => {
      const q = new URL(s.url, 'http://x').searchParams
      const backlog = q.get('filter')!.includes('num_undelivered_messages')
      json(res, 200, {
        timeSeries: [
          {
            metric: {type: 'x'},
            resource: {type: 'pubsub_subscription', labels: {project_id: 'p', subscription_id: 'orders-sub'}},
            metricKind: 'GAUGE',
            valueType: 'INT64',
            points: [
              {
                interval: {startTime: '2026-12-01T09:59:00Z', endTime: '2026-12-01T09:59:00Z'},
                value: {int64Value: backlog ? '15' : '95'},
              },
              {
                interval: {startTime: '2026-12-01T09:58:00Z', endTime: '2026-12-01T09:58:00Z'},
                value: {int64Value: '3'},
              },
            ],
          },
        ],
        unit: backlog ? '1' : 's',
      })
    })
    const m = monitoringPubsubMetrics('p', () =>
      createMonitoringPort({project: 'p', authClient: authClient(), baseUrl: url}),
    )
    const r = await m.backlog(['orders-sub', 'quiet-sub'], AbortSignal.timeout(10_000))
    expect(r.unavailable).toBeUndefined()
    expect(Object.fromEntries(r.values)).toEqual({'orders-sub': {backlog: 15, oldestUnackedAgeMs: 95_000}})
    expect(seen).toHaveLength(2)
    for (const s of seen) {
      expect(s.method).toBe('GET')
      expect(s.headers.authorization).toBe('Bearer test-token')
      const u = new URL(s.url, 'http://x')
      expect(u.pathname).toBe('/v3/projects/p/timeSeries')
      expect(u.searchParams.get('filter')).toMatch(
        /resource\.labels\.subscription_id = one_of\("orders-sub", "quiet-sub"\)$/,
      )
      const start = Date.parse(u.searchParams.get('interval.startTime')!)
      const end = Date.parse(u.searchParams.get('interval.endTime')!)
      expect(end - start).toBe(600_000)
    }
  })

  test('403 PERMISSION_DENIED: the permission is named, and no request on later polls', async () => {
    const {url, seen} = await serve((_, res) =>
      json(res, 403, {
        error: {
          code: 403,
          message: 'Permission monitoring.timeSeries.list denied (or the resource may not exist).',
          status: 'PERMISSION_DENIED',
        },
      }),
    )
    const m = monitoringPubsubMetrics('p', () =>
      createMonitoringPort({project: 'p', authClient: authClient(), baseUrl: url}),
    )
    const r = await m.backlog(['orders-sub'], AbortSignal.timeout(10_000))
    expect(r.unavailable).toMatch(/^needs monitoring\.timeSeries\.list on project p .*denied/)
    // The other metric's request was sent at the same time; it may land after the answer above.
    const t0 = Date.now()
    while (seen.length < 2 && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 10))
    await m.backlog(['orders-sub'], AbortSignal.timeout(10_000))
    await new Promise((r) => setTimeout(r, 100))
    expect(seen).toHaveLength(2)
  })
})
