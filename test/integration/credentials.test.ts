import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic} from '../brokers/kafka.js'
import {kcatProduce} from '../brokers/peers.js'
import {loggingProxy} from '../brokers/proxy.js'
import {run, sandboxEnv} from '../e2e/helpers.js'

/**
 * Issue #18.1: a context's credentials belong to the endpoints it was configured for. A logging
 * TCP proxy on loopback stands for "some other host": it forwards to the plaintext Kafka listener
 * and records every byte evtctl sends it.
 */
const env = brokerEnv()
const proxies: Array<{close(): void}> = []
afterAll(() => {
  for (const p of proxies) p.close()
})

/** A logging proxy in front of the plaintext Kafka listener (closed after the file). */
async function proxyToKafka() {
  const p = await loggingProxy(Number(env.KAFKA_BROKERS!.split(':')[1]))
  proxies.push(p)
  return {port: p.port, seen: p.sent}
}

/** Everything in `topic` through `brokers`, as raw values (plus `extra` flags). */
const tailAll = (
  brokers: string,
  topic: string,
  cliEnv: NodeJS.ProcessEnv,
  extra: string[] = ['-o', 'raw'],
) =>
  run(['tail', `kafka://${brokers}/${topic}`, '--from', 'beginning', '--until', 'end', ...extra], {
    env: cliEnv,
  })

describe('credentials stay with their endpoints (#18.1)', () => {
  test('a current Kafka context with SASL is not applied to a URL naming another host', async () => {
    if (!env.KAFKA_SASL_BROKERS) throw new Error('the harness has no SASL listener')
    const cli = sandboxEnv()
    const dir = join(cli.XDG_CONFIG_HOME!, 'evtctl')
    mkdirSync(dir, {recursive: true, mode: 0o700})
    writeFileSync(
      join(dir, 'config.yaml'),
      `current-context: secure\ncontexts:\n  secure:\n    broker: kafka\n    brokers: [${env.KAFKA_SASL_BROKERS}]\n    sasl:\n      mechanism: plain\n      username: ${env.KAFKA_SASL_USERNAME}\n      password: ${env.KAFKA_SASL_PASSWORD}\n`,
      {mode: 0o600},
    )
    const topic = await createTopic('creds')
    expect((await kcatProduce(env.KAFKA_BROKERS!, topic, {}, 'hello\n')).code).toBe(0)
    const proxy = await proxyToKafka()
    const t = await tailAll(`127.0.0.1:${proxy.port}`, topic, cli)
    expect(t.code, t.stderr).toBe(0)
    expect(t.stdout.toString()).toBe('hello\n')
    expect(proxy.seen().length).toBeGreaterThan(0)
    expect(proxy.seen()).not.toContain(env.KAFKA_SASL_PASSWORD!)
    expect(proxy.seen()).not.toContain('PLAIN')
    // The same context chosen explicitly applies (and fails on a plaintext listener: exit 3, secret unprinted).
    const chosen = await tailAll(`127.0.0.1:${proxy.port}`, topic, cli, ['--context', 'secure'])
    expect(chosen.code).not.toBe(0)
    expect(chosen.stderr).not.toContain(env.KAFKA_SASL_PASSWORD!)
    // The first run said why the context was not used (a spelling of the same host, perhaps).
    expect(t.stderr).toMatch(/Context "secure" is not used for .*--context secure/)
    // An exported EVTCTL_CONTEXT is not a choice made for this run: no credentials to other hosts.
    const proxy2 = await proxyToKafka()
    const exported = await tailAll(`127.0.0.1:${proxy2.port}`, topic, {...cli, EVTCTL_CONTEXT: 'secure'})
    expect(exported.code, exported.stderr).toBe(0)
    expect(proxy2.seen()).not.toContain(env.KAFKA_SASL_PASSWORD!)
    // And the context's own brokers named by URL get its credentials.
    const own = await tailAll(env.KAFKA_SASL_BROKERS, topic, cli)
    expect(own.code, own.stderr).toBe(0)
    expect(own.stdout.toString()).toBe('hello\n')
  })
})
