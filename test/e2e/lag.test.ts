import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'
import type {KafkaLagDoc} from '../../src/services/lag/view.js'
import {run, sandboxEnv} from './helpers.js'

describe('evtctl lag on the file broker (no server)', () => {
  const env = sandboxEnv()

  test('a topic without groups is exit 6 with a sentence, as text and as JSON', async () => {
    expect((await run(['publish', 'orders', 'a'], {env})).code).toBe(0)
    const r = await run(['lag', 'orders'], {env})
    expect(r.code).toBe(6)
    expect(r.stderr).toContain('has no consumer groups with stored offsets, so it has no lag to show')
    const j = await run(['lag', 'orders', '--json'], {env})
    expect(j.code).toBe(6)
    expect(JSON.parse(j.stdout.toString()).error.code).toBe('NOT_SUPPORTED')
  })

  test('groups stored beside the topic: lag, and null members and time lag with the reason', async () => {
    const input = 'a\nb\nc\nd\ne\n'
    expect((await run(['publish', 'billing'], {env, input})).code).toBe(0)
    const file = join(env.XDG_DATA_HOME!, 'evtctl', 'billing.jsonl')
    writeFileSync(
      `${file}.offsets.json`,
      JSON.stringify({groups: {invoicer: {offset: '2', committedAt: new Date().toISOString()}}}),
    )
    const j = await run(['lag', 'billing', '--json'], {env})
    expect(j.code, j.stderr).toBe(0)
    const doc = JSON.parse(j.stdout.toString()) as KafkaLagDoc
    expect(doc.groups).toHaveLength(1)
    expect(doc.groups[0]).toMatchObject({
      group: 'invoicer',
      state: null,
      members: null,
      lag: 3,
      timeLagMs: null,
      topics: [{topic: 'billing', lag: 3, partitions: [{partition: 0, committed: '2', end: '5', lag: 3}]}],
    })
    expect(doc.groups[0]!.reasons).toMatchObject({members: 'the file broker keeps no consumer members'})
    const t = await run(['lag', 'billing'], {env})
    expect(t.code).toBe(0)
    expect(t.stdout.toString()).toMatch(/invoicer\s+billing\s+3\s+\?\s+\?/)
    expect(t.stderr).toContain('? time lag: the file broker does not look up message times for lag')
  })

  test('--prefix is refused on Kafka and file targets (exit 2)', async () => {
    const r = await run(['lag', 'billing', '--prefix', 'x'], {env})
    expect(r.code).toBe(2)
  })
})
