import {describe, expect, test} from 'vitest'
import {AsyncQueue} from './async-queue.js'

describe('AsyncQueue', () => {
  test('delivers pushed items in order, then ends on close', async () => {
    const q = new AsyncQueue<number>(100)
    await q.push(1, 2)
    await q.push(3)
    q.close()
    const got: number[] = []
    for await (const x of q) got.push(x)
    expect(got).toEqual([1, 2, 3])
  })

  test('push waits while the queue is full (back-pressure)', async () => {
    const q = new AsyncQueue<number>(2)
    let resolved = false
    const pushing = q.push(1, 2, 3).then(() => {
      resolved = true
    })
    await new Promise((r) => setTimeout(r, 20))
    expect(resolved).toBe(false)
    const it = q[Symbol.asyncIterator]()
    expect((await it.next()).value).toBe(1)
    expect((await it.next()).value).toBe(2)
    await pushing
    expect(resolved).toBe(true)
  })

  test('an error closes iteration with that error after nothing else is pending', async () => {
    const q = new AsyncQueue<number>()
    const reading = (async () => {
      for await (const _ of q) {
        // drain
      }
    })()
    q.close(new Error('boom'))
    await expect(reading).rejects.toThrow('boom')
  })

  test('a reader waiting on an empty queue wakes on push', async () => {
    const q = new AsyncQueue<string>()
    const it = q[Symbol.asyncIterator]()
    const next = it.next()
    setTimeout(() => void q.push('late'), 10)
    expect((await next).value).toBe('late')
  })
})
