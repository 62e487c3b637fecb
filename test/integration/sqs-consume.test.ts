import {describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {counts, createQueue, fill, receiveAll} from '../brokers/sqs.js'
import {BIN, lines, run, sandboxEnv, start} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = sandboxEnv()

describe.skipIf(!env.SQS_ENDPOINT)('sqs: tail --consume deletes only what reached the reader', () => {
  test('`tail --consume | head -n 2` on 25 messages deletes the 2 printed, not a batch ahead; the rest stay', async () => {
    const q = await createQueue('consume-pipe')
    const bodies = Array.from({length: 25}, (_, i) => `m${i}`)
    await fill(q.url, bodies)
    const p = start(
      {shell: `"${process.execPath}" "${BIN}" tail '${q.url}' --until end --consume -o raw | head -n 2`},
      cli,
    )
    expect(await p.done, p.err()).toBe(0)
    const printed = lines(Buffer.from(p.out()))
    expect(printed).toHaveLength(2)
    // Deleted: exactly what is no longer in the queue (the rest was released, nothing is hidden).
    const left = await receiveAll(q.url)
    const deleted = bodies.filter((b) => !left.has(b))
    expect(await counts(q.url)).toEqual({visible: 0, inFlight: 25 - deleted.length}) // receiveAll holds the rest
    // Every printed message was deleted, and nothing ahead of them: a pipe cannot tell whether
    // head took a 3rd line into its buffer before exiting, so that one may go too (2 in every run
    // so far; before the fix, 20).
    for (const b of printed) expect(deleted).toContain(b)
    expect(deleted.length).toBeLessThanOrEqual(printed.length + 1)
    expect(p.err()).toMatch(new RegExp(`Deleted ${deleted.length} message\\(s\\)\\.`))
  })

  test('--consume --max 5 deletes the 5 it printed, says so, and receives no more than needed', async () => {
    const q = await createQueue('consume-max')
    const bodies = Array.from({length: 12}, (_, i) => `m${i}`)
    await fill(q.url, bodies)
    const r = await run(['tail', q.url, '--until', 'end', '--consume', '--max', '5', '-o', 'raw'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    const printed = lines(r.stdout)
    expect(printed).toHaveLength(5)
    expect(r.stderr).toMatch(/Deleted 5 message\(s\)\./)
    // The 7 left were never received: one at a time, only as many as still needed.
    const left = await receiveAll(q.url)
    expect([...left.keys()].sort()).toEqual(bodies.filter((b) => !printed.includes(b)).sort())
    expect([...left.values()]).toEqual(Array(7).fill(1))
  })
})
