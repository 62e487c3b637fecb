import type {createRequire} from 'node:module'

/** kafkajs's RequestQueue, the part this patch touches (src/network/requestQueue/index.js). */
interface RequestQueueProto {
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
 * throttled: a negative delay. Node runs it after 1 ms, and from Node 24 on also prints a
 * TimeoutNegativeWarning on stderr — on every Kafka command. The same method, with the delay
 * held at 1 ms or more (what Node does with it anyway), and the same queue checks.
 */
export function patchRequestQueueTimers(req: ReturnType<typeof createRequire>): void {
  if (patched) return
  patched = true
  const RequestQueue = req('kafkajs/src/network/requestQueue/index.js') as {prototype: RequestQueueProto}
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueProto) {
    let scheduleAt = this.throttledUntil - Date.now()
    if (!this.throttleCheckTimeoutId) {
      if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_MS
      this.throttleCheckTimeoutId = setTimeout(
        () => {
          this.throttleCheckTimeoutId = null
          this.checkPendingRequests()
        },
        Math.max(1, scheduleAt),
      )
    }
  }
}
