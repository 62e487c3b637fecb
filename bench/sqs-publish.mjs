#!/usr/bin/env node
// SQS publish, side by side in one run against ElasticMQ (npm run brokers -- up sqs):
// `evtctl publish` of N lines vs a plain pipelined SendMessageBatch loop on the SDK (batches of 10,
// 8 in flight). Target (issue "SQS adapter"): evtctl >= 0.8× the plain loop.
// Usage: npm run build && . .brokers/env && node bench/sqs-publish.mjs [count]
import {spawnSync} from 'node:child_process'
import {CreateQueueCommand, SendMessageBatchCommand, SQSClient} from '@aws-sdk/client-sqs'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const endpoint = process.env.SQS_ENDPOINT
if (!endpoint) throw new Error('SQS_ENDPOINT is not set: npm run brokers -- up sqs && . .brokers/env')
const count = Number(process.argv[2] ?? 10_000)
const sqs = new SQSClient({
  endpoint,
  region: 'us-east-1',
  credentials: {accessKeyId: 'x', secretAccessKey: 'x'},
})
const queue = async (name) =>
  (await sqs.send(new CreateQueueCommand({QueueName: `${name}-${Date.now()}`}))).QueueUrl
const bodies = Array.from({length: count}, (_, i) => `{"id":${i},"pad":"${'x'.repeat(150)}"}`)

const sdkQueue = await queue('bench-sdk')
let t0 = performance.now()
const inFlight = new Set()
for (let i = 0; i < count; i += 10) {
  const Entries = bodies.slice(i, i + 10).map((b, j) => ({Id: String(j), MessageBody: b}))
  const p = sqs
    .send(new SendMessageBatchCommand({QueueUrl: sdkQueue, Entries}))
    .finally(() => inFlight.delete(p))
  inFlight.add(p)
  if (inFlight.size >= 8) await Promise.race(inFlight)
}
await Promise.all(inFlight)
const sdkS = (performance.now() - t0) / 1000

const cliQueue = await queue('bench-evtctl')
t0 = performance.now()
const r = spawnSync(process.execPath, ['bin/run.js', 'publish', cliQueue], {
  input: `${bodies.join('\n')}\n`,
  encoding: 'utf8',
})
const cliS = (performance.now() - t0) / 1000
if (r.status !== 0) throw new Error(r.stderr)
console.log(
  `${count} messages: SDK loop ${sdkS.toFixed(2)} s, evtctl publish ${cliS.toFixed(2)} s (incl. start-up) → ${(sdkS / cliS).toFixed(2)}× the SDK loop`,
)
sqs.destroy()
