import {spawn} from 'node:child_process'
import {resolve} from 'node:path'
import type {Consumer, Producer} from 'kafkajs'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {createKafkaAdapter} from '../../src/adapters/kafka/kafka-adapter.js'
import type {LagReader} from '../../src/adapters/lag-source.js'
import {parseTarget} from '../../src/config/targets.js'
import {NotFoundError} from '../../src/errors.js'
import {type KafkaLagDoc, LagTracker} from '../../src/services/lag/view.js'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic, testKafka} from '../brokers/kafka.js'
import {kafkaTool} from '../brokers/peers.js'

const env = brokerEnv()
const BIN = resolve(import.meta.dirname, '../../bin/run.js')

/** Rows of `kafka-consumer-groups --describe`: group → "topic/partition" → [current, end, lag]. */
function parseDescribe(text: string): Map<string, Map<string, [string, string, string]>> {
  const out = new Map<string, Map<string, [string, string, string]>>()
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 6 || f[0] === 'GROUP' || !/^\d+$/.test(f[2]!)) continue
    const g = out.get(f[0]!) ?? new Map()
    out.set(f[0]!, g)
    g.set(`${f[1]}/${f[2]}`, [f[3]!, f[4]!, f[5]!])
  }
  return out
}

/** `--describe --state`: group → [state, members]. */
function parseState(text: string): Map<string, [string, number]> {
  const out = new Map<string, [string, number]>()
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+\S+\s+\(\d+\)\s+(\S*)\s+(\S+)\s+(\d+)\s*$/.exec(line.trim())
    if (m && m[1] !== 'GROUP') out.set(m[1]!, [m[3]!, Number(m[4])])
  }
  return out
}

function run(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: {...process.env, CI: ''}})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b) => {
      stdout += b
    })
    child.stderr.on('data', (b) => {
      stderr += b
    })
    child.on('error', rej)
    child.on('close', (code) => res({code, stdout, stderr}))
  })
}

const until = async (what: string, ok: () => Promise<boolean> | boolean, ms = 30_000) => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await ok()) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe.skipIf(!env.KAFKA_BROKERS)('evtctl lag on Kafka, against kafka-consumer-groups', () => {
  const kafka = testKafka()
  let topic = ''
  const live = uniqueName('lag-live')
  const stopped = uniqueName('lag-stopped')
  const never = uniqueName('lag-never')
  let producer: Producer
  let liveConsumer: Consumer
  let neverConsumer: Consumer
  let liveSeen = 0
  // Timestamps written: the first batch ten minutes old, the second five.
  const t1 = Date.now() - 10 * 60_000
  const t2 = Date.now() - 5 * 60_000
  let reader: LagReader
  let close: () => Promise<void>

  const send = (n: number, ts: number) =>
    producer.send({
      topic,
      messages: Array.from({length: n}, (_, i) => ({
        partition: i % 3,
        value: `m${i}`,
        timestamp: String(ts + i),
      })),
    })

  beforeAll(async () => {
    topic = await createTopic('lag-orders', 3)
    producer = kafka.producer()
    await producer.connect()
    await send(30, t1)
    // `stopped` reads the first batch, commits and leaves.
    const s = kafka.consumer({groupId: stopped})
    await s.connect()
    await s.subscribe({topics: [topic], fromBeginning: true})
    let seen = 0
    await s.run({
      autoCommitInterval: 100,
      eachMessage: async () => {
        seen++
      },
    })
    await until('the stopped group to read the first batch', () => seen >= 30)
    await s.disconnect() // commits what it read on the way out
    // `never` joins and reads without ever committing.
    neverConsumer = kafka.consumer({groupId: never})
    await neverConsumer.connect()
    await neverConsumer.subscribe({topics: [topic], fromBeginning: true})
    await neverConsumer.run({autoCommit: false, eachMessage: async () => {}})
    // `live` keeps reading and committing.
    liveConsumer = kafka.consumer({groupId: live})
    await liveConsumer.connect()
    await liveConsumer.subscribe({topics: [topic], fromBeginning: true})
    await liveConsumer.run({
      autoCommitInterval: 100,
      eachMessage: async () => {
        liveSeen++
      },
    })
    await send(12, t2)
    await until('the live group to read both batches', () => liveSeen >= 42)
    const url = `kafka://${env.KAFKA_BROKERS}/${topic}`
    const adapter = createKafkaAdapter(parseTarget(url))
    reader = adapter.lagReader(parseTarget(url), {})
    close = async () => {
      await reader.close()
      await adapter.close()
    }
    // The live group's last commit is in (autoCommitInterval), and the never group is assigned.
    await until('commits and assignments to settle', async () => {
      const doc = new LagTracker().update(await reader.poll(AbortSignal.timeout(10_000))).doc as KafkaLagDoc
      const g = (id: string) => doc.groups.find((x) => x.group === id)
      return g(live)?.lag === 0 && (g(never)?.members ?? 0) === 1
    })
  })

  afterAll(async () => {
    await close?.()
    await liveConsumer?.disconnect()
    await neverConsumer?.disconnect()
    await producer?.disconnect()
  })

  test('offsets, lag, state and members equal kafka-consumer-groups --describe; time lag is the written timestamp', async () => {
    const poll = new LagTracker().update(await reader.poll(AbortSignal.timeout(10_000))).doc as KafkaLagDoc
    const groups = ['--group', live, '--group', stopped, '--group', never]
    const [describe, state] = await Promise.all([
      kafkaTool('ConsumerGroupCommand', ['--bootstrap-server', env.KAFKA_BROKERS!, '--describe', ...groups]),
      kafkaTool('ConsumerGroupCommand', [
        '--bootstrap-server',
        env.KAFKA_BROKERS!,
        '--describe',
        '--state',
        ...groups,
      ]),
    ])
    expect(describe.code, describe.stderr).toBe(0)
    const theirs = parseDescribe(describe.stdout)
    const theirState = parseState(state.stdout)
    for (const id of [live, stopped, never]) {
      const ours = poll.groups.find((g) => g.group === id)
      expect(ours, `${id} in our view`).toBeDefined()
      const rows = theirs.get(id)
      expect(rows, `${id} in kafka-consumer-groups`).toBeDefined()
      const t = ours!.topics.find((x) => x.topic === topic)!
      for (const p of t.partitions) {
        const row = rows!.get(`${topic}/${p.partition}`)
        expect(row, `${id} ${p.partition}`).toBeDefined()
        const [current, end, lag] = row!
        expect(p.committed ?? '-', `${id} p${p.partition} committed`).toBe(current)
        expect(p.end, `${id} p${p.partition} end`).toBe(end)
        expect(p.lag === null ? '-' : String(p.lag), `${id} p${p.partition} lag`).toBe(lag)
      }
      const [st, members] = theirState.get(id)!
      expect(ours!.state?.toLowerCase().replace(/_/g, ''), `${id} state`).toBe(st.toLowerCase())
      expect(ours!.members, `${id} members`).toBe(members)
    }
    const byId = (id: string) => poll.groups.find((g) => g.group === id)!
    // stopped: 30 of 42 read; the oldest unread is the first of the second batch (t2 + 0..2).
    expect(byId(stopped).lag).toBe(12)
    const at = Date.parse(poll.at)
    for (const p of byId(stopped).topics[0]!.partitions) expect(p.timeLagMs).toBe(at - (t2 + p.partition))
    expect(byId(stopped).timeLagMs).toBe(at - t2)
    expect(byId(live)).toMatchObject({lag: 0, timeLagMs: 0, status: 'ok', members: 1})
    expect(byId(stopped)).toMatchObject({members: 0, status: 'stopped — no members'})
    expect(byId(never)).toMatchObject({lag: null, timeLagMs: null, status: 'never committed', members: 1})
    expect(byId(never).reasons?.lag).toBe('never committed')
  })

  test('statuses follow the groups over several polls: falling behind, stalled, rewound', async () => {
    const tracker = new LagTracker({stallMs: 4_000, windowMs: 10_000})
    const statusOf = async (id: string) => {
      const doc = tracker.update(await reader.poll(AbortSignal.timeout(10_000))).doc as KafkaLagDoc
      return doc.groups.find((g) => g.group === id)!
    }
    expect((await statusOf(live)).status).toBe('ok')
    // The live group stops fetching (so stops committing) while messages keep coming.
    liveConsumer.pause([{topic}])
    const seen: string[] = []
    for (let i = 0; i < 8; i++) {
      await send(6, Date.now())
      await new Promise((r) => setTimeout(r, 800))
      seen.push((await statusOf(live)).status)
    }
    expect(seen).toContain('falling behind')
    expect(seen.at(-1)).toMatch(/^stalled — no commits for \d+ s while lag grows$/)
    liveConsumer.resume([{topic}])

    // A group with no members can be moved back: the next poll says so.
    const admin = kafka.admin()
    await admin.connect()
    await admin.setOffsets({groupId: stopped, topic, partitions: [{partition: 0, offset: '1'}]})
    await admin.disconnect()
    expect((await statusOf(stopped)).status).toBe('rewound')
  })

  test('the command: --json is one document of the issue shape; a table without a terminal; exit 5 for a missing group', async () => {
    const url = `kafka://${env.KAFKA_BROKERS}/${topic}`
    const json = await run(['lag', url, '--json'])
    expect(json.code, json.stderr).toBe(0)
    const doc = JSON.parse(json.stdout) as KafkaLagDoc
    expect(Object.keys(doc).sort()).toEqual(['at', 'groups'])
    const g = doc.groups.find((x) => x.group === stopped)!
    for (const k of ['group', 'state', 'members', 'lag', 'timeLagMs', 'status', 'topics'])
      expect(g, k).toHaveProperty(k)
    for (const k of ['topic', 'lag', 'partitions']) expect(g.topics[0], k).toHaveProperty(k)
    expect(Object.keys(g.topics[0]!.partitions[0]!).sort()).toEqual(
      ['committed', 'end', 'lag', 'partition', 'timeLagMs'].sort(),
    )
    const table = await run(['lag', url, '--group', never])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^GROUP\s+TOPIC\s+LAG\s+TIME LAG\s+MEMBERS\s+STATUS/)
    expect(table.stdout).toContain('never committed')
    expect(table.stderr).toContain('? lag: never committed')
    const missing = await run(['lag', url, '--group', uniqueName('nobody')])
    expect(missing.code).toBe(5)
    expect(missing.stderr).toContain('does not exist')
  })

  test('a missing topic is exit 5 (NotFoundError), nothing created', async () => {
    const url = `kafka://${env.KAFKA_BROKERS}/${uniqueName('lag-none')}`
    const adapter = createKafkaAdapter(parseTarget(url))
    const r = adapter.lagReader(parseTarget(url), {})
    await expect(r.poll(AbortSignal.timeout(10_000))).rejects.toBeInstanceOf(NotFoundError)
    await r.close()
    await adapter.close()
  })
})
