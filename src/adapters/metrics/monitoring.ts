import {brief, METRICS_CALL_MS, REUSE_MS, readingCache, TIMED_OUT, WINDOW_MS, withinMs} from './bounded.js'
import type {MonitoringPort, MonitoringSeries, PubsubMetrics, SubscriptionBacklog} from './port.js'

export const BACKLOG_METRIC = 'pubsub.googleapis.com/subscription/num_undelivered_messages'
export const AGE_METRIC = 'pubsub.googleapis.com/subscription/oldest_unacked_message_age'
export const NEEDS_PERMISSION = 'needs monitoring.timeSeries.list'
/**
 * Beyond this many subscriptions (or this long a filter) one request asks for the project's
 * every subscription and the answer is narrowed here: a filter has a length limit.
 */
const MAX_NAMED = 100
const MAX_FILTER_CHARS = 2_000
const MISSING = `Cloud Monitoring has no datapoint for it in the last ${WINDOW_MS / 60_000} min`

/**
 * Pub/Sub's backlog numbers from Cloud Monitoring (projects.timeSeries.list): one request per
 * metric per poll, for all the subscriptions at once, the latest point of each over the last 10
 * minutes, asked at most once a minute (the metrics' resolution). `load` gives the port (google-auth loads then, on the first poll). A refusal (403: no
 * permission or the API disabled; no usable credentials) is remembered: later polls make no
 * request and give the same reason. Other failures are this poll's reason only.
 */
export function monitoringPubsubMetrics(
  project: string,
  load: () => Promise<MonitoringPort>,
  opts: {now?: () => number; callMs?: number; reuseMs?: number} = {},
): PubsubMetrics {
  const now = opts.now ?? Date.now
  const callMs = opts.callMs ?? METRICS_CALL_MS
  const cache = readingCache<SubscriptionBacklog>(opts.reuseMs ?? REUSE_MS, now)
  let port: Promise<MonitoringPort> | undefined
  let refused: string | undefined
  return {
    async backlog(subscriptions, signal) {
      const values = new Map<string, SubscriptionBacklog>()
      if (refused) return {values, unavailable: refused, missing: MISSING}
      const names = [...new Set(subscriptions)]
      if (names.length === 0) return {values, missing: MISSING}
      const kept = cache.fresh(names)
      if (kept) return {values: kept, missing: MISSING}
      let mon: MonitoringPort
      try {
        // google-auth looks for credentials (on Google Cloud, at the metadata server): bounded.
        port ??= load()
        const loading = port
        mon = await withinMs(callMs, signal, () => loading)
      } catch (err) {
        if (err === TIMED_OUT)
          return {
            values,
            unavailable: `Google credentials for Cloud Monitoring not found within ${callMs / 1000} s`,
            missing: MISSING,
          }
        port = undefined
        const why = refusal(err, project)
        if (why) refused = why
        return {
          values,
          unavailable: why ?? `Cloud Monitoring could not be set up: ${brief(err)}`,
          missing: MISSING,
        }
      }
      const end = new Date(now())
      const window = {start: new Date(end.getTime() - WINDOW_MS), end}
      try {
        const [backlog, age] = await withinMs(callMs, signal, (s) =>
          Promise.all([
            mon.listTimeSeries(filterFor(BACKLOG_METRIC, project, names), window, s),
            mon.listTimeSeries(filterFor(AGE_METRIC, project, names), window, s),
          ]),
        )
        const read = merge(names, backlog, age)
        cache.keep(names, read)
        return {values: read, missing: MISSING}
      } catch (err) {
        if (err === TIMED_OUT)
          return {
            values,
            unavailable: `Cloud Monitoring did not answer within ${callMs / 1000} s`,
            missing: MISSING,
          }
        const why = refusal(err, project)
        if (why) refused = why
        return {
          values,
          unavailable: why ?? `Cloud Monitoring could not be read: ${brief(err)}`,
          missing: MISSING,
        }
      }
    },
  }
}

/**
 * One metric of the project's subscriptions: named with one_of(…) when few enough, else all of
 * them (narrowed by merge). Names hold only letters, digits and - _ . ~ + %: nothing to escape.
 */
export function filterFor(metric: string, project: string, names: string[]): string {
  const base = `metric.type = "${metric}" AND resource.type = "pubsub_subscription" AND resource.labels.project_id = "${project}"`
  if (names.length > MAX_NAMED) return base
  const named = `${base} AND resource.labels.subscription_id = one_of(${names.map((n) => `"${n}"`).join(', ')})`
  return named.length > MAX_FILTER_CHARS ? base : named
}

/** The latest point of each series, by subscription: backlog as a count, age in ms. */
export function merge(
  names: string[],
  backlog: MonitoringSeries[],
  age: MonitoringSeries[],
): Map<string, SubscriptionBacklog> {
  const wanted = new Set(names)
  const b = latestBySubscription(backlog, wanted)
  const a = latestBySubscription(age, wanted)
  const out = new Map<string, SubscriptionBacklog>()
  for (const name of names) {
    const backlogN = b.get(name)
    const ageS = a.get(name)
    if (backlogN === undefined && ageS === undefined) continue
    out.set(name, {
      backlog: backlogN ?? null,
      oldestUnackedAgeMs: ageS === undefined ? null : Math.round(ageS * 1000),
    })
  }
  return out
}

function latestBySubscription(series: MonitoringSeries[], wanted: Set<string>): Map<string, number> {
  const latest = new Map<string, {at: number; value: number}>()
  for (const s of series) {
    const name = s.resource?.labels?.subscription_id
    if (name === undefined || !wanted.has(name)) continue
    for (const p of s.points ?? []) {
      const at = Date.parse(p.interval?.endTime ?? '')
      const raw = p.value?.int64Value ?? p.value?.doubleValue
      const value = typeof raw === 'string' ? Number(raw) : raw
      if (!Number.isFinite(at) || value === undefined || !Number.isFinite(value)) continue
      const seen = latest.get(name)
      if (!seen || at > seen.at) latest.set(name, {at, value})
    }
  }
  return new Map([...latest].map(([k, v]) => [k, v.value]))
}

/**
 * The reason when Cloud Monitoring refused for good (403, 401, no credentials), else undefined.
 * Duck-typed on `status` (gaxios' HTTP status) and google-auth's messages.
 */
export function refusal(err: unknown, project: string): string | undefined {
  const e = (err ?? {}) as {status?: number; response?: {status?: number}}
  const status = e.status ?? e.response?.status
  if (status === 403)
    return `${NEEDS_PERMISSION} on project ${project} (roles/monitoring.viewer), or the Cloud Monitoring API is off there: ${brief(err)}`
  if (status === 401 || /default credentials|Could not refresh access token|invalid_grant/i.test(brief(err)))
    return `no usable Google credentials for Cloud Monitoring (${brief(err)}), so no backlog numbers`
  return undefined
}
