import {describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {counts, createQueue, fill, receiveAll} from '../brokers/sqs.js'
import {BIN, lines, run, sandboxEnv, start} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = sandboxEnv()

describe.skipIf(!env.SQS_ENDPOINT)('sqs: tail --consume deletes only what reached the reader', () => {
  test('`tail --consume | head -n 2` on 25 messages deletes exactly the 2 printed; the other 23 stay', async () => {
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
    // What is left is exactly what was not printed: nothing deleted ahead, nothing still hidden.
    const left = await receiveAll(q.url)
    expect([...left.keys()].sort()).toEqual(bodies.filter((b) => !printed.includes(b)).sort())
    expect(p.err()).toMatch(/Deleted 2 message\(s\)\./)
    expect(await counts(q.url)).toEqual({visible: 0, inFlight: 23}) // receiveAll holds them now
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
