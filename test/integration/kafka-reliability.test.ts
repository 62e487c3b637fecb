import {mkdirSync, writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic, testKafka} from '../brokers/kafka.js'
import {OwnKafka, sleep} from '../brokers/own-kafka.js'
import {kcat} from '../brokers/peers.js'
import {lines, run, type Started, sandboxEnv, start} from '../e2e/helpers.js'

/** Issue #18, Kafka: bounded failures, exact failure reports. */
const env = brokerEnv()
const cli = sandboxEnv()
const k = (topic: string) => `kafka://${env.KAFKA_BROKERS}/${topic}`

/** A sandbox whose current context is `ctx`, with `settings` (YAML lines under the context). */
function contextEnv(brokers: string, settings = '') {
  const senv = sandboxEnv()
  mkdirSync(join(senv.XDG_CONFIG_HOME!, 'evtctl'), {recursive: true, mode: 0o700})
  writeFileSync(
    join(senv.XDG_CONFIG_HOME!, 'evtctl', 'config.yaml'),
    `current-context: ctx\ncontexts:\n  ctx:\n    broker: kafka\n    brokers: [${brokers}]\n${settings}`,
    {mode: 0o600},
  )
  return senv
}

/** Runs the CLI; SIGKILLs it after `limitMs` (then the code is null), and says how long it took. */
async function timed(args: string[], senv: NodeJS.ProcessEnv, limitMs: number) {
  const t0 = Date.now()
  const s = start(args, senv)
  const killer = setTimeout(() => s.child.kill('SIGKILL'), limitMs)
  const code = await s.done
  clearTimeout(killer)
  return {code, ms: Date.now() - t0, stderr: s.err(), stdout: s.out()}
}

/** Every record on the topic, as kcat sees it. */
async function kcatDump(topic: string): Promise<Array<{partition: number; key: string | null}>> {
  const r = await kcat(['-b', env.KAFKA_BROKERS!, '-C', '-t', topic, '-J', '-e', '-q'])
  expect(r.code, r.stderr).toBe(0)
  return lines(Buffer.from(r.stdout)).map((l) => JSON.parse(l))
}

describe('#18.6 OAUTHBEARER without a token: exit 3 at once, the process does not linger', () => {
  test.each([
    ['a missing token file', '      token-file: /nonexistent/evtctl-token\n'],
    ['a failing token command', '      token-command: "echo oops >&2; exit 1"\n'],
  ])(
    '%s: tail and publish exit 3 within 5 s',
    async (_, source) => {
      if (!env.KAFKA_SASL_BROKERS) throw new Error('the harness has no SASL listener')
      const senv = contextEnv(env.KAFKA_SASL_BROKERS, `    sasl:\n      mechanism: oauthbearer\n${source}`)
      for (const args of [
        ['tail', 'any-topic', '--until', 'end'],
        ['publish', 'any-topic', 'x'],
      ]) {
        // Before the fix the error printed at once and the process lived on for 600 s.
        const r = await timed(args, senv, 20_000)
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(3)
        expect(r.stderr).toMatch(/Could not get an OAUTHBEARER token/)
        expect(r.ms, args[0]).toBeLessThan(5_000)
      }
    },
    60_000,
  )
})

describe('#18.8 publish reports exactly the messages that failed', () => {
  test('one 2 MiB message among 1000: only it fails (not sent), the other 999 are at the broker once; exit 7', async () => {
    const topic = await createTopic('oversized', 3)
    const big = 499
    const input = Array.from({length: 1000}, (_, i) =>
      JSON.stringify({
        v: 1,
        key: {utf8: `k${i}`},
        value: {utf8: i === big ? 'x'.repeat(2 * 1024 * 1024) : `v${i}`},
      }),
    ).join('\n')
    const r = await run(['publish', k(topic), '--input', 'jsonl', '--json'], {env: cli, input})
    expect(r.code, r.stderr).toBe(7)
    const report = JSON.parse(r.stdout.toString())
    expect(report.sent).toBe(999)
    expect(report.failed.map((f: {index: number}) => f.index)).toEqual([big])
    expect(report.failed[0].error).toMatch(/max\.message\.bytes \(1048588\); not sent/)
    const keys = (await kcatDump(topic)).map((m) => m.key).sort()
    const expected = Array.from({length: 1000}, (_, i) => `k${i}`)
      .filter((k) => k !== `k${big}`)
      .sort()
    expect(keys).toEqual(expected)
  }, 60_000)

  test("the topic's own max.message.bytes is used: a 20 KB message on a 10 KB topic fails alone", async () => {
    const topic = await createTopic('small-max', 2)
    const admin = testKafka().admin()
    await admin.connect()
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{type: 2, name: topic, configEntries: [{name: 'max.message.bytes', value: '10000'}]}],
    })
    await admin.disconnect()
    // 60 messages of 1 KB: together over 10 KB, so they go as several requests, none refused.
    const input = Array.from({length: 60}, (_, i) =>
      JSON.stringify({
        v: 1,
        key: {utf8: `k${i}`},
        value: {utf8: (i === 30 ? 'y' : 'x').repeat(i === 30 ? 20_000 : 1000)},
      }),
    ).join('\n')
    const r = await run(['publish', k(topic), '--input', 'jsonl', '--json'], {env: cli, input})
    expect(r.code, r.stderr).toBe(7)
    const report = JSON.parse(r.stdout.toString())
    expect(report.failed.map((f: {index: number}) => f.index)).toEqual([30])
    expect(report.failed[0].error).toMatch(/max\.message\.bytes \(10000\)/)
    expect(report.sent).toBe(59)
    expect((await kcatDump(topic)).length).toBe(59)
  }, 60_000)

  test('a partition batch the broker refuses fails only its own messages; the rest of the request is written once', async () => {
    // The broker refuses a batch holding a message stamped over 60 s in the past (INVALID_TIMESTAMP)
    // — in one partition; the same request's batches for the other partitions are written.
    const topic = await createTopic('one-batch-refused', 3)
    const admin = testKafka().admin()
    await admin.connect()
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {type: 2, name: topic, configEntries: [{name: 'message.timestamp.before.max.ms', value: '60000'}]},
      ],
    })
    await admin.disconnect()
    const now = Date.now()
    const old = 250
    const input = Array.from({length: 1000}, (_, i) =>
      JSON.stringify({
        v: 1,
        key: {utf8: `k${i}`},
        timestamp: new Date(i === old ? now - 3_600_000 : now).toISOString(),
        value: {utf8: `v${i}`},
      }),
    ).join('\n')
    const r = await run(['publish', k(topic), '--input', 'jsonl', '--json'], {env: cli, input})
    expect(r.code, r.stderr).toBe(7)
    const report = JSON.parse(r.stdout.toString())
    const failed = new Set<number>(report.failed.map((f: {index: number}) => f.index))
    expect(failed.has(old)).toBe(true)
    expect(report.failed[0].error).toMatch(/INVALID_TIMESTAMP|timestamp/i)
    // Only part of the request failed (one partition's batch of a 500-message request, not all).
    expect(failed.size).toBeGreaterThan(1)
    expect(failed.size).toBeLessThan(500)
    const dump = await kcatDump(topic)
    const atBroker = dump.map((m) => Number(m.key!.slice(1)))
    // Exactly: a failed message is not at the broker; every other one is there exactly once.
    expect(atBroker.length).toBe(new Set(atBroker).size)
    expect(atBroker.filter((i) => failed.has(i))).toEqual([])
    expect(atBroker.length + failed.size).toBe(1000)
    expect(report.sent).toBe(1000 - failed.size)
  }, 60_000)
})

describe('#18.13 --partition beyond the topic: tail and publish both exit 5', () => {
  test('tail and publish --partition 9 on a 3-partition topic: exit 5, "has no partition 9 (it has 3: 0–2)"', async () => {
    const topic = await createTopic('partition-9', 3)
    for (const args of [
      ['tail', k(topic), '--partition', '9', '--until', 'end'],
      ['publish', k(topic), 'x', '--partition', '9'],
    ]) {
      const r = await run(args, {env: cli})
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(5)
      expect(r.stderr).toContain(`Topic "${topic}" has no partition 9 (it has 3: 0–2)`)
    }
    expect(await kcatDump(topic)).toEqual([])
  }, 30_000)
})

describe('bounded network calls: a socket that accepts and never answers', () => {
  let silent: Server
  let port = 0
  const sockets = new Set<Socket>()
  let connections = 0
  beforeAll(async () => {
    silent = createServer((s) => {
      connections++
      sockets.add(s)
      s.on('error', () => {})
    })
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    port = (silent.address() as {port: number}).port
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((r) => silent.close(() => r()))
  })

  test.each([
    ['tail', () => ['tail', `kafka://127.0.0.1:${port}/t`, '--until', 'end']],
    ['tail (following)', () => ['tail', `kafka://127.0.0.1:${port}/t`]],
    ['publish', () => ['publish', `kafka://127.0.0.1:${port}/t`, 'x']],
  ])(
    '%s: exit 4 within 15 s, naming the address',
    async (_, args) => {
      const r = await timed(args(), cli, 40_000)
      expect(r.code, r.stderr).toBe(4)
      expect(r.stderr).toContain(`Cannot reach Kafka at 127.0.0.1:${port}`)
      expect(r.ms).toBeLessThan(15_000)
    },
    60_000,
  )

  test.each([
    ['tail', 'SIGINT'],
    ['tail', 'SIGTERM'],
    ['publish', 'SIGINT'],
    ['publish', 'SIGTERM'],
  ] as const)(
    '%s, then %s while it waits: exit 130 at once',
    async (cmd, signal) => {
      const args =
        cmd === 'tail'
          ? ['tail', `kafka://127.0.0.1:${port}/t`]
          : ['publish', `kafka://127.0.0.1:${port}/t`, 'x']
      const before = connections
      const s = start(args, cli)
      const killer = setTimeout(() => s.child.kill('SIGKILL'), 20_000)
      // Waiting: it has connected to the silent socket (so its handlers are in place; a fixed
      // sleep was too short on a loaded machine, and the signal then came before them).
      const deadline = Date.now() + 15_000
      while (connections === before && Date.now() < deadline) await sleep(50)
      await sleep(300)
      const t0 = Date.now()
      s.child.kill(signal)
      const code = await s.done
      clearTimeout(killer)
      expect(code, s.err()).toBe(130)
      expect(Date.now() - t0).toBeLessThan(2_000)
    },
    30_000,
  )
})

describe('bounded network calls: a broker frozen with kill -STOP (own broker)', () => {
  if (!env.KAFKA_LIBS) throw new Error('KAFKA_LIBS is not set: run the harness (npm run brokers -- up)')
  const own = new OwnKafka(env.KAFKA_LIBS, env.KAFKA_VERSION!)
  const topic = 'frozen'
  let running: Started | undefined

  beforeAll(async () => {
    await own.startWithTopic(topic, 2)
    expect((await run(['publish', `kafka://${own.brokers}/${topic}`, 'before'], {env: cli})).code).toBe(0)
  }, 150_000)

  afterAll(async () => {
    running?.child.kill('SIGKILL')
    await own.destroy()
  }, 60_000)

  test('tail and publish against the frozen broker: exit 4 within 15 s; a following tail frozen mid-read: exit 4 within its reconnect limit', async () => {
    const senv = contextEnv(own.brokers, '    reconnect-timeout-ms: 4000\n')
    const follow = start(['tail', topic, '--from', 'beginning', '-o', 'raw'], senv)
    running = follow
    const deadline = Date.now() + 20_000
    while (!follow.out().includes('before') && Date.now() < deadline) await sleep(100)
    expect(follow.out()).toBe('before\n')
    own.pause()
    try {
      const frozenAt = Date.now()
      for (const args of [
        ['tail', topic, '--until', 'end'],
        ['publish', topic, 'x'],
      ]) {
        const r = await timed(args, senv, 40_000)
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(4)
        expect(r.ms, args[0]).toBeLessThan(15_000)
      }
      // The follow: request time-out (10 s), then 4 s of reconnecting.
      const killer = setTimeout(() => follow.child.kill('SIGKILL'), 60_000)
      const code = await follow.done
      clearTimeout(killer)
      expect(code, follow.err()).toBe(4)
      expect(follow.err()).toMatch(/could not reconnect within 4 s/)
      expect(Date.now() - frozenAt).toBeLessThan(40_000)

      // Ctrl-C while frozen: 130 at once.
      const again = start(['tail', topic, '--from', 'beginning', '-o', 'raw'], senv)
      running = again
      await sleep(1_500)
      const t0 = Date.now()
      again.child.kill('SIGINT')
      const killer2 = setTimeout(() => again.child.kill('SIGKILL'), 20_000)
      expect(await again.done).toBe(130)
      clearTimeout(killer2)
      expect(Date.now() - t0).toBeLessThan(2_000)
    } finally {
      own.resume()
    }
  }, 180_000)
})
