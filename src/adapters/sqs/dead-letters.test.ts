import {describe, expect, test} from 'vitest'
import {parseScope} from '../../config/scope.js'
import type {Target} from '../../config/targets.js'
import {type DeadLetterDeps, listSqsDeadLetters} from './dead-letters.js'
import type {CallOptions, SqsPort} from './port.js'

/*
 * The whole-region listing's request pattern (bench/dlq-list.sh): no call options reach the SDK
 * (so the client's cached middleware stack serves every call), calls go in waves of 16, and a
 * call given up (Ctrl-C, time-out) ends the listing at once. A fake of our own port only.
 */

const ENDPOINT = 'http://127.0.0.1:9324'
const scope = (await parseScope('sqs://us-east-1', undefined)) as Extract<Target, {kind: 'sqs'}>
const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`

/** n queues q0…; every 5th a DLQ (holding a message) of the next one. */
function fakeSqs(n: number, opts: {hang?: boolean} = {}) {
  const seen: {options: unknown[]; inFlight: number; most: number; waves: number[]} = {
    options: [],
    inFlight: 0,
    most: 0,
    waves: [],
  }
  let wave = 0
  const answer = async <T>(o: unknown, value: T): Promise<T> => {
    seen.options.push(o)
    seen.inFlight++
    seen.most = Math.max(seen.most, seen.inFlight)
    wave++
    await new Promise((r) => setTimeout(r, 1 + (wave % 3)))
    if (opts.hang) await new Promise(() => {})
    seen.inFlight--
    // A wave ends when nothing is in flight: count how many calls it held.
    if (seen.inFlight === 0) {
      seen.waves.push(wave)
      wave = 0
    }
    return value
  }
  const urls = Array.from({length: n}, (_, i) => `${ENDPOINT}/000000000000/q${i}`)
  const port = {
    listQueues: async () => ({QueueUrls: urls, $metadata: {}}),
    getQueueAttributes: (i: {QueueUrl?: string}, o?: CallOptions) => {
      const k = Number(i.QueueUrl!.replace(/^.*\/q/, ''))
      return answer(o, {
        Attributes: {
          QueueArn: arn(`q${k}`),
          ApproximateNumberOfMessages: k % 5 === 0 ? '1' : '0',
          ...(k % 5 === 1
            ? {RedrivePolicy: JSON.stringify({deadLetterTargetArn: arn(`q${k - 1}`), maxReceiveCount: 3})}
            : {}),
        },
        $metadata: {},
      })
    },
    listMessageMoveTasks: (_i: unknown, o?: CallOptions) => answer(o, {Results: [], $metadata: {}}),
  } as unknown as SqsPort
  return {port, seen}
}

/** The adapter's bounded call, reduced: aborts its signal after `ms` (the time-out) or on `signal`. */
function deps(sqs: SqsPort, ms = 10_000): DeadLetterDeps {
  return {
    sqs,
    urlOf: async () => '',
    call: async (_what, fn, b = {}) => {
      const ac = new AbortController()
      const timer = setTimeout(() => ac.abort(new Error('time up')), ms)
      b.signal?.addEventListener('abort', () => ac.abort(new Error('interrupted')), {once: true})
      try {
        return await fn({abortSignal: ac.signal, requestTimeout: 5_000})
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

describe('SQS dlq list over a whole region', () => {
  test('no call options reach the SDK, at most 16 calls at once, in waves of 16', async () => {
    const {port, seen} = fakeSqs(100)
    const dlqs = await listSqsDeadLetters(deps(port), scope, new AbortController().signal)
    expect(dlqs).toHaveLength(20)
    expect(dlqs.every((d) => d.sources.length === 1 && d.depth === 1)).toBe(true)
    // 100 attribute calls and 20 move-task look-ups (each DLQ holds a message).
    expect(seen.options).toHaveLength(120)
    expect(seen.options.every((o) => o === undefined)).toBe(true)
    expect(seen.most).toBe(16)
    // 100 = 6 × 16 + 4, then 20 = 16 + 4: a wave is refilled only once it is all answered.
    expect(seen.waves).toEqual([16, 16, 16, 16, 16, 16, 4, 16, 4])
  })

  test('a call that does not answer ends the listing at its time-out', async () => {
    const {port} = fakeSqs(40, {hang: true})
    const t0 = Date.now()
    await expect(listSqsDeadLetters(deps(port, 50), scope, new AbortController().signal)).rejects.toThrow(
      'time up',
    )
    expect(Date.now() - t0).toBeLessThan(2_000)
  })

  test('Ctrl-C gives up the calls in flight at once', async () => {
    const {port} = fakeSqs(40, {hang: true})
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 30)
    await expect(listSqsDeadLetters(deps(port), scope, ac.signal)).rejects.toThrow('interrupted')
  })
})
