import {describe, expect, test} from 'vitest'
import {AGE_METRIC, BACKLOG_METRIC, filterFor, monitoringPubsubMetrics} from './monitoring.js'
import type {MonitoringPort, MonitoringSeries} from './port.js'

const NOW = Date.parse('2026-12-01T10:00:00Z')
const signal = () => AbortSignal.timeout(10_000)

const series = (sub: string, points: Array<[string, string | number]>): MonitoringSeries => ({
  metric: {type: 'x'},
  resource: {type: 'pubsub_subscription', labels: {project_id: 'p', subscription_id: sub}},
  points: points.map(([t, v]) => ({
    interval: {startTime: t, endTime: t},
    value: typeof v === 'string' ? {int64Value: v} : {doubleValue: v},
  })),
})

/** A Cloud Monitoring that answers per metric type (read from the filter) and records each call. */
function fakeMonitoring(
  byMetric: Record<string, MonitoringSeries[]>,
  behave: {fail?: unknown; hang?: boolean} = {},
) {
  const calls: Array<{filter: string; start: Date; end: Date}> = []
  const port: MonitoringPort = {
    async listTimeSeries(filter, window, s) {
      calls.push({filter, ...window})
      if (behave.hang)
        return new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason), {once: true}))
      if (behave.fail) throw behave.fail
      const type = /metric\.type = "([^"]+)"/.exec(filter)![1]!
      return byMetric[type] ?? []
    },
  }
  return {port, calls}
}

describe('Cloud Monitoring backlog of Pub/Sub subscriptions', () => {
  test('one request per metric for all subscriptions; the latest point of each; age in ms', async () => {
    const mon = fakeMonitoring({
      [BACKLOG_METRIC]: [
        series('orders-sub', [
          ['2026-12-01T09:58:00Z', '12'],
          ['2026-12-01T09:59:00Z', '15'],
        ]),
        series('audit-sub', [['2026-12-01T09:59:00Z', '0']]),
        series('someone-else', [['2026-12-01T09:59:00Z', '99']]), // not asked: ignored
      ],
      [AGE_METRIC]: [series('orders-sub', [['2026-12-01T09:59:00Z', '95']])],
    })
    let loads = 0
    const m = monitoringPubsubMetrics(
      'p',
      async () => {
        loads++
        return mon.port
      },
      {now: () => NOW},
    )
    expect(loads).toBe(0)
    const r = await m.backlog(['orders-sub', 'audit-sub', 'new-sub'], signal())
    expect(mon.calls).toHaveLength(2)
    expect(mon.calls.map((c) => c.end.getTime() - c.start.getTime())).toEqual([600_000, 600_000])
    expect(mon.calls[0]!.filter).toBe(
      `metric.type = "${BACKLOG_METRIC}" AND resource.type = "pubsub_subscription" AND resource.labels.project_id = "p" AND resource.labels.subscription_id = one_of("orders-sub", "audit-sub", "new-sub")`,
    )
    expect(mon.calls[1]!.filter).toContain(`metric.type = "${AGE_METRIC}"`)
    expect(Object.fromEntries(r.values)).toEqual({
      'orders-sub': {backlog: 15, oldestUnackedAgeMs: 95_000},
      'audit-sub': {backlog: 0, oldestUnackedAgeMs: null},
    })
    expect(r.unavailable).toBeUndefined()
    expect(r.missing).toMatch(/no datapoint .* last 10 min/)
  })

  test('asked at most once a minute: the last reading serves polls in between', async () => {
    const mon = fakeMonitoring({[BACKLOG_METRIC]: [series('a', [['2026-12-01T09:59:00Z', '3']])]})
    let t = NOW
    const m = monitoringPubsubMetrics('p', async () => mon.port, {now: () => t})
    await m.backlog(['a'], signal())
    t += 59_000
    expect((await m.backlog(['a'], signal())).values.get('a')).toEqual({backlog: 3, oldestUnackedAgeMs: null})
    expect(mon.calls).toHaveLength(2)
    t += 1_000
    await m.backlog(['a'], signal())
    expect(mon.calls).toHaveLength(4)
  })

  test('many subscriptions: one project-wide request per metric, narrowed here', () => {
    const names = Array.from({length: 101}, (_, i) => `s${i}`)
    expect(filterFor(BACKLOG_METRIC, 'p', names)).not.toContain('one_of')
    const long = Array.from({length: 30}, (_, i) => `${'x'.repeat(100)}-${i}`)
    expect(filterFor(BACKLOG_METRIC, 'p', long)).not.toContain('one_of')
    expect(filterFor(BACKLOG_METRIC, 'p', ['a'])).toContain('one_of("a")')
  })

  test('403: null naming monitoring.timeSeries.list, remembered (no request on later polls)', async () => {
    const forbidden = Object.assign(new Error("Permission 'monitoring.timeSeries.list' denied on resource"), {
      status: 403,
    })
    const mon = fakeMonitoring({}, {fail: forbidden})
    const m = monitoringPubsubMetrics('p', async () => mon.port)
    const first = await m.backlog(['a'], signal())
    expect(first.unavailable).toMatch(/^needs monitoring\.timeSeries\.list on project p/)
    expect((await m.backlog(['a'], signal())).unavailable).toBe(first.unavailable)
    expect(mon.calls).toHaveLength(2) // the two metrics of the first poll, none after
  })

  test('no Google credentials: the load fails once, remembered', async () => {
    let loads = 0
    const m = monitoringPubsubMetrics('p', async () => {
      loads++
      throw new Error(
        'Could not load the default credentials. Browse to https://example for more information.',
      )
    })
    expect((await m.backlog(['a'], signal())).unavailable).toMatch(
      /^no usable Google credentials for Cloud Monitoring/,
    )
    await m.backlog(['a'], signal())
    expect(loads).toBe(1)
  })

  test('no answer: bounded; the next poll asks again', async () => {
    const mon = fakeMonitoring({}, {hang: true})
    const m = monitoringPubsubMetrics('p', async () => mon.port, {callMs: 50})
    expect((await m.backlog(['a'], signal())).unavailable).toBe(
      'Cloud Monitoring did not answer within 0.05 s',
    )
    await m.backlog(['a'], signal())
    expect(mon.calls).toHaveLength(4)
  })
})
