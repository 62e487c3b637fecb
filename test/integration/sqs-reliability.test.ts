import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {CreateQueueCommand, SQSClient} from '@aws-sdk/client-sqs'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {loggingProxy} from '../brokers/proxy.js'
import {counts, createQueue, fill} from '../brokers/sqs.js'
import {lines, run, sandboxEnv, start} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = sandboxEnv()
/** Issue #18.4: every SQS call is bounded; "~10 s", with room for a loaded machine. */
const BOUND_MS = 13_000

/** A server that accepts connections and never answers. */
async function silentServer(): Promise<{server: Server; port: number; close(): void}> {
  const sockets: Socket[] = []
  const server = createServer((s) => {
    sockets.push(s)
    s.on('error', () => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as {port: number}).port
  return {
    server,
    port,
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

async function timed<T>(p: Promise<T>): Promise<{value: T; ms: number}> {
  const t0 = Date.now()
  const value = await p
  return {value, ms: Date.now() - t0}
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('sqs: a server that accepts and never answers (#18.4)', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>
  beforeAll(async () => {
    silent = await silentServer()
  })
  afterAll(() => silent.close())

  test('tail --until end exits 4 within the bound, naming the endpoint', async () => {
    const {value: r, ms} = await timed(
      run(['tail', `http://127.0.0.1:${silent.port}/000000000000/q`, '--until', 'end'], {env: cli}),
    )
    expect(r.code, r.stderr).toBe(4)
    expect(ms).toBeLessThan(BOUND_MS)
    expect(r.stderr).toMatch(new RegExp(`Cannot reach http://127\\.0\\.0\\.1:${silent.port}.*no answer`, 's'))
  })

  test('publish exits 4 within the bound', async () => {
    const {value: r, ms} = await timed(
      run(['publish', `http://127.0.0.1:${silent.port}/000000000000/q`, 'v'], {env: cli}),
    )
    expect(r.code, r.stderr).toBe(4)
    expect(ms).toBeLessThan(BOUND_MS)
  })

  test('SIGTERM while tail and publish wait for an answer ends them at once with 130', async () => {
    for (const args of [
      ['tail', `http://127.0.0.1:${silent.port}/000000000000/q`, '--until', 'end'],
      ['publish', `http://127.0.0.1:${silent.port}/000000000000/q`, 'v'],
    ]) {
      const p = start(args, cli)
      await new Promise((r) => setTimeout(r, 1_500)) // started, and waiting on the socket
      const t0 = Date.now()
      p.child.kill('SIGTERM')
      const code = await p.done
      expect(code, `${args[0]}: ${p.err()}`).toBe(130)
      expect(Date.now() - t0, args[0]).toBeLessThan(2_500)
    }
  })
})

/** A throwaway ElasticMQ of this test's own (the shared one is never stopped). */
async function ownElasticMq(): Promise<{endpoint: string; child: ChildProcess; stop(): void}> {
  const dir = mkdtempSync(join(tmpdir(), 'evtctl-elasticmq-'))
  const port = await new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as {port: number}).port
      s.close(() => r(p))
    })
  })
  writeFileSync(
    join(dir, 'elasticmq.conf'),
    `include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = ${port}, context-path = "" }
rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
generate-node-address = false
aws { region = us-east-1, accountId = 000000000000 }
`,
  )
  const libs = resolve(import.meta.dirname, '../../.cache/brokers/elasticmq-1.7.1/libs')
  const child = spawn(
    'java',
    [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      `-Dconfig.file=${join(dir, 'elasticmq.conf')}`,
      '-cp',
      `${libs}/*`,
      'org.elasticmq.server.Main',
    ],
    {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']},
  )
  let log = ''
  child.stdout!.on('data', (b) => {
    log += b
  })
  child.stderr!.on('data', (b) => {
    log += b
  })
  const stop = () => {
    child.kill('SIGCONT')
    child.kill('SIGKILL')
  }
  try {
    await waitFor(() => /ElasticMQ server \(.*\) started/.test(log) || child.exitCode !== null, 90_000)
  } catch (err) {
    stop()
    throw err
  }
  if (child.exitCode !== null) throw new Error(`ElasticMQ did not start:\n${log}`)
  return {endpoint: `http://127.0.0.1:${port}`, child, stop}
}

describe.skipIf(!env.SQS_ENDPOINT)('sqs: a broker that freezes mid-tail (kill -STOP) (#18.4)', () => {
  let mq: Awaited<ReturnType<typeof ownElasticMq>>
  let sqs: SQSClient
  beforeAll(async () => {
    mq = await ownElasticMq()
    sqs = new SQSClient({
      endpoint: mq.endpoint,
      region: 'us-east-1',
      credentials: {accessKeyId: 'x', secretAccessKey: 'x'},
    })
  })
  afterAll(() => {
    sqs?.destroy()
    mq?.stop()
  })

  async function queueWith(n: number): Promise<string> {
    const {QueueUrl} = await sqs.send(new CreateQueueCommand({QueueName: uniqueName('frozen')}))
    const c = new SQSClient({
      endpoint: mq.endpoint,
      region: 'us-east-1',
      credentials: {accessKeyId: 'x', secretAccessKey: 'x'},
    })
    try {
      const {SendMessageBatchCommand} = await import('@aws-sdk/client-sqs')
      for (let i = 0; i < n; i += 10)
        await c.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: Array.from({length: Math.min(10, n - i)}, (_, j) => ({
              Id: String(j),
              MessageBody: `m${i + j}`,
            })),
          }),
        )
    } finally {
      c.destroy()
    }
    return QueueUrl!
  }

  test('a publish exits 4 within the bound once the broker stops answering, saying what was sent', async () => {
    const url = await queueWith(0)
    const dir = mkdtempSync(join(tmpdir(), 'evtctl-frozen-'))
    const file = join(dir, 'many.txt')
    writeFileSync(file, `${Array.from({length: 2000}, (_, i) => `m${i}`).join('\n')}\n`)
    const p = start(['publish', url, '--file', file, '--rate', '40'], cli)
    let stoppedAt = 0
    try {
      await new Promise((r) => setTimeout(r, 2_500))
      process.kill(mq.child.pid!, 'SIGSTOP')
      stoppedAt = Date.now()
      const code = await p.done
      expect(code, p.err()).toBe(4)
      expect(Date.now() - stoppedAt).toBeLessThan(BOUND_MS)
      const m =
        /Publishing stopped: (\d+) message\(s\) published.*nothing after message (\d+) was sent/s.exec(
          p.err(),
        )
      expect(m, p.err()).not.toBeNull()
      expect(p.err()).not.toMatch(/MaxListenersExceededWarning/)
      process.kill(mq.child.pid!, 'SIGCONT')
      const {GetQueueAttributesCommand} = await import('@aws-sdk/client-sqs')
      const a = await sqs.send(
        new GetQueueAttributesCommand({QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages']}),
      )
      const atBroker = Number(a.Attributes!.ApproximateNumberOfMessages)
      expect(atBroker).toBeGreaterThanOrEqual(Number(m![1]))
      expect(atBroker).toBeLessThanOrEqual(Number(m![2]))
      expect(Number(m![2])).toBeLessThan(2000)
    } finally {
      process.kill(mq.child.pid!, 'SIGCONT')
      p.child.kill('SIGKILL')
    }
  })

  test('a follow exits 4 within the bound once the broker stops answering', async () => {
    const url = await queueWith(3)
    const p = start(['tail', url, '-o', 'raw', '--hold', '5s'], cli)
    try {
      await waitFor(() => lines(Buffer.from(p.out())).length >= 3, 20_000)
      process.kill(mq.child.pid!, 'SIGSTOP')
      const t0 = Date.now()
      const code = await p.done
      expect(code, p.err()).toBe(4)
      expect(Date.now() - t0).toBeLessThan(BOUND_MS)
      expect(p.err()).toMatch(/Cannot reach .*no answer/s)
    } finally {
      process.kill(mq.child.pid!, 'SIGCONT')
      p.child.kill('SIGKILL')
    }
  })

  test('Ctrl-C on a follow of a frozen broker exits 130 after a bounded release', async () => {
    const url = await queueWith(3)
    const p = start(['tail', url, '-o', 'raw', '--hold', '5s'], cli)
    try {
      await waitFor(() => lines(Buffer.from(p.out())).length >= 3, 20_000)
      process.kill(mq.child.pid!, 'SIGSTOP')
      await new Promise((r) => setTimeout(r, 500))
      const t0 = Date.now()
      p.child.kill('SIGINT')
      const code = await p.done
      expect(code, p.err()).toBe(130)
      // The poll under way gets its normal length (≤ 2 s) plus a second, the release ≤ 3 s.
      expect(Date.now() - t0).toBeLessThan(7_500)
      expect(p.err()).toMatch(/3 could not be released and reappear after 5s/)
    } finally {
      process.kill(mq.child.pid!, 'SIGCONT')
      p.child.kill('SIGKILL')
    }
  })
})

describe.skipIf(!env.SQS_ENDPOINT)('sqs: batches within the total size limit (#18.9)', () => {
  test('ten 200 KiB messages, each valid, all arrive (batches split by bytes, not only by count)', async () => {
    const q = await createQueue('big')
    const dir = mkdtempSync(join(tmpdir(), 'evtctl-big-'))
    const file = join(dir, 'big.txt')
    writeFileSync(file, `${Array.from({length: 10}, (_, i) => `${i}`.padEnd(200 * 1024, 'x')).join('\n')}\n`)
    const r = await run(['publish', q.url, '--file', file], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/Published 10 message/)
    expect(await counts(q.url)).toEqual({visible: 10, inFlight: 0})
    const t = await run(['tail', q.url, '--until', 'end', '-o', 'raw'], {env: cli})
    expect(t.code, t.stderr).toBe(0)
    expect(lines(t.stdout).map((l) => l.length)).toEqual(Array(10).fill(200 * 1024))
  })
})

describe.skipIf(!env.SQS_ENDPOINT)(
  'sqs: AWS credentials never go to a host nobody configured (#18.1)',
  () => {
    const leaky = {
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLELEAK1234',
      AWS_SECRET_ACCESS_KEY: 'leaky-secret',
      AWS_SESSION_TOKEN: 'leaky-token',
    }
    const sqsPort = Number(new URL(env.SQS_ENDPOINT ?? 'http://x:1').port)

    test('a loopback queue URL gets placeholder credentials, not the environment’s', async () => {
      const q = await createQueue('leak')
      await fill(q.url, ['one'])
      const proxy = await loggingProxy(sqsPort)
      try {
        const url = q.url.replace(/:\d+\//, `:${proxy.port}/`)
        const e: NodeJS.ProcessEnv = {...cli, ...leaky}
        delete e.AWS_ENDPOINT_URL_SQS
        delete e.AWS_ENDPOINT_URL
        const r = await run(['tail', url, '--until', 'end', '-o', 'raw'], {env: e})
        expect(r.code, r.stderr).toBe(0)
        expect(lines(r.stdout)).toEqual(['one'])
        const sent = proxy.sent()
        expect(sent).toMatch(/Authorization: AWS4-HMAC-SHA256 Credential=/i)
        expect(sent).not.toContain('AKIAEXAMPLELEAK1234')
        expect(sent).not.toContain('leaky-token')
      } finally {
        proxy.close()
      }
    })

    test('the same loopback host, configured with AWS_ENDPOINT_URL_SQS, gets the environment’s credentials', async () => {
      const q = await createQueue('configured')
      const proxy = await loggingProxy(sqsPort)
      try {
        const endpoint = `http://127.0.0.1:${proxy.port}`
        const url = q.url.replace(/^http:\/\/[^/]+/, endpoint)
        const r = await run(['tail', url, '--until', 'end'], {
          env: {...cli, ...leaky, AWS_ENDPOINT_URL_SQS: endpoint},
        })
        expect(r.code, r.stderr).toBe(0)
        expect(proxy.sent()).toContain('Credential=AKIAEXAMPLELEAK1234/')
      } finally {
        proxy.close()
      }
    })

    test('a queue URL on another non-AWS host is refused with exit 3, nothing sent, naming how to configure it', async () => {
      const r = await run(['tail', 'http://sqs.example.test:9324/000000000000/q', '--until', 'end'], {
        env: {...cli, ...leaky},
      })
      expect(r.code, r.stderr).toBe(3)
      expect(r.stderr).toMatch(/sqs\.example\.test/)
      expect(r.stderr).toMatch(/Try: .*--endpoint.*AWS_ENDPOINT_URL_SQS/s)
      expect(r.stderr).not.toContain('AKIAEXAMPLELEAK1234')
    })
  },
)
