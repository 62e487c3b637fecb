import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, connect as tcpConnect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Kafka, logLevel} from 'kafkajs'
import {kafkaClusterId, kafkaLogging} from '../../scripts/brokers.mjs'

/**
 * A throw-away single-node Kafka (KRaft) of this test file's own, on its own ports and data dir,
 * so it can be stopped and started again without touching the shared harness broker that other
 * test files use. Started from the same jars as the harness (KAFKA_LIBS).
 */
export class OwnKafka {
  readonly dir = mkdtempSync(join(tmpdir(), 'evtctl-kafka-restart-'))
  port = 0
  private proc?: ChildProcess
  private logging = ''

  /** `libs`: KAFKA_LIBS; `version`: KAFKA_VERSION (its logging differs: log4j 1 before 4.x, Log4j2 after). */
  constructor(
    private readonly libs: string,
    private readonly version: string,
  ) {}

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
log.retention.ms=-1
`,
    )
    this.logging = kafkaLogging(join(this.dir, 'log4j'), {
      version: this.version,
      levels: {'org.apache.kafka': 'WARN'},
    })
    execFileSync(
      'java',
      [
        ...this.jvm(),
        'kafka.tools.StorageTool',
        'format',
        '-t',
        kafkaClusterId(),
        '-c',
        join(this.dir, 'server.properties'),
      ],
      {stdio: ['ignore', 'ignore', 'pipe']},
    )
  }

  private jvm(): string[] {
    return ['-Xmx384m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', this.logging, '-cp', `${this.libs}/*`]
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

  /** Freezes the broker process (SIGSTOP): its sockets stay open and nothing answers. */
  pause(): void {
    this.proc?.kill('SIGSTOP')
  }

  resume(): void {
    this.proc?.kill('SIGCONT')
  }

  async destroy(): Promise<void> {
    this.resume()
    await this.stop()
    rmSync(this.dir, {recursive: true, force: true})
  }

  kafka(): Kafka {
    return new Kafka({brokers: [this.brokers], clientId: 'evtctl-tests', logLevel: logLevel.NOTHING})
  }

  /** Formats and starts this broker, with `topic` made (the set-up of every test that uses one). */
  async startWithTopic(topic: string, numPartitions: number): Promise<void> {
    await this.format()
    await this.start()
    const admin = this.kafka().admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic, numPartitions}], waitForLeaders: true})
    await admin.disconnect()
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => resolve(port))
    })
  })
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = tcpConnect(port, '127.0.0.1')
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
}
