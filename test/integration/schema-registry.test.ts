import {mkdtempSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {createServer, request as httpRequest} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {SendMessageBatchCommand} from '@aws-sdk/client-sqs'
import avsc from 'avsc'
import protobuf from 'protobufjs'
import {beforeAll, describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic as createKafkaTopic, testKafka} from '../brokers/kafka.js'
import {createTopic as createPubsubTopic, createSubscription, testPubsub} from '../brokers/pubsub.js'
import {createQueue, testSqs} from '../brokers/sqs.js'
import {lines, run, sandboxEnv} from '../e2e/helpers.js'

/**
 * Decoding against a real schema registry (Apicurio, Confluent API). The data is written by an
 * independent producer: schemas registered through the registry's own HTTP API, values encoded
 * with avsc and protobufjs directly and framed here by hand — none of evtctl's codec code.
 */
const env = brokerEnv()
const cli = sandboxEnv()
const REGISTRY = env.SCHEMA_REGISTRY_URL

const AVRO = {
  type: 'record',
  name: 'Order',
  namespace: 'acme',
  fields: [
    {name: 'id', type: 'long'},
    {name: 'total', type: 'double'},
    {name: 'note', type: ['null', 'string'], default: null},
  ],
}
const PROTO = `syntax = "proto3";
package acme.v1;
message Header { string trace = 1; }
message Order {
  int64 id = 1;
  message Line { string sku = 1; int32 qty = 2; }
  repeated Line lines = 2;
}
`
const JSON_SCHEMA = {
  type: 'object',
  properties: {id: {type: 'integer'}, name: {type: 'string'}},
  required: ['id'],
}

async function register(subject: string, body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${REGISTRY}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: {'content-type': 'application/vnd.schemaregistry.v1+json'},
    body: JSON.stringify(body),
  })
  expect(res.status, await res.clone().text()).toBe(200)
  return ((await res.json()) as {id: number}).id
}

/** Confluent framing, written out here: magic 0, big-endian id, (Protobuf indexes), data. */
function frame(id: number, data: Uint8Array, indexes: number[] = []): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(id, 1)
  return Buffer.concat([head, Buffer.from(indexes), Buffer.from(data)])
}

interface Sample {
  bytes: Buffer
  schema: Record<string, unknown>
  decoded: unknown
}
let samples: Sample[] = []
let avroId = 0
let unknownId = 0

beforeAll(async () => {
  if (!REGISTRY) return
  const prefix = uniqueName('orders')
  avroId = await register(`${prefix}-avro-value`, {schema: JSON.stringify(AVRO)})
  const protoId = await register(`${prefix}-proto-value`, {schemaType: 'PROTOBUF', schema: PROTO})
  const jsonId = await register(`${prefix}-json-value`, {
    schemaType: 'JSON',
    schema: JSON.stringify(JSON_SCHEMA),
  })
  unknownId = Math.max(avroId, protoId, jsonId) + 100_000
  const avroType = avsc.Type.forSchema(AVRO as avsc.Schema)
  const Line = protobuf.parse(PROTO).root.lookupType('acme.v1.Order.Line')
  samples = [
    {
      bytes: frame(avroId, avroType.toBuffer({id: 17, total: 42.5, note: 'gift'})),
      schema: {id: avroId, type: 'AVRO'},
      decoded: {id: 17, total: 42.5, note: {string: 'gift'}},
    },
    {
      // Order.Line: message index path [1, 0] = count 2, then 1 and 0, as zig-zag varints.
      bytes: frame(protoId, Line.encode({sku: 'k-1', qty: 3}).finish(), [4, 2, 0]),
      schema: {id: protoId, type: 'PROTOBUF', message: 'acme.v1.Order.Line'},
      decoded: {sku: 'k-1', qty: 3},
    },
    {
      bytes: frame(jsonId, Buffer.from('{"id":5,"name":"n"}')),
      schema: {id: jsonId, type: 'JSON'},
      decoded: {id: 5, name: 'n'},
    },
  ]
})

/** Truncated Avro, and a schema id the registry does not have. */
const broken = () => [frame(avroId, Buffer.from([0x22])), frame(unknownId, Buffer.from([1, 2, 3]))]

function checkDecoded(out: Buffer): void {
  const envs = lines(out).map((l) => JSON.parse(l))
  expect(envs).toHaveLength(samples.length + 2)
  const byBytes = new Map(envs.map((e) => [bytesOf(e.value).toString('hex'), e]))
  for (const s of samples) {
    const e = byBytes.get(s.bytes.toString('hex'))
    expect(e, `no envelope holds ${s.bytes.toString('hex')}`).toBeDefined()
    expect(e.schema).toEqual(s.schema)
    expect(e.decoded).toEqual(s.decoded)
    expect(e.decodeError).toBeUndefined()
  }
  const [truncated, unknown] = broken().map((b) => byBytes.get(b.toString('hex')))
  expect(truncated.decodeError).toBe('Avro: truncated data')
  expect(unknown.decodeError).toMatch(new RegExp(`schema id ${unknownId}: .*has no schema id ${unknownId}`))
  expect(unknown.decoded).toBeUndefined()
}

/** The bytes of an envelope payload (what it stores, exactly). */
function bytesOf(p: {base64?: string; utf8?: string; json?: unknown}): Buffer {
  if (p.base64 !== undefined) return Buffer.from(p.base64, 'base64')
  if (p.utf8 !== undefined) {
    // SQS: framed data travels as base64 text.
    return /^A[A-P]/.test(p.utf8) ? Buffer.from(p.utf8, 'base64') : Buffer.from(p.utf8, 'utf8')
  }
  return Buffer.from(JSON.stringify(p.json))
}

describe.skipIf(!REGISTRY)('schema registry: decoding what another producer wrote', () => {
  test.skipIf(!env.KAFKA_BROKERS)(
    'Kafka: Avro, Protobuf (nested message) and JSON Schema decoded; failures raw with decodeError; a capture replays byte-exact',
    async () => {
      const topic = await createKafkaTopic('sr-kafka')
      const producer = testKafka().producer({allowAutoTopicCreation: false})
      await producer.connect()
      const all = [...samples.map((s) => s.bytes), ...broken()]
      await producer.send({topic, messages: all.map((value, i) => ({key: `k${i}`, value}))})
      await producer.disconnect()
      const url = `kafka://${env.KAFKA_BROKERS}/${topic}`
      const args = ['tail', url, '--from', 'beginning', '--until', 'end', '--registry', REGISTRY!]
      const r = await run([...args, '-o', 'jsonl'], {env: cli})
      expect(r.code, r.stderr).toBe(0)
      checkDecoded(r.stdout)
      expect(r.stderr).toMatch(/2 of 5 message\(s\) could not be decoded/)

      expect((await run([...args, '--strict-decode', '-o', 'jsonl'], {env: cli})).code).toBe(7)
      const where = await run(
        [
          ...args,
          '--where',
          'value.total > 40 and schema.type = "AVRO"',
          '--format',
          '{key} {value.id} {value.note.string}',
        ],
        {
          env: cli,
        },
      )
      expect(where.stdout.toString()).toBe('k0 17 gift\n')
      const pretty = await run([...args, '-o', 'pretty', '--max', '1'], {env: cli})
      expect(pretty.stdout.toString()).toContain(`avro id=${avroId}`)
      expect(pretty.stdout.toString()).toContain('"total": 42.5')

      // The decoded capture goes back byte-exact, with the same schema ids.
      const dir = mkdtempSync(join(tmpdir(), 'evtctl-sr-'))
      const capture = join(dir, 'capture.jsonl')
      writeFileSync(capture, r.stdout)
      const copy = await createKafkaTopic('sr-copy')
      const pub = await run(
        ['publish', `kafka://${env.KAFKA_BROKERS}/${copy}`, '--input', 'jsonl', '--file', capture],
        {env: cli},
      )
      expect(pub.code, pub.stderr).toBe(0)
      expect((await consumeRaw(copy, all.length)).map((b) => b.toString('hex')).sort()).toEqual(
        all.map((b) => b.toString('hex')).sort(),
      )
    },
  )

  test.skipIf(!env.SQS_ENDPOINT)('SQS: framed data as base64 bodies, decoded', async () => {
    const q = await createQueue('sr-sqs')
    const sqs = testSqs()
    try {
      const all = [...samples.map((s) => s.bytes), ...broken()]
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: q.url,
          Entries: all.map((b, i) => ({Id: String(i), MessageBody: b.toString('base64')})),
        }),
      )
    } finally {
      sqs.destroy()
    }
    const r = await run(['tail', q.url, '--until', 'end', '--registry', REGISTRY!, '-o', 'jsonl'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    checkDecoded(r.stdout)
  })

  test.skipIf(!env.PUBSUB_EMULATOR_HOST)('Pub/Sub: binary data, decoded', async () => {
    // Retention: the emulator replays a subscription's snapshot (a peek) only from retained messages.
    const topic = await createPubsubTopic('sr-pubsub', 600)
    const sub = await createSubscription(topic)
    const ps = testPubsub()
    try {
      for (const b of [...samples.map((s) => s.bytes), ...broken()])
        await ps.topic(topic).publishMessage({data: b})
    } finally {
      await ps.close()
    }
    const url = `pubsub://${env.PUBSUB_PROJECT_ID}/subscriptions/${sub}`
    const r = await run(['tail', url, '--until', 'end', '--registry', REGISTRY!, '-o', 'jsonl'], {
      env: {...cli, PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST},
    })
    expect(r.code, r.stderr).toBe(0)
    checkDecoded(r.stdout)
  })

  test.skipIf(!env.KAFKA_BROKERS)(
    'a registry that is down: every message printed raw with decodeError, a warning, exit 7 only with --strict-decode',
    async () => {
      const topic = await createKafkaTopic('sr-down')
      const producer = testKafka().producer({allowAutoTopicCreation: false})
      await producer.connect()
      await producer.send({topic, messages: samples.map((s) => ({value: s.bytes}))})
      await producer.disconnect()
      const args = [
        'tail',
        `kafka://${env.KAFKA_BROKERS}/${topic}`,
        '--from',
        'beginning',
        '--until',
        'end',
        '--registry',
        'http://127.0.0.1:9/apis/ccompat/v7',
        '-o',
        'jsonl',
      ]
      const r = await run(args, {env: cli})
      expect(r.code, r.stderr).toBe(0)
      const envs = lines(r.stdout).map((l) => JSON.parse(l))
      expect(envs).toHaveLength(3)
      for (const e of envs) expect(e.decodeError).toMatch(/did not answer/)
      expect(r.stderr).toMatch(/3 of 3 message\(s\) could not be decoded/)
      expect((await run([...args, '--strict-decode'], {env: cli})).code).toBe(7)
    },
  )
})

describe.skipIf(!REGISTRY || !env.KAFKA_BROKERS)('schema registry: the on-disk schema cache', () => {
  test('a second run asks the registry nothing; --no-schema-cache asks again; a damaged file is fetched again', async () => {
    // Counted as the benchmark counts them: a proxy in front of the registry.
    let requests = 0
    const target = new URL(REGISTRY!)
    const proxy = createServer((req, res) => {
      requests++
      const up = httpRequest(
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
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    try {
      const topic = await createKafkaTopic('sr-cache')
      const producer = testKafka().producer({allowAutoTopicCreation: false})
      await producer.connect()
      await producer.send({topic, messages: samples.map((s, i) => ({key: `k${i}`, value: s.bytes}))})
      await producer.disconnect()
      const via = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
      const sandbox = sandboxEnv()
      const tail = async (...extra: string[]) => {
        requests = 0
        const r = await run(
          ['tail', `kafka://${env.KAFKA_BROKERS}/${topic}`, '--from', 'beginning', '--until', 'end'].concat([
            '--registry',
            via,
            '-o',
            'jsonl',
            ...extra,
          ]),
          {env: sandbox},
        )
        expect(r.code, r.stderr).toBe(0)
        const envs = lines(r.stdout).map((l) => JSON.parse(l))
        expect(envs.map((e) => e.decoded)).toEqual(samples.map((s) => s.decoded))
        return requests
      }
      // Three schema ids: one request each, then none.
      expect(await tail()).toBe(3)
      expect(await tail()).toBe(0)
      expect(await tail('--no-schema-cache')).toBe(3)
      const dir = join(sandbox.XDG_CACHE_HOME!, 'evtctl', 'schemas')
      const files = readdirSync(dir)
      expect(files).toHaveLength(3)
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      for (const f of files) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
      writeFileSync(join(dir, files[0]!), '{"format":1,"registry":')
      expect(await tail()).toBe(1)
      expect(await tail()).toBe(0)
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()))
    }
  })
})

describe.skipIf(!REGISTRY || !env.KAFKA_BROKERS)(
  'schema registry: publish --encode, read back by another client',
  () => {
    test('Avro and Protobuf (nested message) framed with the registry id; a value that does not fit is exit 2 naming line and field, nothing sent', async () => {
      const prefix = uniqueName('enc')
      const avroSubject = `${prefix}-avro-value`
      const protoSubject = `${prefix}-proto-value`
      const aId = await register(avroSubject, {schema: JSON.stringify(AVRO)})
      const pId = await register(protoSubject, {schemaType: 'PROTOBUF', schema: PROTO})
      const topic = await createKafkaTopic('sr-encode')
      const url = `kafka://${env.KAFKA_BROKERS}/${topic}`
      const bad = await run(
        ['publish', url, '--encode', 'avro', '--subject', avroSubject, '--registry', REGISTRY!],
        {env: cli, input: '{"id":1,"total":2,"note":null}\n{"id":2,"total":"much","note":null}\n'},
      )
      expect(bad.code).toBe(2)
      expect(bad.stderr).toMatch(/Line 2 does not fit .*field "total": expected double/)
      const avroOut = await run(
        ['publish', url, '--encode', 'avro', '--subject', avroSubject, '--registry', REGISTRY!],
        {env: cli, input: '{"id":1,"total":2.5,"note":{"string":"a"}}\n'},
      )
      expect(avroOut.code, avroOut.stderr).toBe(0)
      const protoOut = await run(
        [
          'publish',
          url,
          '{"sku":"s-9","qty":4}',
          '--encode',
          'protobuf',
          '--subject',
          protoSubject,
          '--value-type',
          'acme.v1.Order.Line',
          '--registry',
          REGISTRY!,
        ],
        {env: cli},
      )
      expect(protoOut.code, protoOut.stderr).toBe(0)
      // Exactly two messages: the rejected input sent nothing.
      const [a, p] = await consumeRaw(topic, 2)
      // Read as another client would: the frame by hand, the schema from the registry's API.
      expect(a![0]).toBe(0)
      expect(a!.readUInt32BE(1)).toBe(aId)
      const fetched = (await (await fetch(`${REGISTRY}/schemas/ids/${aId}`)).json()) as {schema: string}
      const theirs = avsc.Type.forSchema(JSON.parse(fetched.schema))
      expect(theirs.fromBuffer(a!.subarray(5))).toEqual({id: 1, total: 2.5, note: 'a'})
      expect(p!.readUInt32BE(1)).toBe(pId)
      expect([...p!.subarray(5, 8)]).toEqual([4, 2, 0]) // message indexes [1, 0]: Order.Line
      const Line = protobuf.parse(PROTO).root.lookupType('acme.v1.Order.Line')
      expect(Line.toObject(Line.decode(p!.subarray(8)))).toEqual({sku: 's-9', qty: 4})
    })
  },
)

async function consumeRaw(topic: string, n: number): Promise<Buffer[]> {
  const consumer = testKafka().consumer({groupId: uniqueName('sr-check'), allowAutoTopicCreation: false})
  await consumer.connect()
  try {
    await consumer.subscribe({topic, fromBeginning: true})
    const got: Buffer[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} messages arrived`)), 30_000)
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({message}) => {
            got.push(message.value!)
            if (got.length === n) {
              clearTimeout(timer)
              resolve()
            }
          },
        })
        .catch(reject)
    })
    return got
  } finally {
    await consumer.disconnect()
  }
}
