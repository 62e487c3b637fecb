import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, connect as tcpConnect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {run, type Started, sandboxEnv, start} from '../e2e/helpers.js'

/**
 * A throw-away single-node Kafka (KRaft) of this test file's own, on its own ports and data dir,
 * so it can be stopped and started again without touching the shared harness broker that other
 * test files use. Started from the same jars as the harness (KAFKA_LIBS).
 */
class OwnKafka {
  readonly dir = mkdtempSync(join(tmpdir(), 'evtctl-kafka-restart-'))
  port = 0
  private proc?: ChildProcess

  constructor(private readonly libs: string) {}

  get brokers(): string {
    return `127.0.0.1:${this.port}`
  }

  async format(): Promise<void> {
    this.port = await freePort()
    const cport = await freePort()
    mkdirSync(join(this.dir, 'data'))
    writeFileSync(
      join(this.dir, 'server.properties'),
      `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${cport}
listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${cport}
advertised.listeners=PLAINTEXT://127.0.0.1:${this.port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${join(this.dir, 'data')}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
`,
    )
    writeFileSync(
      join(this.dir, 'log4j.properties'),
      'log4j.rootLogger=INFO, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\nlog4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\nlog4j.logger.org.apache.kafka=WARN\n',
    )
    execFileSync(
      'java',
      [
        ...this.jvm(),
        'kafka.tools.StorageTool',
        'format',
        '-t',
        randomBytes(16).toString('base64url').slice(0, 22),
        '-c',
        join(this.dir, 'server.properties'),
      ],
      {stdio: ['ignore', 'ignore', 'pipe']},
    )
  }

  private jvm(): string[] {
    return [
      '-Xmx384m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Dlog4j.configuration=file:${join(this.dir, 'log4j.properties')}`,
      '-cp',
      `${this.libs}/*`,
    ]
  }

  /** Starts the broker (again, on the same port and data) and waits until it answers. */
  async start(): Promise<void> {
    const log = join(this.dir, 'kafka.log')
    writeFileSync(log, '')
    const fd = openSync(log, 'a')
    this.proc = spawn('java', [...this.jvm(), 'kafka.Kafka', join(this.dir, 'server.properties')], {
      stdio: ['ignore', fd, fd],
    })
    closeSync(fd)
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`own Kafka exited:\n${readFileSync(log, 'utf8')}`)
      if (
        /Kafka Server started|KafkaRaftServer.*started/.test(readFileSync(log, 'utf8')) &&
        (await portOpen(this.port))
      )
        return
      await sleep(250)
    }
    throw new Error(`own Kafka not ready in 90 s:\n${readFileSync(log, 'utf8').slice(-3000)}`)
  }

  /** Stops the broker as an operator's restart does (SIGTERM, a clean shutdown) and waits for it. */
  async stop(): Promise<void> {
    const p = this.proc
    if (!p || p.exitCode !== null || p.signalCode !== null) return
    const exited = new Promise((r) => p.once('exit', r))
    p.kill('SIGTERM')
    const killer = setTimeout(() => p.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(killer)
  }

  async destroy(): Promise<void> {
    await this.stop()
    rmSync(this.dir, {recursive: true, force: true})
  }

  kafka(): Kafka {
    return new Kafka({brokers: [this.brokers], clientId: 'evtctl-tests', logLevel: logLevel.NOTHING})
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => resolve(port))
    })
  })
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = tcpConnect(port, '127.0.0.1')
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

const env = brokerEnv()

describe.skipIf(!env.KAFKA_LIBS)('kafka: a following tail rides out a broker restart (own broker)', () => {
  const own = new OwnKafka(env.KAFKA_LIBS!)
  const cli = sandboxEnv()
  const topic = 'restart'
  const url = () => `kafka://${own.brokers}/${topic}`
  let tail: Started | undefined

  beforeAll(async () => {
    await own.format()
    await own.start()
    const admin = own.kafka().admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic, numPartitions: 2}], waitForLeaders: true})
    await admin.disconnect()
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
