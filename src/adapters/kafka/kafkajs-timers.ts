import type {createRequire} from 'node:module'

/** kafkajs's RequestQueue, the part this patch touches (src/network/requestQueue/index.js). */
export interface RequestQueueProto {
  throttledUntil: number
  throttleCheckTimeoutId: NodeJS.Timeout | null
  pending: unknown[]
  checkPendingRequests(): void
  scheduleCheckPendingRequests(): void
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL. */
const CHECK_PENDING_MS = 10

let patched = false

/**
 * kafkajs 2.2.4 (unmaintained) schedules its request queue's throttle check with
 * `setTimeout(…, throttledUntil - Date.now())`, and `throttledUntil` is -1 when the broker never
 * throttled: a negative delay, which Node runs after 1 ms (from Node 24 on with a
 * TimeoutNegativeWarning on stderr). The check reschedules itself, so every connection that ever
 * had a response spins a 1 ms timer for as long as it is open, even with nothing queued: ~1,000
 * wake-ups a second per connection, a few % of a core for `lag`'s idle fetch connections.
 * The same method, but with nothing pending there is nothing to check and no timer: a request
 * that has to wait is queued by push(), which schedules the check again (at the throttle's end,
 * or after 10 ms), and every response checks the queue anyway.
 */
export function patchRequestQueueTimers(req: ReturnType<typeof createRequire>): void {
  if (patched) return
  patched = true
  const RequestQueue = req('kafkajs/src/network/requestQueue/index.js') as {prototype: RequestQueueProto}
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests
}

export function scheduleCheckPendingRequests(this: RequestQueueProto): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return
  const throttledFor = this.throttledUntil - Date.now()
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null
      this.checkPendingRequests()
    },
    throttledFor > 0 ? throttledFor : CHECK_PENDING_MS,
  )
}
