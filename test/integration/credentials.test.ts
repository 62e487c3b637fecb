import {mkdirSync, writeFileSync} from 'node:fs'
import {createServer, type Server, Socket} from 'node:net'
import {join} from 'node:path'
import {afterAll, describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic} from '../brokers/kafka.js'
import {kcatProduce} from '../brokers/peers.js'
import {run, sandboxEnv} from '../e2e/helpers.js'

/**
 * Issue #18.1: a context's credentials belong to the endpoints it was configured for. A logging
 * TCP proxy on loopback stands for "some other host": it forwards to the plaintext Kafka listener
 * and records every byte evtctl sends it.
 */
const env = brokerEnv()
const servers: Server[] = []
afterAll(() => {
  for (const s of servers) s.close()
})

function loggingProxy(upstream: string): Promise<{port: number; seen: () => string}> {
  const [host, port] = upstream.split(':') as [string, string]
  const chunks: Buffer[] = []
  const server = createServer((client) => {
    const up = new Socket()
    up.connect(Number(port), host)
    client.on('data', (b: Buffer) => {
      chunks.push(b)
      up.write(b)
    })
    up.on('data', (b) => client.write(b))
    const end = () => {
      client.destroy()
      up.destroy()
    }
    client.on('error', end).on('close', end)
    up.on('error', end).on('close', end)
  })
  servers.push(server)
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address() as {port: number}
      resolve({port: a.port, seen: () => Buffer.concat(chunks).toString('latin1')})
    }),
  )
}

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
    const proxy = await loggingProxy(env.KAFKA_BROKERS!)
    const t = await run(
      [
        'tail',
        `kafka://127.0.0.1:${proxy.port}/${topic}`,
        '--from',
        'beginning',
        '--until',
        'end',
        '-o',
        'raw',
      ],
      {
        env: cli,
      },
    )
    expect(t.code, t.stderr).toBe(0)
    expect(t.stdout.toString()).toBe('hello\n')
    expect(proxy.seen().length).toBeGreaterThan(0)
    expect(proxy.seen()).not.toContain(env.KAFKA_SASL_PASSWORD!)
    expect(proxy.seen()).not.toContain('PLAIN')
    // The same context chosen explicitly applies (and fails on a plaintext listener: exit 3, secret unprinted).
    const chosen = await run(
      [
        'tail',
        `kafka://127.0.0.1:${proxy.port}/${topic}`,
        '--from',
        'beginning',
        '--until',
        'end',
        '--context',
        'secure',
      ],
      {env: cli},
    )
    expect(chosen.code).not.toBe(0)
    expect(chosen.stderr).not.toContain(env.KAFKA_SASL_PASSWORD!)
    // The first run said why the context was not used (a spelling of the same host, perhaps).
    expect(t.stderr).toMatch(/Context "secure" is not used for .*--context secure/)
    // An exported EVTCTL_CONTEXT is not a choice made for this run: no credentials to other hosts.
    const proxy2 = await loggingProxy(env.KAFKA_BROKERS!)
    const exported = await run(
      [
        'tail',
        `kafka://127.0.0.1:${proxy2.port}/${topic}`,
        '--from',
        'beginning',
        '--until',
        'end',
        '-o',
        'raw',
      ],
      {env: {...cli, EVTCTL_CONTEXT: 'secure'}},
    )
    expect(exported.code, exported.stderr).toBe(0)
    expect(proxy2.seen()).not.toContain(env.KAFKA_SASL_PASSWORD!)
    // And the context's own brokers named by URL get its credentials.
    const own = await run(
      [
        'tail',
        `kafka://${env.KAFKA_SASL_BROKERS}/${topic}`,
        '--from',
        'beginning',
        '--until',
        'end',
        '-o',
        'raw',
      ],
      {env: cli},
    )
    expect(own.code, own.stderr).toBe(0)
    expect(own.stdout.toString()).toBe('hello\n')
  })
})
