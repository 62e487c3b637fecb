/*
 * Cloud metrics that `evtctl lag` and `dlq list` read beside a broker's own API: the numbers SQS
 * and Pub/Sub keep only in CloudWatch and Cloud Monitoring. Two layers, both ours:
 * - SqsMetrics / PubsubMetrics: what the lag readers and the DLQ listing ask (per queue, per
 *   subscription), with null and a reason for what cannot be read;
 * - CloudWatchPort / MonitoringPort: the one request each service is sent, in plain data, so the
 *   parsing and merging in cloudwatch.ts and monitoring.ts are tested with tiny fakes, and the SDK
 *   (and google-auth) load only in the *-client.ts files, only when a metric is fetched.
 */

/** Numbers by name; a name missing from `values` has no datapoint (see `missing`). */
export interface MetricReading<T> {
  values: Map<string, T>
  /** Why every number is null (no permission, no credentials, no answer); undefined when read. */
  unavailable?: string
  /** Why a name without a value has none (no datapoint in the window). */
  missing: string
}

export interface SqsMetrics {
  /**
   * The age of the oldest message of each queue (ms), from ApproximateAgeOfOldestMessage: the
   * latest datapoint of the last minutes. Never throws: what cannot be read is `unavailable`.
   */
  oldestAge(queueNames: string[], signal: AbortSignal): Promise<MetricReading<number>>
}

export interface SubscriptionBacklog {
  /** num_undelivered_messages; null when that series has no point in the window. */
  backlog: number | null
  /** oldest_unacked_message_age in ms; null when that series has no point in the window. */
  oldestUnackedAgeMs: number | null
}

export interface PubsubMetrics {
  /**
   * Backlog and oldest unacked age of each subscription (short names, one project). Never
   * throws: what cannot be read is `unavailable`.
   */
  backlog(subscriptions: string[], signal: AbortSignal): Promise<MetricReading<SubscriptionBacklog>>
}

/** One GetMetricData query (AWS/SQS, one dimension), and its answer. */
export interface CloudWatchQuery {
  id: string
  namespace: string
  metric: string
  dimension: {name: string; value: string}
  periodSeconds: number
  stat: 'Maximum' | 'Average' | 'Minimum' | 'Sum'
}

export interface CloudWatchSeries {
  id: string
  /** Newest first (ScanBy TimestampDescending). */
  timestamps: Date[]
  values: number[]
}

export interface CloudWatchPort {
  /** One GetMetricData call (all its pages), at most 500 queries. Rejects with the SDK's error. */
  getMetricData(
    queries: CloudWatchQuery[],
    window: {start: Date; end: Date},
    signal: AbortSignal,
  ): Promise<CloudWatchSeries[]>
}

/** A Cloud Monitoring TimeSeries as the REST API returns it (the fields read here). */
export interface MonitoringSeries {
  metric?: {type?: string; labels?: Record<string, string>}
  resource?: {type?: string; labels?: Record<string, string>}
  /** Newest first, as the API returns them. */
  points?: Array<{
    interval?: {endTime?: string; startTime?: string}
    value?: {int64Value?: string | number; doubleValue?: number}
  }>
}

export interface MonitoringPort {
  /**
   * projects.timeSeries.list (all pages) of one project with this filter over this window.
   * Rejects with an error carrying the HTTP `status` (403: no permission) or a network error.
   */
  listTimeSeries(
    filter: string,
    window: {start: Date; end: Date},
    signal: AbortSignal,
  ): Promise<MonitoringSeries[]>
}
