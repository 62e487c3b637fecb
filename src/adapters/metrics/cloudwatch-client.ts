import {METRICS_CALL_MS} from './bounded.js'
import type {CloudWatchPort} from './port.js'

export interface CloudWatchConnection {
  region?: string
  profile?: string
  credentials?: {accessKeyId: string; secretAccessKey: string}
  /**
   * Tests only (a loopback server speaking the protocol). evtctl itself never sets it: CloudWatch
   * is asked only when SQS is AWS itself, at the SDK's endpoint for the region (or the one
   * AWS_ENDPOINT_URL_CLOUDWATCH / AWS_ENDPOINT_URL configure).
   */
  endpoint?: string
}

/**
 * The @aws-sdk/client-cloudwatch implementation of the port, loaded with `await import()` only
 * when a lag poll asks CloudWatch (never at start-up, never against an endpoint that is not AWS).
 */
export async function createCloudWatchPort(conn: CloudWatchConnection): Promise<CloudWatchPort> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const {CloudWatchClient, GetMetricDataCommand} = await import('@aws-sdk/client-cloudwatch')
  const client = new CloudWatchClient({
    ...(conn.region ? {region: conn.region} : {}),
    ...(conn.profile ? {profile: conn.profile} : {}),
    ...(conn.credentials ? {credentials: conn.credentials} : {}),
    ...(conn.endpoint ? {endpoint: conn.endpoint} : {}),
    // Each attempt is bounded as the SQS adapter bounds its own; the caller bounds the whole.
    requestHandler: {connectionTimeout: 3_000, requestTimeout: METRICS_CALL_MS, throwOnRequestTimeout: true},
    maxAttempts: 2,
  })
  return {
    async getMetricData(queries, window, signal) {
      const byId = new Map<string, {id: string; timestamps: Date[]; values: number[]}>()
      let token: string | undefined
      let pages = 0
      do {
        const out = await client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries.map((q) => ({
              Id: q.id,
              MetricStat: {
                Metric: {
                  Namespace: q.namespace,
                  MetricName: q.metric,
                  Dimensions: [{Name: q.dimension.name, Value: q.dimension.value}],
                },
                Period: q.periodSeconds,
                Stat: q.stat,
              },
              ReturnData: true,
            })),
            StartTime: window.start,
            EndTime: window.end,
            ScanBy: 'TimestampDescending',
            ...(token ? {NextToken: token} : {}),
          }),
          {abortSignal: signal},
        )
        for (const r of out.MetricDataResults ?? []) {
          if (!r.Id) continue
          const s = byId.get(r.Id) ?? {id: r.Id, timestamps: [], values: []}
          s.timestamps.push(...(r.Timestamps ?? []))
          s.values.push(...(r.Values ?? []))
          byId.set(r.Id, s)
        }
        token = out.NextToken
        pages++
      } while (token && pages < 10)
      return [...byId.values()]
    },
  }
}
