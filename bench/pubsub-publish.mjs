#!/usr/bin/env node
// Pub/Sub publish, side by side in one run against the emulator (npm run brokers -- up pubsub):
// `evtctl publish` of N small lines vs a plain @google-cloud/pubsub publisher with tuned batching
// (1,000 messages / 10 ms, all publishes in flight). Target (issue "Pub/Sub adapter"): ≥ 0.8×.
// Usage: npm run build && . .brokers/env && node bench/pubsub-publish.mjs [count]
import {spawnSync} from 'node:child_process'
import {PubSub} from '@google-cloud/pubsub'

process.env.METADATA_SERVER_DETECTION ??= 'none'
const host = process.env.PUBSUB_EMULATOR_HOST
if (!host) throw new Error('PUBSUB_EMULATOR_HOST is not set: npm run brokers -- up pubsub && . .brokers/env')
const project = process.env.PUBSUB_PROJECT_ID ?? 'evtctl-local'
const count = Number(process.argv[2] ?? 50_000)
const ps = new PubSub({projectId: project, apiEndpoint: host, emulatorMode: true})
const bodies = Array.from({length: count}, (_, i) => `{"id":${i},"kind":"bench"}`)

const [direct] = await ps.createTopic(`bench-direct-${Date.now()}`)
const tuned = ps.topic(direct.name, {batching: {maxMessages: 1000, maxMilliseconds: 10}})
let t0 = performance.now()
await Promise.all(bodies.map((b) => tuned.publishMessage({data: Buffer.from(b)})))
const directS = (performance.now() - t0) / 1000

// The same plain publisher as a program of its own (Node start-up and SDK load included), reading
// the same lines from stdin: the like-for-like comparison with a CLI.
const [direct2] = await ps.createTopic(`bench-direct2-${Date.now()}`)
const program = `
process.env.METADATA_SERVER_DETECTION = 'none'
const {PubSub} = require('@google-cloud/pubsub')
const lines = require('fs').readFileSync(0, 'utf8').split('\\n').filter(Boolean)
const ps = new PubSub({projectId: '${project}', apiEndpoint: '${host}', emulatorMode: true})
const t = ps.topic('${direct2.name}', {batching: {maxMessages: 1000, maxMilliseconds: 10}})
Promise.all(lines.map((l) => t.publishMessage({data: Buffer.from(l)}))).then(() => ps.close())`
t0 = performance.now()
const p = spawnSync(process.execPath, ['-e', program], {input: `${bodies.join('\n')}\n`, encoding: 'utf8'})
const programS = (performance.now() - t0) / 1000
if (p.status !== 0) throw new Error(p.stderr)

const [viaCli] = await ps.createTopic(`bench-evtctl-${Date.now()}`)
t0 = performance.now()
const r = spawnSync(
  process.execPath,
  ['bin/run.js', 'publish', `pubsub://${project}/topics/${viaCli.name.split('/').pop()}`],
  {
    input: `${bodies.join('\n')}\n`,
    encoding: 'utf8',
  },
)
const cliS = (performance.now() - t0) / 1000
if (r.status !== 0) throw new Error(r.stderr)
console.log(
  `${count} messages: client in-process ${directS.toFixed(2)} s; client as a program ${programS.toFixed(2)} s; evtctl publish ${cliS.toFixed(2)} s → ` +
    `${(programS / cliS).toFixed(2)}× the program, ${(directS / cliS).toFixed(2)}× the in-process client`,
)
await ps.close()
