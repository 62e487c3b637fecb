import {mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {createKafkaAdapter, TAIL_GROUP_PREFIX} from '../../src/adapters/kafka/kafka-adapter.js'
import {parseTarget} from '../../src/config/targets.js'
import {zlibZstd} from '../../src/util/zstd.js'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic, listTopics, testKafka} from '../brokers/kafka.js'
import {kafkaTool, kcat, kcatProduce} from '../brokers/peers.js'
import {BIN, lines, run, sandboxEnv, start} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = sandboxEnv()

/** Bytes of partition 0's log segments in the harness broker's data directory (beside its tls/). */
function segmentBytes(topic: string): number {
  const dir = join(dirname(env.KAFKA_TLS_DIR!), 'data', `${topic}-0`)
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0)
}

interface KcatRecord {
  partition: number
  offset: number
  tstype: string
  ts: number
  key: string | null
  payload: string | null
  headers?: string[]
}

async function kcatDump(topic: string): Promise<KcatRecord[]> {
  const r = await kcat(['-b', env.KAFKA_BROKERS!, '-C', '-t', topic, '-J', '-e', '-q'])
  expect(r.code, r.stderr).toBe(0)
  return lines(Buffer.from(r.stdout))
    .map((l) => JSON.parse(l) as KcatRecord)
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}

/** kcat's -J view of an envelope, to compare field by field. */
function asKcat(e: {
  partition: number
  offset: string
  timestamp: string
  timestampType: string
  key: unknown
  value: unknown
  headers?: Array<[string, unknown]>
}): KcatRecord {
  const text = (p: unknown): string | null => {
    if (p === null || p === undefined) return null
    const o = p as {utf8?: string; json?: unknown; base64?: string}
    if (o.utf8 !== undefined) return o.utf8
    if (o.json !== undefined) return JSON.stringify(o.json)
    return Buffer.from(o.base64!, 'base64').toString('latin1')
  }
  return {
    partition: e.partition,
    offset: Number(e.offset),
    tstype: e.timestampType,
    ts: Date.parse(e.timestamp),
    key: text(e.key),
    payload: text(e.value),
    ...(e.headers ? {headers: e.headers.flatMap(([k, v]) => [k, text(v) ?? ''])} : {}),
  }
}

/** Throw-away tail groups that outlived their tail (Empty); running tails of parallel tests are Stable. */
async function leftoverTailGroups(
  admin: ReturnType<ReturnType<typeof testKafka>['admin']>,
  groups: string[],
) {
  const ours = groups.filter((g) => g.startsWith(TAIL_GROUP_PREFIX))
  if (ours.length === 0) return []
  const {groups: described} = await admin.describeGroups(ours)
  return described.filter((g) => g.state === 'Empty').map((g) => g.groupId)
}

describe.skipIf(!env.KAFKA_BROKERS)('kafka: tail and publish against a real broker', () => {
  const url = (topic: string) => `kafka://${env.KAFKA_BROKERS}/${topic}`

  test('what kcat produced (keys, headers, binary and null values) is what tail -o jsonl shows, and a capture replays identically', async () => {
    const topic = await createTopic('kcat-src', 2)
    const produced = await kcatProduce(
      env.KAFKA_BROKERS!,
      topic,
      // Interleaved repeats: tail must show them in wire order, as kcat -J does.
      {partition: 0, keyDelimiter: ':', emptyIsNull: true, headers: ['dup=1', 'trace-id=abc', 'dup=2']},
      'k1:{"id":1}\nk2:\nk3:plain text\n',
    )
    expect(produced.code, produced.stderr).toBe(0)
    const bin = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a, 0x80])
    mkdirSync(cli.XDG_DATA_HOME!, {recursive: true})
    const binFile = join(cli.XDG_DATA_HOME!, `bin-${topic}`)
    writeFileSync(binFile, bin)
    const producedBin = await kcatProduce(env.KAFKA_BROKERS!, topic, {
      partition: 1,
      key: 'bin-key',
      file: binFile,
    })
    expect(producedBin.code, producedBin.stderr).toBe(0)

    const tail = await run(['tail', url(topic), '--from', 'beginning', '--until', 'end', '-o', 'jsonl'], {
      env: cli,
    })
    expect(tail.code, tail.stderr).toBe(0)
    const envs = lines(tail.stdout).map((l) => JSON.parse(l))
    expect(envs).toHaveLength(4)
    const ours = envs.map(asKcat).sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    const theirs = (await kcatDump(topic)).map(({partition, offset, tstype, ts, key, payload, headers}) => ({
      partition,
      offset,
      tstype,
      ts,
      key,
      payload,
      ...(headers ? {headers} : {}),
    }))
    // kcat -J prints non-UTF-8 bytes raw; compare the binary record by bytes below instead.
    expect(ours.filter((r) => r.partition === 0)).toEqual(theirs.filter((r) => r.partition === 0))
    expect(envs.find((e) => e.partition === 0 && e.key.utf8 === 'k2').value).toBeNull()
    const binEnv = envs.find((e) => e.partition === 1)
    expect(Buffer.from(binEnv.value.base64, 'base64')).toEqual(bin)
    expect(binEnv.key).toEqual({utf8: 'bin-key'})

    // Replay the capture into a new topic, partition by partition.
    const copy = await createTopic('kcat-copy', 2)
    const pub = await run(['publish', url(copy), '--input', 'jsonl', '--keep-partitions'], {
      env: cli,
      input: tail.stdout,
    })
    expect(pub.code, pub.stderr).toBe(0)
    const strip = ({partition, key, payload, headers}: KcatRecord) => ({partition, key, payload, headers})
    expect((await kcatDump(copy)).map(strip)).toEqual((await kcatDump(topic)).map(strip))
    const rawCopy = await kcat([
      '-b',
      env.KAFKA_BROKERS!,
      '-C',
      '-t',
      copy,
      '-p',
      '1',
      '-e',
      '-q',
      '-f',
      '%s',
    ])
    expect(rawCopy.stdoutBytes).toEqual(bin)
    const viaTail = await run(
      ['tail', url(copy), '--from', 'beginning', '--until', 'end', '--partition', '1', '-o', 'raw'],
      {env: cli},
    )
    expect(viaTail.stdout).toEqual(Buffer.concat([bin, Buffer.from('\n')]))
  })

  test('keyed messages land where the Java client puts them (murmur2)', async () => {
    const topic = await createTopic('murmur', 6)
    const keys = Array.from({length: 30}, (_, i) => `key-${i}`)
    const pub = await run(['publish', url(topic), '--input', 'jsonl'], {
      env: cli,
      input: keys.map((k) => JSON.stringify({v: 1, key: {utf8: k}, value: {utf8: k}})).join('\n'),
    })
    expect(pub.code, pub.stderr).toBe(0)
    // The Java ConsoleProducer with parse.key uses the Java default partitioner; compare placements.
    const javaTopic = await createTopic('murmur-java', 6)
    const jp = await kafkaTool(
      'ConsoleProducer',
      [
        '--bootstrap-server',
        env.KAFKA_BROKERS!,
        '--topic',
        javaTopic,
        '--property',
        'parse.key=true',
        '--property',
        'key.separator=:',
      ],
      `${keys.map((k) => `${k}:${k}`).join('\n')}\n`,
    )
    expect(jp.code, jp.stderr).toBe(0)
    const placement = async (t: string) =>
      Object.fromEntries((await kcatDump(t)).map((r) => [r.key, r.partition]))
    expect(await placement(topic)).toEqual(await placement(javaTopic))
  }, 60_000)

  test('keyless messages spread over every partition, and single-message publishes do not all land on partition 0', async () => {
    const topic = await createTopic('rr', 3)
    const seq = Array.from({length: 1200}, (_, i) => `${i + 1}\n`).join('')
    const pub = await run(['publish', url(topic)], {env: cli, input: seq})
    expect(pub.code, pub.stderr).toBe(0)
    const perPartition = (records: KcatRecord[]) =>
      [0, 1, 2].map((p) => records.filter((r) => r.partition === p).length)
    const counts = perPartition(await kcatDump(topic))
    expect(counts.reduce((a, b) => a + b)).toBe(1200)
    // Round-robin: each of the three partitions holds a third (400), give or take.
    for (const c of counts) expect(c).toBeGreaterThanOrEqual(300)

    const single = await createTopic('rr-single', 3)
    for (let i = 0; i < 10; i++) {
      const r = await run(['publish', url(single), `m${i}`], {env: cli})
      expect(r.code, r.stderr).toBe(0)
    }
    // Each run starts at a random partition: all 10 on one partition would be a 1-in-3^9 chance.
    const used = perPartition(await kcatDump(single)).filter((c) => c > 0)
    expect(used.length).toBeGreaterThan(1)
  }, 60_000)

  test('tail joins no consumer group: none appears while it follows, none holds offsets after', async () => {
    const topic = await createTopic('nocommit', 3)
    await run(['publish', url(topic)], {env: cli, input: 'a\nb\nc\n'})
    const admin = testKafka().admin()
    await admin.connect()
    try {
      const before = new Set((await admin.listGroups()).groups.map((g) => g.groupId))
      // A following tail (no --until), looked at while it runs.
      const tail = start(['tail', url(topic), '--from', 'beginning', '-o', 'raw'], cli)
      for (let i = 0; i < 100 && tail.out().split('\n').length <= 3; i++)
        await new Promise((r) => setTimeout(r, 100))
      const during = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => !before.has(g))
      tail.child.kill('SIGINT')
      expect(await tail.done).toBe(130)
      expect(tail.out().split('\n').filter(Boolean).sort()).toEqual(['a', 'b', 'c'])
      expect(during).toEqual([])
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId)
      expect(groups.filter((g) => !before.has(g))).toEqual([])
      for (const g of groups) {
        const offsets = await admin.fetchOffsets({groupId: g, topics: [topic]})
        expect(offsets[0]?.partitions.every((p) => p.offset === '-1') ?? true).toBe(true)
      }
    } finally {
      await admin.disconnect()
    }
  })

  test('an unknown topic is exit 5 and is not created, even where the broker auto-creates topics', async () => {
    const topic = uniqueName('absent')
    const t = await run(['tail', url(topic), '--until', 'end'], {env: cli})
    expect(t.code).toBe(5)
    expect(t.stderr).toMatch(new RegExp(`Topic "${topic}" does not exist`))
    const p = await run(['publish', url(topic), 'x'], {env: cli})
    expect(p.code).toBe(5)
    expect(await listTopics()).not.toContain(topic)
  })

  test('a malformed Kafka URL is exit 2, and credentials in one are refused without echoing the password', async () => {
    const host = env.KAFKA_BROKERS!
    for (const [args, shown] of [
      [['tail', `kafka://alice:s3cret@${host}/t`, '--until', 'end'], `kafka://alice:***@${host}/t`],
      [['tail', `kafka://alice:s3cret@${host}/t`, '--debug'], `kafka://alice:***@${host}/t`],
      [['publish', `kafka://alice:s3/cr@t@${host}/t`, 'x'], `kafka://alice:***@${host}/t`],
      [['tail', 'kafka://h:notaport/t', '--until', 'end'], 'Bootstrap server "h:notaport"'],
      [['publish', 'kafka://127.0.0.1/t', 'x'], 'Bootstrap server "127.0.0.1"'],
    ] as const) {
      const r = await run([...args], {env: cli})
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toContain(shown)
      expect(r.stderr).not.toMatch(/s3cret|s3\/cr@t/)
      expect(r.stdout.toString()).toBe('')
    }
  })

  describe('an unreachable broker is exit 4 within the time-out, naming the address', () => {
    let silent: Server
    let port = 0
    const sockets = new Set<Socket>()
    beforeAll(async () => {
      // Accepts connections and never answers: the connection time-out must fire.
      silent = createServer((s) => {
        sockets.add(s)
        s.on('error', () => {})
      })
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
      port = (silent.address() as {port: number}).port
    })
    afterAll(async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => silent.close(() => r()))
    })

    test.each([
      ['refused', () => 'kafka://127.0.0.1:1/orders'],
      ['silent', () => `kafka://127.0.0.1:${port}/orders`],
    ])(
      '%s',
      async (_, target) => {
        const t0 = Date.now()
        const r = await run(['tail', target(), '--until', 'end'], {env: cli})
        expect(r.code).toBe(4)
        expect(r.stderr).toContain(`Cannot reach Kafka at ${target().slice(8, target().lastIndexOf('/'))}`)
        expect(Date.now() - t0).toBeLessThan(25_000)
      },
      30_000,
    )
  })

  test('start positions: -N per partition, an offset, a time; --partition; --max; --until <time> windows', async () => {
    const topic = await createTopic('positions', 2)
    const base = Date.parse('2026-01-01T00:00:00Z')
    const input = Array.from({length: 10}, (_, i) =>
      JSON.stringify({
        v: 1,
        partition: i % 2,
        timestamp: new Date(base + i * 60_000).toISOString(),
        value: {json: {i}},
      }),
    ).join('\n')
    expect(
      (await run(['publish', url(topic), '--input', 'jsonl', '--keep-partitions'], {env: cli, input})).code,
    ).toBe(0)
    const past = () => new Date(Date.now() - 60_000).toISOString()
    const ids = async (...args: string[]) => {
      const until = args.includes('--until') ? [] : ['--until', 'end']
      const r = await run(['tail', url(topic), ...until, '--format', '{value.i}', ...args], {env: cli})
      expect(r.code, r.stderr).toBe(0)
      return lines(r.stdout)
        .map(Number)
        .sort((a, b) => a - b)
    }
    expect(await ids('--from', 'beginning')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(await ids('--from', '-2')).toEqual([6, 7, 8, 9]) // last 2 of each partition
    expect(await ids('--from', '3', '--partition', '0')).toEqual([6, 8])
    expect(await ids('--from', '2026-01-01T00:05:30Z')).toEqual([6, 7, 8, 9])
    expect(await ids('--from', 'beginning', '--partition', '1')).toEqual([1, 3, 5, 7, 9])
    expect(await ids('--from', 'beginning', '--partition', '1', '--max', '2')).toEqual([1, 3])
    expect(await ids('--from', 'end')).toEqual([])
    // A window in the past ends by itself: at the first later message, or at the partition's end.
    expect(await ids('--from', 'beginning', '--until', '2026-01-01T00:04:30Z')).toEqual([0, 1, 2, 3, 4])
    // --until is exclusive: a message stamped exactly at the until time belongs to the next window,
    // so consecutive windows neither miss nor double-count one at the boundary.
    expect(await ids('--from', '2026-01-01T00:02:00Z', '--until', '2026-01-01T00:06:00Z')).toEqual([
      2, 3, 4, 5,
    ])
    const windows = [
      await ids('--from', 'beginning', '--until', '2026-01-01T00:03:00Z'),
      await ids('--from', '2026-01-01T00:03:00Z', '--until', '2026-01-01T00:07:00Z'),
      await ids('--from', '2026-01-01T00:07:00Z', '--until', past()),
    ]
    expect(windows).toEqual([
      [0, 1, 2],
      [3, 4, 5, 6],
      [7, 8, 9],
    ])
    expect(await ids('--from', 'beginning', '--until', past())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    // A time to come: follows until then, then ends.
    const soon = new Date(Date.now() + 2_000).toISOString()
    expect(await ids('--from', '-1', '--until', soon)).toEqual([8, 9])
    const bad = await run(['tail', url(topic), '--partition', '7', '--until', 'end'], {env: cli})
    expect(bad.code).toBe(5)
    expect(bad.stderr).toMatch(/no partition 7/)
  })

  test('several topics in one tail (kafka://host/a,b): each envelope names its own topic', async () => {
    const a = await createTopic('multi-a')
    const b = await createTopic('multi-b')
    for (const t of [a, b]) {
      const r = await run(['publish', url(t)], {env: cli, input: `${t}-1\n${t}-2\n`})
      expect(r.code, r.stderr).toBe(0)
    }
    const r = await run(
      [
        'tail',
        `kafka://${env.KAFKA_BROKERS}/${a},${b}`,
        '--from',
        'beginning',
        '--until',
        'end',
        '-o',
        'jsonl',
      ],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    const seen = lines(r.stdout).map((l) => JSON.parse(l) as {source: string; value: {utf8: string}})
    expect(seen.map((e) => [e.source, e.value.utf8]).sort()).toEqual([
      [url(a), `${a}-1`],
      [url(a), `${a}-2`],
      [url(b), `${b}-1`],
      [url(b), `${b}-2`],
    ])
  })

  test('a topic that starts with ^ is a pattern: tail reads every topic it matches; none matching is exit 5; publish refuses it', async () => {
    const stem = uniqueName('rx').replace(/[^A-Za-z0-9]/g, '')
    const a = await createTopic(`${stem}-a`)
    const b = await createTopic(`${stem}-b`)
    const other = await createTopic(`x${stem}-c`)
    for (const t of [a, b, other]) {
      const r = await run(['publish', url(t)], {env: cli, input: `${t}\n`})
      expect(r.code, r.stderr).toBe(0)
    }
    const pattern = `^${stem}-.*`
    const r = await run(['tail', url(pattern), '--from', 'beginning', '--until', 'end', '-o', 'jsonl'], {
      env: cli,
    })
    expect(r.code, r.stderr).toBe(0)
    const seen = lines(r.stdout).map((l) => JSON.parse(l) as {source: string; value: {utf8: string}})
    expect(seen.map((e) => [e.source, e.value.utf8]).sort()).toEqual([
      [url(a), a],
      [url(b), b],
    ])
    const none = await run(['tail', url(`^${stem}-nothing`), '--until', 'end'], {env: cli})
    expect(none.code).toBe(5)
    expect(none.stderr).toMatch(/No topic .* matches/)
    const pub = await run(['publish', url(pattern), 'x'], {env: cli})
    expect(pub.code).toBe(2)
  })

  test('--until end terminates over transaction markers and aborted messages (offset gaps)', async () => {
    const topic = await createTopic('txn', 1)
    const kafka = testKafka()
    const producer = kafka.producer({
      transactionalId: uniqueName('txn'),
      idempotent: true,
      maxInFlightRequests: 1,
    })
    await producer.connect()
    try {
      const committed = await producer.transaction()
      await committed.send({topic, messages: [{value: 'c1'}, {value: 'c2'}]})
      await committed.commit()
      const aborted = await producer.transaction()
      await aborted.send({topic, messages: [{value: 'aborted'}]})
      await aborted.abort()
    } finally {
      await producer.disconnect()
    }
    const t0 = Date.now()
    const r = await run(['tail', url(topic), '--from', 'beginning', '--until', 'end', '-o', 'raw'], {
      env: cli,
    })
    expect(r.code, r.stderr).toBe(0)
    expect(lines(r.stdout)).toEqual(['c1', 'c2'])
    expect(Date.now() - t0).toBeLessThan(15_000)
  })

  test('headers keep their wire order, repeats and null values, both ways (kcat sees them as sent; tail as kcat sent them)', async () => {
    const topic = await createTopic('headers', 1)
    const input = JSON.stringify({
      v: 1,
      headers: [
        ['a', {utf8: '1'}],
        ['b', {utf8: '2'}],
        ['a', {utf8: '3'}],
        ['n', null],
      ],
      value: {utf8: 'v'},
    })
    const r = await run(['publish', url(topic), '--input', 'jsonl'], {env: cli, input})
    expect(r.code, r.stderr).toBe(0)
    const [rec] = await kcatDump(topic)
    expect(rec!.headers).toEqual(['a', '1', 'b', '2', 'a', '3', 'n', null])
    // And tail reads them back exactly so: interleaved repeats, null value, in wire order.
    const t = await run(['tail', url(topic), '--from', 'beginning', '--until', 'end', '-o', 'jsonl'], {
      env: cli,
    })
    expect(JSON.parse(t.stdout.toString()).headers).toEqual([
      ['a', {json: 1}],
      ['b', {json: 2}],
      ['a', {json: 3}],
      ['n', null],
    ])
  })

  test('compressed topics: tail reads what the Java client and kcat wrote with snappy, lz4, zstd and gzip; publish --compression snappy/lz4/zstd is compressed on disk and reads back in kcat', async () => {
    for (const codec of ['snappy', 'lz4', 'zstd', 'gzip']) {
      const topic = await createTopic(`comp-${codec}`, 1)
      // The Java client frames snappy the xerial way; librdkafka (kcat) writes it plain.
      const java = await kafkaTool(
        'ConsoleProducer',
        ['--bootstrap-server', env.KAFKA_BROKERS!, '--topic', topic, '--compression-codec', codec],
        `java-${codec}-1\njava-${codec}-2\n`,
      )
      expect(java.code, java.stderr).toBe(0)
      const k = await kcatProduce(env.KAFKA_BROKERS!, topic, {compression: codec}, `kcat-${codec}\n`)
      expect(k.code, k.stderr).toBe(0)
      const t = await run(['tail', url(topic), '--from', 'beginning', '--until', 'end', '-o', 'raw'], {
        env: cli,
      })
      expect(t.code, `${codec}: ${t.stderr}`).toBe(0)
      expect(lines(t.stdout)).toEqual([`java-${codec}-1`, `java-${codec}-2`, `kcat-${codec}`])
    }
    // zstd needs Node's zlib zstd (22.15+); on older Node it is refused, naming the version.
    for (const codec of ['snappy', 'lz4', ...(zlibZstd ? ['zstd'] : [])]) {
      const topic = await createTopic(`comp-out-${codec}`, 1)
      const p = await run(['publish', url(topic), '--compression', codec], {env: cli, input: 'c1\nc2\n'})
      expect(p.code, p.stderr).toBe(0)
      const dump = await kcatDump(topic)
      expect(dump.map((r) => r.payload)).toEqual(['c1', 'c2'])
      // Compressed for real: 200 × 1000 'a' take far less than 200 kB in the broker's segment.
      const big = await createTopic(`comp-size-${codec}`, 1)
      const line = `${'a'.repeat(1000)}\n`
      const r = await run(['publish', url(big), '--compression', codec], {env: cli, input: line.repeat(200)})
      expect(r.code, r.stderr).toBe(0)
      expect(segmentBytes(big), codec).toBeLessThan(20_000)
    }
    if (!zlibZstd) {
      const topic = await createTopic('comp-out-zstd', 1)
      const p = await run(['publish', url(topic), '--compression', 'zstd'], {env: cli, input: 'c1\n'})
      expect(p.code, p.stderr).toBe(6)
      expect(p.stderr).toContain('needs Node 22.15 or newer')
      expect(await kcatDump(topic)).toEqual([])
    }
  })

  test("publish, tail and the admin calls print no Node warning on stderr (kafkajs's negative timer delay warns from Node 24 on)", async () => {
    const topic = await createTopic('no-warn', 2)
    const p = await run(['publish', url(topic), '--json'], {env: cli, input: 'w1\nw2\n'})
    expect(p.code, p.stderr).toBe(0)
    const t = await run(['tail', url(topic), '--from', 'beginning', '--until', 'end', '-o', 'raw'], {
      env: cli,
    })
    expect(t.code, t.stderr).toBe(0)
    expect(lines(t.stdout).sort()).toEqual(['w1', 'w2'])
    const d = await run(['dlq', 'list', `kafka://${env.KAFKA_BROKERS}`, '--json'], {env: cli})
    expect(d.code, d.stderr).toBe(0)
    for (const r of [p, t, d]) expect(r.stderr).not.toMatch(/\(node:\d+\)|[A-Za-z]+Warning:/)
  })

  test('gzip, acks and an idempotent producer', async () => {
    const topic = await createTopic('opts', 1)
    const r = await run(['publish', url(topic), '--compression', 'gzip', '--idempotent'], {
      env: cli,
      input: 'z1\nz2\n',
    })
    expect(r.code, r.stderr).toBe(0)
    const r1 = await run(['publish', url(topic), '--acks', '1'], {env: cli, input: 'z3\n'})
    expect(r1.code, r1.stderr).toBe(0)
    const t = await run(['tail', url(topic), '--from', 'beginning', '--until', 'end', '-o', 'raw'], {
      env: cli,
    })
    expect(lines(t.stdout)).toEqual(['z1', 'z2', 'z3'])
    const bad = await run(['publish', url(topic), 'x', '--idempotent', '--acks', '1'], {env: cli})
    expect(bad.code).toBe(2)
  })

  test('lag from committed offsets, without joining the group, matches ConsumerGroupCommand', async () => {
    const topic = await createTopic('lag', 2)
    await run(['publish', url(topic), '--input', 'jsonl', '--keep-partitions'], {
      env: cli,
      input: Array.from({length: 10}, (_, i) =>
        JSON.stringify({v: 1, partition: i % 2, timestamp: `2026-01-01T00:0${i}:00.000Z`, value: {json: i}}),
      ).join('\n'),
    })
    const group = uniqueName('billing')
    const kafka = testKafka()
    const consumer = kafka.consumer({groupId: group})
    await consumer.connect()
    await consumer.subscribe({topics: [topic], fromBeginning: true})
    let seen = 0
    await new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({partition, message}) => {
          seen++
          // Commit partition 0 up to offset 2 (next = 3); leave partition 1 uncommitted past 1 (next = 1).
          if (partition === 0 && message.offset === '2')
            await consumer.commitOffsets([{topic, partition, offset: '3'}])
          if (partition === 1 && message.offset === '0')
            await consumer.commitOffsets([{topic, partition, offset: '1'}])
          if (seen === 10) resolve()
        },
      })
    })
    await consumer.disconnect()

    const adapter = createKafkaAdapter(parseTarget(url(topic)))
    try {
      const rows = await adapter.lag(parseTarget(url(topic)), group)
      // Partition 0 holds i = 0, 2, 4, 6, 8 and partition 1 holds i = 1, 3, 5, 7, 9 (minute i).
      const at = (i: number) => `2026-01-01T00:0${i}:00.000Z`
      expect(rows).toEqual([
        {
          group,
          topic,
          partition: 0,
          committed: '3',
          end: '5',
          lag: '2',
          committedTimestamp: at(4),
          latestTimestamp: at(8),
        },
        {
          group,
          topic,
          partition: 1,
          committed: '1',
          end: '5',
          lag: '4',
          committedTimestamp: at(1),
          latestTimestamp: at(9),
        },
      ])
      const all = await adapter.lag(parseTarget(url(topic)))
      expect(all.filter((r) => r.group === group)).toHaveLength(2)
    } finally {
      await adapter.close()
    }
    const ref = await kafkaTool('ConsumerGroupCommand', [
      '--bootstrap-server',
      env.KAFKA_BROKERS!,
      '--describe',
      '--group',
      group,
    ])
    expect(ref.code, ref.stderr).toBe(0)
    const refRows = ref.stdout
      .split('\n')
      .filter((l) => l.includes(topic))
      .map((l) => l.trim().split(/\s+/))
      .map(([, , partition, current, end, lag]) => ({partition: Number(partition), current, end, lag}))
      .sort((a, b) => a.partition - b.partition)
    expect(refRows).toEqual([
      {partition: 0, current: '3', end: '5', lag: '2'},
      {partition: 1, current: '1', end: '5', lag: '4'},
    ])
  }, 60_000)

  test('SASL/PLAIN from a context: works with the right password, exit 3 with a wrong one, secret never printed', async () => {
    if (!env.KAFKA_SASL_BROKERS) throw new Error('the harness has no SASL listener')
    const topic = await createTopic('sasl', 1)
    const senv = sandboxEnv()
    const set = (password: string) =>
      writeFileSync(
        join(senv.XDG_CONFIG_HOME!, 'evtctl', 'config.yaml'),
        `current-context: secure\ncontexts:\n  secure:\n    broker: kafka\n    brokers: [${env.KAFKA_SASL_BROKERS}]\n    sasl:\n      mechanism: plain\n      username: ${env.KAFKA_SASL_USERNAME}\n      password: ${password}\n`,
        {mode: 0o600},
      )
    await run(['config', 'set-context', 'secure', '--broker', 'kafka', '--brokers', env.KAFKA_SASL_BROKERS], {
      env: senv,
    })
    set(env.KAFKA_SASL_PASSWORD!)
    expect((await run(['publish', topic, 'secret-ok'], {env: senv})).code).toBe(0)
    const ok = await run(['tail', topic, '--from', 'beginning', '--until', 'end', '-o', 'raw'], {env: senv})
    expect(ok.stdout.toString()).toBe('secret-ok\n')
    set('wrong-password-xyz')
    const bad = await run(['tail', topic, '--from', 'beginning', '--until', 'end', '--debug'], {env: senv})
    expect(bad.code).toBe(3)
    expect(bad.stderr).toMatch(/rejected the credentials/)
    expect(bad.stderr + bad.stdout.toString()).not.toContain('wrong-password-xyz')
    const view = await run(['config', 'view'], {env: senv})
    expect(view.stdout.toString()).not.toContain('wrong-password-xyz')
  })

  /** A sandbox whose current context is `secure`, with `settings` (YAML lines under the context). */
  function secureContext(brokers: string, settings: string) {
    const senv = sandboxEnv()
    mkdirSync(join(senv.XDG_CONFIG_HOME!, 'evtctl'), {recursive: true, mode: 0o700})
    writeFileSync(
      join(senv.XDG_CONFIG_HOME!, 'evtctl', 'config.yaml'),
      `current-context: secure\ncontexts:\n  secure:\n    broker: kafka\n    brokers: [${brokers}]\n${settings}`,
      {mode: 0o600},
    )
    return senv
  }
  /** An unsigned token as Kafka's unsecured OAUTHBEARER validator (test setups) accepts it. */
  function unsecuredJwt(sub: string) {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const now = Math.floor(Date.now() / 1000)
    return `${b64({alg: 'none'})}.${b64({sub, iat: now, exp: now + 3600})}.`
  }

  test('SASL SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER (token file and command): publish and tail work; a wrong secret is exit 3 and never printed', async () => {
    if (!env.KAFKA_SASL_BROKERS) throw new Error('the harness has no SASL listener')
    const topic = await createTopic('sasl-more', 1)
    const dir = mkdtempSync(join(tmpdir(), 'evtctl-token-'))
    const tokenFile = join(dir, 'token')
    writeFileSync(tokenFile, `${unsecuredJwt('alice')}\n`, {mode: 0o600})
    const cases: Array<[string, string, string]> = [
      [
        'scram-sha-256',
        `      username: ${env.KAFKA_SASL_USERNAME}\n      password: ${env.KAFKA_SASL_PASSWORD}\n`,
        `      username: ${env.KAFKA_SASL_USERNAME}\n      password: wrong-scram-secret\n`,
      ],
      [
        'scram-sha-512',
        `      username: ${env.KAFKA_SASL_USERNAME}\n      password: ${env.KAFKA_SASL_PASSWORD}\n`,
        `      username: ${env.KAFKA_SASL_USERNAME}\n      password: wrong-scram-secret\n`,
      ],
      [
        'oauthbearer',
        `      token-file: ${tokenFile}\n`,
        '      token-command: echo not-a-jwt-wrong-token\n',
      ],
      [
        'oauthbearer',
        `      token-command: cat ${tokenFile}\n`,
        '      token-command: echo not-a-jwt-wrong-token\n',
      ],
    ]
    for (const [mechanism, good, bad] of cases) {
      const ok = secureContext(env.KAFKA_SASL_BROKERS, `    sasl:\n      mechanism: ${mechanism}\n${good}`)
      const pub = await run(['publish', topic, `via-${mechanism}`], {env: ok})
      expect(pub.code, pub.stderr).toBe(0)
      const t = await run(['tail', topic, '--from', '-1', '--until', 'end', '-o', 'raw'], {env: ok})
      expect(t.code, t.stderr).toBe(0)
      expect(t.stdout.toString()).toBe(`via-${mechanism}\n`)
      const wrong = secureContext(env.KAFKA_SASL_BROKERS, `    sasl:\n      mechanism: ${mechanism}\n${bad}`)
      for (const args of [
        ['tail', topic, '--until', 'end', '--debug'],
        ['publish', topic, 'x', '--debug'],
      ]) {
        const r = await run(args, {env: wrong})
        expect(r.code, `${mechanism} ${args[0]}: ${r.stderr}`).toBe(3)
        expect(r.stderr + r.stdout.toString()).not.toMatch(/wrong-scram-secret|not-a-jwt-wrong-token/)
      }
    }
  })

  test('TLS with a client certificate: verified against the context CA; no CA or no client certificate is exit 3; --insecure warns', async () => {
    if (!env.KAFKA_TLS_BROKERS) throw new Error('the harness has no TLS listener')
    const topic = await createTopic('tls', 1)
    const d = env.KAFKA_TLS_DIR!
    const full = `    tls:\n      ca-file: ${d}/ca.pem\n      cert-file: ${d}/client.pem\n      key-file: ${d}/client.key\n`
    const ok = secureContext(env.KAFKA_TLS_BROKERS, full)
    expect((await run(['publish', topic, 'over-tls'], {env: ok})).code).toBe(0)
    const t = await run(['tail', topic, '--from', 'beginning', '--until', 'end', '-o', 'raw'], {env: ok})
    expect(t.code, t.stderr).toBe(0)
    expect(t.stdout.toString()).toBe('over-tls\n')
    expect(t.stderr).not.toMatch(/NOT verified/)

    const noCa = secureContext(
      env.KAFKA_TLS_BROKERS,
      `    tls:\n      cert-file: ${d}/client.pem\n      key-file: ${d}/client.key\n`,
    )
    const noCert = secureContext(env.KAFKA_TLS_BROKERS, `    tls:\n      ca-file: ${d}/ca.pem\n`)
    const refused: Array<[typeof noCa, RegExp]> = [
      [noCa, /could not be verified.*\n.*tls\.ca-file/],
      [noCert, /refused the TLS handshake.*\n.*tls\.cert-file/],
    ]
    for (const [senv, why] of refused) {
      for (const args of [
        ['tail', topic, '--until', 'end'],
        ['publish', topic, 'x'],
      ]) {
        const r = await run(args, {env: senv})
        expect(r.code, r.stderr).toBe(3)
        expect(r.stderr).toMatch(why)
      }
    }
    const insecure = await run(
      ['tail', topic, '--from', 'beginning', '--until', 'end', '-o', 'raw', '--insecure'],
      {env: noCa},
    )
    expect(insecure.code, insecure.stderr).toBe(0)
    expect(insecure.stdout.toString()).toBe('over-tls\n')
    expect(insecure.stderr).toMatch(/TLS certificates are NOT verified \(--insecure\)/)
  })

  test('tail | head ends cleanly and leaves no group behind', async () => {
    const topic = await createTopic('head', 1)
    // More than a pipe buffer (64 KiB), so a write after head exits meets EPIPE. A tail that
    // follows and gets no new message only notices at its next write, like GNU tail -f.
    await run(['publish', url(topic)], {
      env: cli,
      input: Array.from({length: 30_000}, (_, i) => `m${i}`).join('\n'),
    })
    const sh = start({shell: `node ${BIN} tail ${url(topic)} --from beginning -o raw | head -n 2`}, cli)
    expect(await sh.done).toBe(0)
    expect(sh.out()).toBe('m0\nm1\n')
    await new Promise((r) => setTimeout(r, 500))
    const admin = testKafka().admin()
    await admin.connect()
    try {
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId)
      expect(await leftoverTailGroups(admin, groups)).toEqual([])
    } finally {
      await admin.disconnect()
    }
  }, 30_000)
})
