import {brief, METRICS_CALL_MS, REUSE_MS, readingCache, TIMED_OUT, WINDOW_MS, withinMs} from './bounded.js'
import type {CloudWatchPort, CloudWatchQuery, MetricReading, SqsMetrics} from './port.js'

/** GetMetricData takes at most 500 queries per call. */
export const MAX_QUERIES = 500
const PERIOD_SECONDS = 60

export const NEEDS_PERMISSION = 'needs cloudwatch:GetMetricData'
const MISSING = `CloudWatch has no ApproximateAgeOfOldestMessage datapoint for it in the last ${WINDOW_MS / 60_000} min`

/**
 * SQS's ApproximateAgeOfOldestMessage (AWS/SQS, dimension QueueName) for many queues: one
 * GetMetricData call per 500 queues, period 60 s over the last 10 minutes, the latest datapoint
 * of each, asked at most once a minute (the metric's resolution; CloudWatch bills per metric
 * asked). `load` gives the CloudWatch port; it is called on the first poll only (the SDK loads
 * then). A refusal (no permission, no usable credentials) is remembered: later polls make no call
 * and give the same reason. Other failures (no answer within 5 s, a network error) are this
 * poll's reason, and the next poll asks again.
 */
export function cloudWatchSqsMetrics(
  load: () => Promise<CloudWatchPort>,
  opts: {now?: () => number; callMs?: number; reuseMs?: number} = {},
): SqsMetrics {
  const now = opts.now ?? Date.now
  const callMs = opts.callMs ?? METRICS_CALL_MS
  const cache = readingCache<number>(opts.reuseMs ?? REUSE_MS, now)
  let port: Promise<CloudWatchPort> | undefined
  let refused: string | undefined
  return {
    async oldestAge(queueNames, signal) {
      const values = new Map<string, number>()
      if (refused) return {values, unavailable: refused, missing: MISSING}
      const names = [...new Set(queueNames)]
      if (names.length === 0) return {values, missing: MISSING}
      const kept = cache.fresh(names)
      if (kept) return {values: kept, missing: MISSING}
      let cw: CloudWatchPort
      try {
        port ??= load()
        cw = await port
      } catch (err) {
        port = undefined
        return {values, unavailable: `CloudWatch could not be set up: ${brief(err)}`, missing: MISSING}
      }
      const end = new Date(now())
      const window = {start: new Date(end.getTime() - WINDOW_MS), end}
      const chunks: string[][] = []
      for (let i = 0; i < names.length; i += MAX_QUERIES) chunks.push(names.slice(i, i + MAX_QUERIES))
      try {
        const answers = await withinMs(callMs, signal, (s) =>
          Promise.all(chunks.map((chunk) => cw.getMetricData(queriesFor(chunk), window, s))),
        )
        for (const [i, series] of answers.entries()) mergeInto(values, chunks[i]!, series)
        cache.keep(names, values)
        return {values, missing: MISSING}
      } catch (err) {
        if (err === TIMED_OUT)
          return {
            values,
            unavailable: `CloudWatch did not answer within ${callMs / 1000} s`,
            missing: MISSING,
          }
        const why = refusal(err)
        if (why) refused = why
        return {values, unavailable: why ?? `CloudWatch could not be read: ${brief(err)}`, missing: MISSING}
      }
    },
  }
}

/** One query per queue; ids q0, q1, … index the chunk (GetMetricData ids must start lower-case). */
export function queriesFor(names: string[]): CloudWatchQuery[] {
  return names.map((name, i) => ({
    id: `q${i}`,
    namespace: 'AWS/SQS',
    metric: 'ApproximateAgeOfOldestMessage',
    dimension: {name: 'QueueName', value: name},
    periodSeconds: PERIOD_SECONDS,
    stat: 'Maximum',
  }))
}

/** The latest datapoint of each series, in ms, by queue name (series of one id may come in pages). */
export function mergeInto(
  out: Map<string, number>,
  names: string[],
  series: Array<{id: string; timestamps: Date[]; values: number[]}>,
): void {
  const latest = new Map<string, {at: number; value: number}>()
  for (const s of series) {
    const name = /^q(\d+)$/.test(s.id) ? names[Number(s.id.slice(1))] : undefined
    if (name === undefined) continue
    for (const [i, t] of s.timestamps.entries()) {
      const value = s.values[i]
      if (value === undefined || !Number.isFinite(value)) continue
      const at = t.getTime()
      const seen = latest.get(name)
      if (!seen || at > seen.at) latest.set(name, {at, value})
    }
  }
  for (const [name, {value}] of latest) out.set(name, Math.round(value * 1000))
}

/**
 * The reason when CloudWatch refused for good (permission or credentials), else undefined. Duck-
 * typed on the SDK's error name and HTTP status: the AWS JSON protocol names AccessDenied as
 * AccessDeniedException, the Query protocol as AccessDenied.
 */
export function refusal(err: unknown): string | undefined {
  const e = (err ?? {}) as {name?: string; $metadata?: {httpStatusCode?: number}}
  const name = e.name ?? ''
  if (/^(AccessDenied|AccessDeniedException|UnauthorizedOperation|NotAuthorized)$/.test(name))
    return `${NEEDS_PERMISSION} (ApproximateAgeOfOldestMessage): CloudWatch refused — ${brief(err)}`
  if (
    name === 'CredentialsProviderError' ||
    /^(InvalidClientTokenId|UnrecognizedClientException|ExpiredToken|ExpiredTokenException|InvalidSignatureException|SignatureDoesNotMatch|IncompleteSignature|MissingAuthenticationToken)$/.test(
      name,
    )
  )
    return `CloudWatch did not accept the AWS credentials (${brief(err)}), so the age of the oldest message is unknown`
  if (e.$metadata?.httpStatusCode === 403)
    return `${NEEDS_PERMISSION} (ApproximateAgeOfOldestMessage): CloudWatch refused — ${brief(err)}`
  return undefined
}

export type {MetricReading}
