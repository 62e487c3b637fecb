import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {OAuth2Client} from 'google-auth-library'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {createCloudWatchPort} from '../../src/adapters/metrics/cloudwatch-client.js'
import {createMonitoringPort} from '../../src/adapters/metrics/monitoring-client.js'
import type {PubsubLagDoc, SqsLagDoc} from '../../src/services/lag/view.js'
import {brokerEnv} from '../brokers/env.js'
import {createTopic as createPubsubTopic, createSubscription, testPubsub} from '../brokers/pubsub.js'
import {createQueue, fill} from '../brokers/sqs.js'
import {NODE_FLAGS, run, sandboxEnv} from '../e2e/helpers.js'

/*
 * ElasticMQ and the Pub/Sub emulator have no metrics: `lag` and `dlq list` say so in plain words
 * and make no metrics request at all (so no credentials go anywhere). Two independent witnesses:
 * - a trap on loopback where a request would land: AWS_ENDPOINT_URL_CLOUDWATCH for CloudWatch
 *   (the SDK honours it), an HTTPS proxy for Cloud Monitoring (google-auth's requests honour it;
 *   NO_PROXY keeps the emulator direct). Each trap is shown to catch a real client first.
 * - a module hook: the metrics clients (and the CloudWatch SDK) are never even loaded.
 */

const env = brokerEnv()
const CLIENTS = /cloudwatch-client|monitoring-client|client-cloudwatch/

let trap: Server
let trapUrl = ''
const trapped: string[] = []
beforeAll(async () => {
  trap = createServer((req, res) => {
    trapped.push(`${req.method} ${req.url}`)
    res.writeHead(418)
    res.end()
  })
  // A proxy hears CONNECT host:443 for an HTTPS request.
  trap.on('connect', (req, socket) => {
    trapped.push(`CONNECT ${req.url}`)
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
  })
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r))
  trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`
})
afterAll(async () => {
  trap.closeAllConnections()
  await new Promise((r) => trap.close(r))
})

/** A module hook (for --import) that records every specifier matching CLIENTS in a fresh file. */
function recordingHook(): {register: string; log: string} {
  const log = join(mkdtempSync(join(tmpdir(), 'evtctl-metrics-')), 'loaded.txt')
  writeFileSync(log, '')
  const hooks = `data:text/javascript,${encodeURIComponent(
    `import {appendFileSync} from 'node:fs'; export async function resolve(s, c, next) { if (${CLIENTS}.test(s)) appendFileSync(${JSON.stringify(log)}, s + '\\n'); return next(s, c) }`,
  )}`
  return {
    register: `data:text/javascript,${encodeURIComponent(`import {register} from 'node:module'; register(${JSON.stringify(hooks)})`)}`,
    log,
  }
}

/** Runs the CLI with the recording hook; what it loaded and what the trap heard meanwhile. */
async function runRecording(args: string[], extraEnv: NodeJS.ProcessEnv) {
  const {register, log} = recordingHook()
  const before = trapped.length
  const r = await run(args, {
    env: {...sandboxEnv(), CI: '', ...extraEnv, NODE_OPTIONS: `--import ${register}`},
  })
  return {...r, loaded: readFileSync(log, 'utf8'), trapped: trapped.slice(before)}
}

describe('the traps catch a metrics request when one is made', () => {
  test('CloudWatch goes to AWS_ENDPOINT_URL_CLOUDWATCH; Cloud Monitoring through HTTPS_PROXY', async () => {
    const saved = {...process.env}
    try {
      process.env.AWS_ENDPOINT_URL_CLOUDWATCH = trapUrl
      const cw = await createCloudWatchPort({
        region: 'us-east-1',
        credentials: {accessKeyId: 'AKIDTEST', secretAccessKey: 'x'},
      })
      await cw
        .getMetricData(
          [
            {
              id: 'q0',
              namespace: 'AWS/SQS',
              metric: 'ApproximateAgeOfOldestMessage',
              dimension: {name: 'QueueName', value: 'q'},
              periodSeconds: 60,
              stat: 'Maximum',
            },
          ],
          {start: new Date(Date.now() - 60_000), end: new Date()},
          AbortSignal.timeout(5_000),
        )
        .catch(() => {})
      expect(trapped).toContain('POST /')

      process.env.HTTPS_PROXY = trapUrl
      const auth = new OAuth2Client()
      auth.setCredentials({access_token: 't', expiry_date: Date.now() + 3_600_000})
      const mon = await createMonitoringPort({project: 'p', authClient: auth})
      await mon
        .listTimeSeries(
          'x',
          {start: new Date(Date.now() - 60_000), end: new Date()},
          AbortSignal.timeout(5_000),
        )
        .catch(() => {})
      expect(trapped).toContain('CONNECT monitoring.googleapis.com:443')
    } finally {
      for (const k of ['AWS_ENDPOINT_URL_CLOUDWATCH', 'HTTPS_PROXY']) {
        if (saved[k] === undefined) delete process.env[k]
        else process.env[k] = saved[k]
      }
    }
  })

  test('the module hook sees the clients when they do load', async () => {
    const {register, log} = recordingHook()
    execFileSync(
      process.execPath,
      [
        ...NODE_FLAGS,
        '--import',
        register,
        '--input-type=module',
        '-e',
        "await import('@aws-sdk/client-cloudwatch')",
      ],
      {cwd: join(import.meta.dirname, '../..'), stdio: 'pipe'},
    )
    expect(readFileSync(log, 'utf8')).toContain('@aws-sdk/client-cloudwatch')
  })
})

describe.skipIf(!env.SQS_ENDPOINT)('lag on ElasticMQ: no CloudWatch', () => {
  test('the age is null, said plainly; no CloudWatch request, its client never loaded', async () => {
    const q = await createQueue('metrics-none')
    await fill(q.url, ['a', 'b'])
    const r = await runRecording(['lag', q.url, '--json'], {
      AWS_ENDPOINT_URL_SQS: env.SQS_ENDPOINT,
      AWS_ENDPOINT_URL_CLOUDWATCH: trapUrl,
      AWS_ACCESS_KEY_ID: 'AKIDNOTFORELASTICMQ',
      AWS_SECRET_ACCESS_KEY: 'x',
    })
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout.toString()) as SqsLagDoc
    expect(doc.queues[0]).toMatchObject({visible: 2, oldestAgeMs: null})
    expect(doc.queues[0]!.reasons?.oldestAgeMs).toBe(
      `${env.SQS_ENDPOINT} is not AWS and has no CloudWatch (ElasticMQ has none), so the age of the oldest message is unknown`,
    )
    expect(r.trapped).toEqual([])
    expect(r.loaded).toBe('')
  })
})

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)(
  'lag and dlq list on the Pub/Sub emulator: no Cloud Monitoring',
  () => {
    const project = env.PUBSUB_PROJECT_ID

    test('backlog, age and DLQ depth null with the plain reason; no request, no client loaded', async () => {
      const source = await createPubsubTopic('metrics-src')
      const dlt = await createPubsubTopic('metrics-dlt')
      const dltSub = await createSubscription(dlt, 'metrics-dlt-sub')
      const ps = testPubsub()
      const srcSub = `${source}-sub`
      await ps.topic(source).createSubscription(srcSub, {
        deadLetterPolicy: {deadLetterTopic: `projects/${project}/topics/${dlt}`, maxDeliveryAttempts: 5},
      })
      await ps.close()
      // google-auth (gaxios) takes HTTPS_PROXY: a Cloud Monitoring request would go to the trap.
      // grpc-js, the emulator's channel, reads only the lower-case names: left empty, so the
      // emulator is reached directly.
      const proxied = {
        PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST,
        HTTPS_PROXY: trapUrl,
        https_proxy: '',
        http_proxy: '',
        grpc_proxy: '',
        NO_PROXY: '',
        no_proxy: '',
      }

      const lag = await runRecording(
        ['lag', `pubsub://${project}/subscriptions/${srcSub}`, '--json'],
        proxied,
      )
      expect(lag.code, lag.stderr).toBe(0)
      const reason = 'the Pub/Sub emulator has no Cloud Monitoring, so no backlog numbers'
      expect((JSON.parse(lag.stdout.toString()) as PubsubLagDoc).subscriptions).toEqual([
        {
          subscription: srcSub,
          backlog: null,
          oldestUnackedAgeMs: null,
          status: `unknown — ${reason}`,
          reasons: {backlog: reason, oldestUnackedAgeMs: reason},
        },
      ])
      expect(lag.trapped).toEqual([])
      expect(lag.loaded).toBe('')

      const dlq = await runRecording(['dlq', 'list', `pubsub://${project}/topics/${dlt}`, '--json'], proxied)
      expect(dlq.code, dlq.stderr).toBe(0)
      const d = (JSON.parse(dlq.stdout.toString()) as {dlqs: Array<Record<string, unknown>>}).dlqs[0]!
      expect(d).toMatchObject({depth: null, depthExact: false})
      expect(d.depthNote).toBe(
        'Pub/Sub tells a backlog only through Cloud Monitoring (num_undelivered_messages), and the emulator has no metrics; --scan counts it when it reads to the end.',
      )
      expect(dltSub).toBeTruthy()
      expect(dlq.trapped).toEqual([])
      expect(dlq.loaded).toBe('')
    })
  },
)
