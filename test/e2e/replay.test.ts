import {describe, expect, test} from 'vitest'
import {lines, run, sandboxEnv} from './helpers.js'

describe('replay on the file broker', () => {
  test('X.dlq back to X; a second run of the finished command warns that it replays again', async () => {
    const env = sandboxEnv()
    expect((await run(['publish', 'orders', '{"id":1}'], {env})).code).toBe(0)
    for (const id of [2, 3])
      expect((await run(['publish', 'orders.dlq', `{"id":${id}}`, '-H', 'error=bad'], {env})).code).toBe(0)
    const dry = await run(['replay', 'orders.dlq', '--dry-run', '--json'], {env})
    expect(dry.code, dry.stderr).toBe(0)
    expect(JSON.parse(dry.stdout.toString())).toMatchObject({
      dryRun: true,
      mode: 'copy',
      selected: 2,
      sent: 0,
    })
    const first = await run(['replay', 'orders.dlq', '--json'], {env})
    expect(first.code, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout.toString())).toMatchObject({
      selected: 2,
      sent: 2,
      resumed: false,
    })
    const back = await run(['tail', 'orders', '--from', 'beginning', '--until', 'end', '-o', 'raw'], {env})
    expect(lines(back.stdout).map(String)).toEqual(['{"id":1}', '{"id":2}', '{"id":3}'])
    const second = await run(['replay', 'orders.dlq', '--json'], {env})
    expect(second.code).toBe(0)
    expect(JSON.parse(second.stdout.toString()).warnings).toEqual([
      {code: 'ALREADY_REPLAYED', message: expect.stringMatching(/finished before/)},
    ])
    // --move on a log is refused with the reason; --hold applies only to an SQS move.
    const move = await run(['replay', 'orders.dlq', '--move'], {env})
    expect(move.code).toBe(6)
    expect(move.stderr).toMatch(/a log keeps its messages/)
  })

  test('killed after its work but before its report: a rerun resumes, finds nothing left, copies nothing twice', async () => {
    const env = sandboxEnv()
    for (const id of [1, 2, 3])
      expect((await run(['publish', 'orders.dlq', `{"id":${id}}`, '-H', 'error=bad'], {env})).code).toBe(0)
    const killed = await run(['replay', 'orders.dlq', '--json'], {
      env: {...env, EVTCTL_REPLAY_FAULT: 'before-report'},
    })
    expect(killed.signal, killed.stderr).toBe('SIGKILL')
    expect(killed.stdout.toString()).toBe('')
    const again = await run(['replay', 'orders.dlq', '--json'], {env})
    expect(again.code, again.stderr).toBe(0)
    const report = JSON.parse(again.stdout.toString())
    expect(report).toMatchObject({resumed: true, sent: 0, possibleDuplicates: []})
    expect(report.warnings).toBeUndefined()
    const back = await run(['tail', 'orders', '--from', 'beginning', '--until', 'end', '-o', 'raw'], {env})
    expect(lines(back.stdout).map(String)).toEqual(['{"id":1}', '{"id":2}', '{"id":3}'])
    // That rerun gave its report: the run is finished now, and a third run says it replays again.
    const third = await run(['replay', 'orders.dlq', '--json'], {env})
    expect(third.code, third.stderr).toBe(0)
    expect(JSON.parse(third.stdout.toString())).toMatchObject({
      resumed: false,
      sent: 3,
      warnings: [{code: 'ALREADY_REPLAYED', message: expect.stringMatching(/finished before/)}],
    })
  })

  test('with contexts but none current, dlq list and replay refuse a bare name or no target (exit 3)', async () => {
    const env = sandboxEnv()
    expect(
      (await run(['config', 'set-context', 'k', '--broker', 'kafka', '--brokers', '127.0.0.1:1'], {env}))
        .code,
    ).toBe(0)
    const list = await run(['dlq', 'list'], {env})
    expect(list.code).toBe(3)
    expect(list.stderr).toMatch(/No current context/)
    const replay = await run(['replay', 'orders.dlq', '--dry-run'], {env})
    expect(replay.code).toBe(3)
  })
})
