import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {OwnKafka, sleep} from '../brokers/own-kafka.js'
import {run, type Started, sandboxEnv, start} from '../e2e/helpers.js'

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

const env = brokerEnv()

describe.skipIf(!env.KAFKA_LIBS)('kafka: a following tail rides out a broker restart (own broker)', () => {
  const own = new OwnKafka(env.KAFKA_LIBS!, env.KAFKA_VERSION!)
  const cli = sandboxEnv()
  const topic = 'restart'
  const url = () => `kafka://${own.brokers}/${topic}`
  let tail: Started | undefined

  beforeAll(async () => {
    await own.startWithTopic(topic, 2)
  }, 150_000)

  afterAll(async () => {
    tail?.child.kill('SIGKILL')
    await own.destroy()
  }, 60_000)

  test('a restart: a notice, then "reconnected", and every message once — nothing skipped or repeated', async () => {
    const pub = async (value: string) => {
      const r = await run(['publish', url(), value], {env: cli})
      expect(r.code, r.stderr).toBe(0)
    }
    await pub('before-1')
    await pub('before-2')
    tail = start(['tail', url(), '--from', 'beginning', '-o', 'raw'], cli)
    const t = tail
    await until('the messages before the restart', () => t.out().split('\n').length > 2, 20_000)

    await own.stop()
    await until(
      'the notice',
      () => /Kafka connection lost \(.+\); retrying for up to 60 s/.test(t.err()),
      20_000,
    )
    // Still following while the broker is away (it used to exit 4 within 0.2 s).
    await sleep(3_000)
    expect(t.child.exitCode, t.err()).toBe(null)

    await own.start()
    await pub('after-1')
    await until('the message after the restart', () => t.out().includes('after-1'), 60_000)
    expect(t.err()).toMatch(/Kafka reconnected after [\d.]+ s/)
    expect(t.err()).not.toMatch(/Cannot reach Kafka at/)
    await pub('after-2')
    await until('a second message', () => t.out().includes('after-2'), 20_000)
    t.child.kill('SIGINT')
    expect(await t.done).toBe(130)
    expect(t.out().split('\n').filter(Boolean).sort()).toEqual(['after-1', 'after-2', 'before-1', 'before-2'])
  }, 180_000)

  test('a broker that stays away: exit 4 after the documented limit (reconnect-timeout-ms), naming it', async () => {
    const senv = sandboxEnv()
    mkdirSync(join(senv.XDG_CONFIG_HOME!, 'evtctl'), {recursive: true, mode: 0o700})
    writeFileSync(
      join(senv.XDG_CONFIG_HOME!, 'evtctl', 'config.yaml'),
      `current-context: own\ncontexts:\n  own:\n    broker: kafka\n    brokers: [${own.brokers}]\n    reconnect-timeout-ms: 4000\n`,
      {mode: 0o600},
    )
    const t = start(['tail', topic, '--from', 'beginning', '-o', 'raw'], senv)
    tail = t
    await until('the messages so far', () => t.out().split('\n').length > 4, 20_000)
    await own.stop()
    const lost = Date.now()
    const code = await t.done
    const waited = Date.now() - lost
    expect(code, t.err()).toBe(4)
    expect(t.err()).toMatch(/Kafka connection lost .*retrying for up to 4 s/)
    expect(t.err()).toMatch(/could not reconnect within 4 s/)
    expect(t.err()).toContain('reconnect-timeout-ms')
    expect(waited).toBeGreaterThanOrEqual(3_500)
    expect(waited).toBeLessThan(30_000)
  }, 120_000)
})
