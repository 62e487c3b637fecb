#!/usr/bin/env node
// Decoding cost, side by side in one run: tail N registry-framed Avro messages from the beginning
// to /dev/null as JSONL, decoded (--registry) vs undecoded, and how many requests the registry got.
// Targets (issue #16): decoded ≤ 2× the undecoded time; ≤ 1 registry request per schema id.
// The timed decoded runs pass --no-schema-cache (each fetches its schema, as before the on-disk
// cache); two more runs with the cache (in a fresh $XDG_CACHE_HOME) count its requests: 1, then 0.
// Usage: npm run build && npm run brokers -- up kafka registry && node bench/decode.mjs [count]
// (RUNS=n runs of each, default 3; KAFKA_BROKERS and SCHEMA_REGISTRY_URL from .brokers/env or the environment)
import {fork, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer, request} from 'node:http'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import avsc from 'avsc'
import {Kafka, logLevel} from 'kafkajs'

if (process.argv[2] === '--proxy') {
  // A counting proxy in front of the registry, in its own process (the runs below block the parent).
  let requests = 0
  const target = new URL(process.argv[3])
  const proxy = createServer((req, res) => {
    requests++
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname.replace(/\/$/, '') + req.url,
        method: req.method,
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
      },
    )
    req.pipe(up)
  })
  proxy.listen(0, '127.0.0.1', () => process.send({port: proxy.address().port}))
  process.on('message', () => process.send({requests}))
} else await main()

async function main() {
  const root = resolve(import.meta.dirname, '..')
  const fileEnv = (() => {
    try {
      const state = process.env.EVTCTL_BROKER_STATE
        ? resolve(root, process.env.EVTCTL_BROKER_STATE)
        : join(root, '.brokers')
      return Object.fromEntries(
        readFileSync(join(state, 'env'), 'utf8')
          .split('\n')
          .map((l) => /^export (\w+)=(.*)$/.exec(l))
          .filter(Boolean)
          .map((m) => [m[1], m[2]]),
      )
    } catch {
      return {}
    }
  })()
  const brokers = process.env.KAFKA_BROKERS ?? fileEnv.KAFKA_BROKERS
  const registry = process.env.SCHEMA_REGISTRY_URL ?? fileEnv.SCHEMA_REGISTRY_URL
  if (!brokers || !registry) {
    console.error('start Kafka and the registry first: npm run brokers -- up kafka registry')
    process.exit(2)
  }
  const count = Number(process.argv[2] ?? 200_000)
  const runs = Number(process.env.RUNS ?? 3)
  const topic = `bench-decode-${Date.now()}`

  const schema = {
    type: 'record',
    name: 'Order',
    namespace: 'bench',
    fields: [
      {name: 'id', type: 'long'},
      {name: 'customer', type: 'string'},
      {name: 'total', type: 'double'},
      {name: 'status', type: {type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED']}},
      {name: 'note', type: ['null', 'string'], default: null},
      {name: 'items', type: {type: 'array', items: 'string'}},
    ],
  }
  const res = await fetch(`${registry}/subjects/${topic}-value/versions`, {
    method: 'POST',
    headers: {'content-type': 'application/vnd.schemaregistry.v1+json'},
    body: JSON.stringify({schema: JSON.stringify(schema)}),
  })
  const {id} = await res.json()
  const type = avsc.Type.forSchema(schema)
  const kafka = new Kafka({brokers: [brokers], logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic, numPartitions: 3}], waitForLeaders: true})
  const producer = kafka.producer({allowAutoTopicCreation: false})
  await producer.connect()
  const head = Buffer.from([0, 0, 0, 0, 0])
  head.writeUInt32BE(id, 1)
  for (let i = 0; i < count; i += 5000) {
    const messages = []
    for (let j = i; j < Math.min(count, i + 5000); j++) {
      const value = type.toBuffer({
        id: j,
        customer: `customer-${j % 977}`,
        total: (j % 1000) / 10,
        status: ['NEW', 'PAID', 'SHIPPED'][j % 3],
        note: j % 4 === 0 ? 'gift wrap please' : null,
        items: ['sku-1', `sku-${j % 50}`],
      })
      messages.push({key: `k${j}`, value: Buffer.concat([head, value])})
    }
    await producer.send({topic, messages, acks: 1})
  }
  await producer.disconnect()

  const bin = join(root, 'bin', 'run.js')
  const url = `kafka://${brokers}/${topic}`
  const cacheHome = mkdtempSync(join(tmpdir(), 'evtctl-bench-cache-'))
  function time(extra) {
    const t0 = performance.now()
    const r = spawnSync(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${bin}" tail "${url}" --from beginning --until end -o jsonl ${extra} > /dev/null`,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
        env: {...process.env, XDG_CACHE_HOME: cacheHome},
      },
    )
    if (r.status !== 0) throw new Error(`tail failed (${r.status}): ${r.stderr}`)
    return (performance.now() - t0) / 1000
  }
  const child = fork(fileURLToPath(import.meta.url), ['--proxy', registry], {stdio: 'inherit'})
  const port = await new Promise((r) => child.on('message', (m) => r(m.port)))
  const childUrl = `http://127.0.0.1:${port}`
  const plain = []
  const decoded = []
  time('') // warm-up
  for (let i = 0; i < runs; i++) {
    plain.push(time(''))
    decoded.push(time(`--registry ${childUrl} --no-schema-cache`))
  }
  const counter = () => {
    child.send('count')
    return new Promise((r) => child.once('message', (m) => r(m.requests)))
  }
  const counted = await counter()
  time(`--registry ${childUrl}`)
  const firstCached = (await counter()) - counted
  time(`--registry ${childUrl}`)
  const secondCached = (await counter()) - counted - firstCached
  child.kill()
  rmSync(cacheHome, {recursive: true, force: true})
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
  const p = mean(plain)
  const d = mean(decoded)
  console.log(
    `== tail ${count} Avro messages (3 partitions) to /dev/null as JSONL, mean of ${runs} runs each`,
  )
  console.log(`  undecoded            ${p.toFixed(2)} s  (${plain.map((x) => x.toFixed(2)).join(', ')})`)
  console.log(
    `  decoded (--registry) ${d.toFixed(2)} s  (${decoded.map((x) => x.toFixed(2)).join(', ')})  ${(d / p).toFixed(2)}× undecoded`,
  )
  console.log(
    `  registry requests: ${counted} in ${runs} decoded runs, 1 schema id: ${(counted / runs).toFixed(1)} per run`,
  )
  console.log(
    `  with the on-disk schema cache: ${firstCached} request(s) in a first run, ${secondCached} in the next`,
  )
  await admin.deleteTopics({topics: [topic]})
  await admin.disconnect()
}
