import {describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {counts, createQueue, fill, receiveAll} from '../brokers/sqs.js'
import {lines, run, sandboxEnv, start} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = sandboxEnv()

async function redriveQueue(prefix: string, maxReceiveCount: number) {
  const dlq = await createQueue(`${prefix}-dlq`)
  const main = await createQueue(prefix, {
    RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq.arn, maxReceiveCount}),
  })
  return {dlq, main}
}

describe.skipIf(!env.SQS_ENDPOINT)(
  'sqs: browsing a queue with a redrive policy spends one receive per tail',
  () => {
    test('a follow with a short --hold keeps listed messages hidden instead of receiving them again: nothing is dead-lettered', async () => {
      const {dlq, main} = await redriveQueue('follow-redrive', 3)
      await fill(main.url, ['a', 'b', 'c'])
      const tail = start(['tail', main.url, '--allow-receive-count', '--hold', '1s', '-o', 'raw'], cli)
      // Long enough for a 1 s hold to run out many times, and for the kept-hidden hold (10 s) once.
      await new Promise((r) => setTimeout(r, 14_000))
      expect(lines(Buffer.from(tail.out())).sort()).toEqual(['a', 'b', 'c'])
      expect((await counts(main.url)).inFlight).toBe(3)
      tail.child.kill('SIGINT')
      expect(await tail.done).toBe(130)
      expect(tail.err()).toMatch(/messages already listed stay hidden while tail runs/)
      expect(tail.err()).toMatch(/released 3\./)
      expect(tail.err()).not.toMatch(/could not be released/)
      expect(await counts(dlq.url)).toEqual({visible: 0, inFlight: 0})
      // Received once by the follow, once now: the follow cost each message one receive.
      expect(Object.fromEntries(await receiveAll(main.url))).toEqual({a: 2, b: 2, c: 2})
    }, 40_000)

    test('each browse warns per message at maxReceiveCount-1 and at maxReceiveCount, before the receive that moves it', async () => {
      const {dlq, main} = await redriveQueue('warn-redrive', 3)
      await fill(main.url, ['a', 'b'])
      const browse = () =>
        run(['tail', main.url, '--until', 'end', '--allow-receive-count', '-o', 'raw'], {env: cli})
      const first = await browse()
      expect(first.code, first.stderr).toBe(0)
      expect(first.stderr).not.toMatch(/Warning: message/)
      const second = await browse()
      expect(lines(second.stdout).sort()).toEqual(['a', 'b'])
      expect(
        second.stderr.match(
          /Warning: message \S+ has now been received 2 times \(maxReceiveCount 3\): after one more receive, the next one moves it/g,
        ),
      ).toHaveLength(2)
      const third = await browse()
      expect(lines(third.stdout).sort()).toEqual(['a', 'b'])
      expect(
        third.stderr.match(
          /Warning: message \S+ has now been received 3 times \(maxReceiveCount 3\): the next receive, by anyone, moves it/g,
        ),
      ).toHaveLength(2)
      expect(await counts(main.url)).toEqual({visible: 2, inFlight: 0})
      expect(await counts(dlq.url)).toEqual({visible: 0, inFlight: 0})
    })

    test('--max 1 and --max 3 receive only as many messages as they print', async () => {
      const q = await createQueue('max-receive')
      const bodies = Array.from({length: 10}, (_, i) => `m${i}`)
      await fill(q.url, bodies)
      const one = await run(['tail', q.url, '--until', 'end', '--max', '1', '-o', 'raw'], {env: cli})
      expect(one.code, one.stderr).toBe(0)
      const three = await run(['tail', q.url, '--until', 'end', '--max', '3', '-o', 'raw'], {env: cli})
      expect(three.code, three.stderr).toBe(0)
      const printed = [...lines(one.stdout), ...lines(three.stdout)]
      expect(printed).toHaveLength(4)
      // Receive counts now (ours + this one): only the printed messages were received before.
      const seen = await receiveAll(q.url)
      const before = [...seen].map(([body, n]) => [body, n - 1] as const)
      expect(before.reduce((sum, [, n]) => sum + n, 0)).toBe(4)
      for (const [body, n] of before) expect(n, body).toBe(printed.filter((p) => p === body).length)
    })
  },
)
