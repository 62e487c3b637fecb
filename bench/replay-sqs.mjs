#!/usr/bin/env node
// SQS DLQ → queue replay, side by side in one run against ElasticMQ (npm run brokers -- up sqs):
// `evtctl replay DLQ --to Q` (move, journaled) vs a plain pipelined mover written on the SDK
// (receive 10 → SendMessageBatch → DeleteMessageBatch, 8 batches in flight), and `--native`
// (StartMessageMoveTask) where the server has it. Target (issue "replay"): evtctl >= 0.8× the mover.
// Each side moves its own N messages (same bodies, two attributes each) from its own DLQ.
// Usage: npm run build && . .brokers/env && node bench/replay-sqs.mjs [count]   (default 10000)
import {spawnSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const endpoint = process.env.SQS_ENDPOINT
if (!endpoint) throw new Error('SQS_ENDPOINT is not set: npm run brokers -- up sqs && . .brokers/env')
const count = Number(process.argv[2] ?? 10_000)
const sqs = new SQSClient({
  endpoint,
  region: 'us-east-1',
  credentials: {accessKeyId: 'x', secretAccessKey: 'x'},
})
const stamp = Date.now()
const queue = async (name) =>
  (await sqs.send(new CreateQueueCommand({QueueName: `${name}-${stamp}`}))).QueueUrl
const depth = async (url) =>
  Number(
    (
      await sqs.send(
        new GetQueueAttributesCommand({QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages']}),
      )
    ).Attributes.ApproximateNumberOfMessages,
  )
const bodies = Array.from({length: count}, (_, i) => `{"id":${i},"pad":"${'x'.repeat(150)}"}`)
const attrs = {tenant: {DataType: 'String', StringValue: 't1'}, n: {DataType: 'Number', StringValue: '1'}}

async function fill(url) {
  const inFlight = new Set()
  for (let i = 0; i < count; i += 10) {
    const Entries = bodies
      .slice(i, i + 10)
      .map((b, j) => ({Id: String(j), MessageBody: b, MessageAttributes: attrs}))
    const p = sqs
      .send(new SendMessageBatchCommand({QueueUrl: url, Entries}))
      .finally(() => inFlight.delete(p))
    inFlight.add(p)
    if (inFlight.size >= 8) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
}

/** The reference: 8 workers, each receive 10 → send batch → delete what was sent. */
async function sdkMove(from, to) {
  let moved = 0
  let empties = 0
  const worker = async () => {
    while (empties < 3) {
      const r = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: from,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 30,
          MessageAttributeNames: ['All'],
        }),
      )
      const ms = r.Messages ?? []
      if (ms.length === 0) {
        empties++
        continue
      }
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: to,
          Entries: ms.map((m, i) => ({
            Id: String(i),
            MessageBody: m.Body,
            MessageAttributes: m.MessageAttributes,
          })),
        }),
      )
      const ok = new Set((sent.Successful ?? []).map((s) => s.Id))
      const del = ms
        .map((m, i) => ({Id: String(i), ReceiptHandle: m.ReceiptHandle}))
        .filter((e) => ok.has(e.Id))
      if (del.length) await sqs.send(new DeleteMessageBatchCommand({QueueUrl: from, Entries: del}))
      moved += del.length
    }
  }
  await Promise.all(Array.from({length: 8}, worker))
  return moved
}

const rows = []
async function measure(name, fn) {
  const [dlq, dest] = [await queue(`bench-${name}-dlq`), await queue(`bench-${name}-dest`)]
  await fill(dlq)
  const t0 = performance.now()
  const extra = await fn(dlq, dest)
  const s = (performance.now() - t0) / 1000
  const [left, arrived] = [await depth(dlq), await depth(dest)]
  rows.push({name, s, left, arrived, extra})
}

const cli = (args) => {
  const env = {...process.env, XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'bench-replay-'))}
  const r = spawnSync(process.execPath, ['bin/run.js', 'replay', ...args], {encoding: 'utf8', env})
  if (r.status !== 0) throw new Error(`evtctl replay exited ${r.status}: ${r.stderr}`)
  return r.stderr.trim().split('\n').at(-1)
}
await measure('sdk', sdkMove)
await measure('evtctl', (dlq, dest) => cli([dlq, '--to', dest, '--yes']))
if (process.argv.includes('--native'))
  await measure('native', (dlq, dest) => cli([dlq, '--to', dest, '--native', '--yes']))

const sdk = rows[0].s
for (const r of rows)
  console.log(
    `${r.name.padEnd(8)} ${r.s.toFixed(2)} s  ${Math.round(count / r.s)} msg/s  ${(sdk / r.s).toFixed(2)}× the SDK mover  (left in DLQ ${r.left}, at destination ${r.arrived})`,
  )
sqs.destroy()
