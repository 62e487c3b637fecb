import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'
import {FLAG_NEEDS, registry} from '../../src/adapters/registry.js'
import {run, sandboxEnv} from './helpers.js'

/**
 * Issue #11.3: every broker-specific flag is honoured or refused (exit 6) — before anything is
 * read, created or sent, and before connecting (the targets below lead nowhere).
 */
const env = sandboxEnv()
const TARGETS = {
  file: () => `file://${join(env.XDG_DATA_HOME!, 'flags', 't.jsonl')}`,
  kafka: () => 'kafka://127.0.0.1:1/t',
  sqs: () => 'http://127.0.0.1:1/000000000000/q',
  pubsub: () => 'pubsub://p/topics/t',
} as const
/** A value for each flag, for the commands that take it. */
const VALUES: Record<string, {publish?: string[]; tail?: string[]}> = {
  partition: {publish: ['--partition', '3'], tail: ['--partition', '3']},
  // Envelopes are needed to keep their partitions (else exit 2): an empty capture.
  'keep-partitions': {publish: ['--keep-partitions', '--input', 'jsonl', '--file', '/dev/null']},
  key: {publish: ['--key', 'k'], tail: ['--key', 'k*']},
  acks: {publish: ['--acks', '1']},
  compression: {publish: ['--compression', 'lz4']},
  idempotent: {publish: ['--idempotent']},
  'ordering-key': {publish: ['--ordering-key', 'k']},
  'group-id': {publish: ['--group-id', 'g']},
  'dedup-id': {publish: ['--dedup-id', 'd']},
  delay: {publish: ['--delay', '5s']},
  hold: {tail: ['--hold', '5s']},
  'allow-receive-count': {tail: ['--allow-receive-count']},
  consume: {tail: ['--consume']},
  group: {tail: ['--group', 'g', '--consume']},
  profile: {publish: ['--profile', 'dev'], tail: ['--profile', 'dev']},
}

const cases: Array<[string, string, string[]]> = []
for (const [kind, target] of Object.entries(TARGETS)) {
  for (const [flag, need] of Object.entries(FLAG_NEEDS)) {
    if (registry[kind as keyof typeof TARGETS].capabilities[need]) continue
    const v = VALUES[flag]!
    const value = v.publish?.includes('--file') ? [] : ['v']
    if (v.publish) cases.push([kind, flag, ['publish', target(), ...value, ...v.publish]])
    if (v.tail) cases.push([kind, flag, ['tail', target(), '--until', 'end', ...v.tail]])
  }
}

describe('broker-specific flags on brokers that cannot honour them', () => {
  test('every flag in the table has a value here, and there are cases for every broker', () => {
    expect(Object.keys(VALUES).sort()).toEqual(Object.keys(FLAG_NEEDS).sort())
    expect(new Set(cases.map(([k]) => k))).toEqual(new Set(Object.keys(TARGETS)))
  })

  test.each(cases)('%s: --%s is exit 6, naming the flag, with nothing done', async (_kind, flag, args) => {
    const r = await run(args, {env})
    expect(r.code, r.stderr).toBe(6)
    expect(r.stderr).toContain(`--${flag}`)
    expect(r.stderr).toMatch(/^Try: /m)
    expect(existsSync(join(env.XDG_DATA_HOME!, 'flags'))).toBe(false)
  })

  test('a Pub/Sub subscription cannot start at a time (a topic can): exit 6 before connecting', async () => {
    const r = await run(['tail', 'pubsub://p/subscriptions/s', '--from', '-1h', '--until', 'end'], {env})
    expect(r.code, r.stderr).toBe(6)
    expect(r.stderr).toMatch(/A Pub\/Sub subscription cannot do what was asked \(start at a time\)/)
    expect(r.stderr).toMatch(/tail the topic/)
  })
})
