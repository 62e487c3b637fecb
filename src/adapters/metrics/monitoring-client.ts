import type {AuthClient} from 'google-auth-library'
import {METRICS_CALL_MS} from './bounded.js'
import type {MonitoringPort, MonitoringSeries} from './port.js'

export interface MonitoringConnection {
  project: string
  /** Tests only: a client with a fixed token (Application Default Credentials otherwise). */
  authClient?: AuthClient
  /** Tests only: a loopback server speaking the REST API. evtctl itself never sets it. */
  baseUrl?: string
}

const SCOPE = 'https://www.googleapis.com/auth/monitoring.read'
const BASE_URL = 'https://monitoring.googleapis.com'

/**
 * Cloud Monitoring's REST API (v3 projects.timeSeries.list) through google-auth-library, which
 * @google-cloud/pubsub already brings: one authenticated JSON GET per metric. Not
 * @google-cloud/monitoring: its gRPC client loads google-gax and a tree of protos for one read,
 * and a plain request is bounded by a time-out, and faked on loopback, simply. Loaded with
 * `await import()` only when a lag or dlq poll asks Cloud Monitoring (never on the emulator).
 */
export async function createMonitoringPort(conn: MonitoringConnection): Promise<MonitoringPort> {
  const {GoogleAuth} = await import('google-auth-library')
  const auth = new GoogleAuth({
    scopes: [SCOPE],
    ...(conn.authClient ? {authClient: conn.authClient} : {}),
  })
  // Credentials are looked up here, once: a missing one rejects the load (a refusal, remembered).
  const client = await auth.getClient()
  const url = `${conn.baseUrl ?? BASE_URL}/v3/projects/${encodeURIComponent(conn.project)}/timeSeries`
  return {
    async listTimeSeries(filter, window, signal) {
      const out: MonitoringSeries[] = []
      let token: string | undefined
      let pages = 0
      do {
        const res = await client.request<{timeSeries?: MonitoringSeries[]; nextPageToken?: string}>({
          url,
          method: 'GET',
          params: {
            filter,
            'interval.startTime': window.start.toISOString(),
            'interval.endTime': window.end.toISOString(),
            view: 'FULL',
            ...(token ? {pageToken: token} : {}),
          },
          signal,
          timeout: METRICS_CALL_MS,
          retry: false,
        })
        out.push(...(res.data.timeSeries ?? []))
        token = res.data.nextPageToken || undefined
        pages++
      } while (token && pages < 10)
      return out
    },
  }
}
