/**
 * Helpers of bench/lag-tui.sh, bundled by it with esbuild (so they run the same code as dist/):
 *   setup PREFIX GROUPS PARTITIONS   a topic PREFIX with PARTITIONS partitions, 40 messages each,
 *                                    and GROUPS groups PREFIX-g<i> committed at varied offsets
 *   produce TOPIC SECONDS            10 messages a second (so every frame has new numbers)
 *   reference URL INTERVAL_MS        the reference: the dashboard's own lines (screenLines) drawn
 *                                    with plain ANSI cursor moves, no Ink, no React
 *   polls URL N                      N polls of `lag` in-process: time and Kafka requests each
 *   cleanup PREFIX                   deletes what setup made: the groups PREFIX-g<i> and the topic
 */
import net from 'node:net'
import {Kafka, logLevel} from 'kafkajs'
import {createKafkaAdapter} from '../src/adapters/kafka/kafka-adapter.js'
import {parseTarget} from '../src/config/targets.js'
import {watchLag} from '../src/services/lag/lag.js'
import {LagTracker} from '../src/services/lag/view.js'
import {initialScreenState, screenLines} from '../src/ui/lag-screen.js'

const [mode, ...args] = process.argv.slice(2)
const brokers = process.env.KAFKA_BROKERS!
const kafka = () => new Kafka({brokers: [brokers], clientId: 'lag-bench', logLevel: logLevel.NOTHING})

async function setup(prefix: string, groups: number, partitions: number) {
  const admin = kafka().admin()
  await admin.connect()
  await admin.createTopics({topics: [{topic: prefix, numPartitions: partitions}], waitForLeaders: true})
  const p = kafka().producer()
  await p.connect()
  const now = Date.now()
  await p.send({
    topic: prefix,
    messages: Array.from({length: partitions * 40}, (_, i) => ({
      partition: i % partitions,
      value: `m${i}`,
      timestamp: String(now - 600_000 + i * 100),
    })),
  })
  await p.disconnect()
  for (let g = 0; g < groups; g++) {
    await admin.setOffsets({
      groupId: `${prefix}-g${g}`,
      topic: prefix,
      partitions: Array.from({length: partitions}, (_, partition) => ({
        partition,
        offset: String((g * 7 + partition) % 40),
      })),
    })
  }
  await admin.disconnect()
}

/**
 * The groups a run leaves behind make every later run's polls dearer (lag lists the cluster's
 * groups and fetches their offsets): a run deletes its own when it ends.
 */
async function cleanup(prefix: string) {
  const admin = kafka().admin()
  await admin.connect()
  const {groups} = await admin.listGroups()
  const mine = groups.map((g) => g.groupId).filter((g) => g.startsWith(`${prefix}-g`))
  if (mine.length > 0) await admin.deleteGroups(mine)
  const topics = await admin.listTopics()
  if (topics.includes(prefix)) await admin.deleteTopics({topics: [prefix]})
  await admin.disconnect()
}

async function produce(topic: string, seconds: number) {
  const p = kafka().producer()
  await p.connect()
  const end = Date.now() + seconds * 1000
  let i = 0
  while (Date.now() < end) {
    await p.send({topic, messages: [{value: `live${i++}`}]})
    await new Promise((r) => setTimeout(r, 100))
  }
  await p.disconnect()
}

async function reference(url: string, intervalMs: number) {
  const target = parseTarget(url)
  const adapter = createKafkaAdapter(target)
  const reader = adapter.lagReader(target, {})
  const ac = new AbortController()
  process.on('SIGTERM', () => ac.abort())
  const state = initialScreenState()
  process.stdout.write('\x1b[?1049h\x1b[?25l')
  for await (const frame of watchLag(reader, {intervalMs, signal: ac.signal})) {
    const size = {columns: process.stdout.columns || 80, rows: process.stdout.rows || 24}
    const {lines} = screenLines(frame, state, size, url, intervalMs, Date.now())
    process.stdout.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\x1b[J`)
  }
  process.stdout.write('\x1b[?25h\x1b[?1049l')
  await reader.close()
  await adapter.close()
}

/** Counts Kafka requests: each socket's outgoing bytes are framed (int32 size, int16 API key). */
function countRequests(): Map<string, number> {
  const NAMES: Record<number, string> = {
    0: 'Produce',
    1: 'Fetch',
    2: 'ListOffsets',
    3: 'Metadata',
    8: 'OffsetCommit',
    9: 'OffsetFetch',
    10: 'FindCoordinator',
    15: 'DescribeGroups',
    16: 'ListGroups',
    17: 'SaslHandshake',
    18: 'ApiVersions',
    36: 'SaslAuthenticate',
  }
  const counts = new Map<string, number>()
  const pending = new WeakMap<net.Socket, Buffer>()
  const write = net.Socket.prototype.write
  net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (Buffer.isBuffer(chunk) || chunk instanceof Uint8Array) {
      let buf = Buffer.concat([pending.get(this) ?? Buffer.alloc(0), Buffer.from(chunk as Uint8Array)])
      while (buf.length >= 6) {
        const size = buf.readInt32BE(0)
        if (buf.length < 4 + size) break
        const name = NAMES[buf.readInt16BE(4)] ?? `api${buf.readInt16BE(4)}`
        counts.set(name, (counts.get(name) ?? 0) + 1)
        buf = buf.subarray(4 + size)
      }
      pending.set(this, buf)
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
  } as typeof write
  return counts
}

async function polls(url: string, n: number) {
  const counts = countRequests()
  const target = parseTarget(url)
  const adapter = createKafkaAdapter(target)
  const reader = adapter.lagReader(target, {})
  const tracker = new LagTracker()
  for (let i = 1; i <= n; i++) {
    counts.clear()
    const t0 = performance.now()
    const view = tracker.update(await reader.poll(AbortSignal.timeout(60_000)))
    const ms = performance.now() - t0
    const total = [...counts.values()].reduce((a, b) => a + b, 0)
    const groups = 'groups' in view.doc ? view.doc.groups.length : 0
    const partitions =
      'groups' in view.doc
        ? view.doc.groups.reduce((a, g) => a + g.topics.reduce((b, t) => b + t.partitions.length, 0), 0)
        : 0
    const by = [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
    console.log(
      `poll ${i}: ${ms.toFixed(0)} ms, ${groups} groups, ${partitions} group-partitions, ${total} requests (${by})`,
    )
  }
  await reader.close()
  await adapter.close()
}

switch (mode) {
  case 'setup':
    await setup(args[0]!, Number(args[1]), Number(args[2]))
    break
  case 'produce':
    await produce(args[0]!, Number(args[1]))
    break
  case 'reference':
    await reference(args[0]!, Number(args[1]))
    break
  case 'polls':
    await polls(args[0]!, Number(args[1]))
    break
  case 'cleanup':
    await cleanup(args[0]!)
    break
  default:
    console.error('usage: see the comment at the top')
    process.exit(2)
}
