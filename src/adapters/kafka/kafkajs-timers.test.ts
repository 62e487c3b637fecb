import {createRequire} from 'node:module'
import {afterEach, beforeEach, describe, expect, test, vi} from 'vitest'
import {patchRequestQueueTimers} from './kafkajs-timers.js'

const req = createRequire(import.meta.url)

interface Queue {
  pending: unknown[]
  inflight: Map<number, unknown>
  throttledUntil: number
  push(r: object): void
  fulfillRequest(r: {correlationId: number; payload: unknown; size: number}): void
  maybeThrottle(ms: number): void
}

describe('patchRequestQueueTimers (kafkajs RequestQueue)', () => {
  let queue: Queue
  let sent: number[]
  const silent = {debug() {}, info() {}, warn() {}, error() {}}
  const request = (correlationId: number) => ({
    entry: {correlationId, apiKey: 1, apiName: 'Fetch', apiVersion: 11, resolve() {}, reject() {}},
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  })

  beforeEach(() => {
    vi.useFakeTimers()
    patchRequestQueueTimers(req)
    const RequestQueue = req('kafkajs/src/network/requestQueue/index.js') as new (o: object) => Queue
    queue = new RequestQueue({
      maxInFlightRequests: 1,
      requestTimeout: 30_000,
      enforceRequestTimeout: false,
      clientId: 'test',
      broker: 'localhost:9092',
      logger: silent,
    })
    sent = []
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  test('arms no timer after a response when nothing waits (kafkajs spun a 1 ms timer for ever)', () => {
    queue.push(request(1))
    expect(sent).toEqual([1])
    queue.fulfillRequest({correlationId: 1, payload: null, size: 0})
    expect(vi.getTimerCount()).toBe(0)
  })

  test('still sends a waiting request: when the one in flight is answered, or after 10 ms', () => {
    queue.push(request(1))
    queue.push(request(2))
    expect(sent).toEqual([1])
    expect(vi.getTimerCount()).toBe(1)
    queue.fulfillRequest({correlationId: 1, payload: null, size: 0})
    expect(sent).toEqual([1, 2])
    vi.advanceTimersByTime(10)
    expect(vi.getTimerCount()).toBe(0)
  })

  test('a throttled queue sends what waits when the throttle ends, then goes quiet', () => {
    queue.push(request(1))
    queue.maybeThrottle(500)
    queue.fulfillRequest({correlationId: 1, payload: null, size: 0})
    queue.push(request(2))
    expect(sent).toEqual([1])
    vi.advanceTimersByTime(499)
    expect(sent).toEqual([1])
    vi.advanceTimersByTime(2)
    expect(sent).toEqual([1, 2])
    expect(vi.getTimerCount()).toBe(0)
  })
})
