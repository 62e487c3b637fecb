import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {GetQueueAttributesCommand} from '@aws-sdk/client-sqs'
import {describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic, testKafka} from '../brokers/kafka.js'
import {kafkaTool, kcatProduce, kcatReadAll} from '../brokers/peers.js'
import {counts, createQueue, fill, receiveMessages, testSqs} from '../brokers/sqs.js'
import {run, sandboxEnv, start} from '../e2e/helpers.js'

const env = brokerEnv()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A DLQ with a source queue whose redrive policy names it; `n` messages in the DLQ. */
async function dlqWithSource(n: number) {
  const dlq = await createQueue('rf-dlq')
  const main = await createQueue('rf-main', {
    RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq.arn, maxReceiveCount: 3}),
  })
  await fill(
    dlq.url,
    Array.from({length: n}, (_, i) => `n${i}`),
  )
  return {dlq, main}
}

describe.skipIf(!env.SQS_ENDPOINT)('replay --native (SQS StartMessageMoveTask)', () => {
  test('moves the whole DLQ to --to, with attributes; reports the task', async () => {
    const cli = sandboxEnv()
    const {dlq, main} = await dlqWithSource(12)
    const r = await run(['replay', dlq.url, '--native', '--to', main.url, '--json'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout.toString())
    expect(report).toMatchObject({native: true, status: 'COMPLETED', mode: 'move'})
    expect(report.task).toEqual(expect.any(String))
    expect(r.stderr).toMatch(/SQS moved ~\d+ message/)
    expect(await counts(dlq.url)).toEqual({visible: 0, inFlight: 0})
    const got = await receiveMessages(main.url)
    expect(got.map((m) => m.Body).sort()).toEqual(Array.from({length: 12}, (_, i) => `n${i}`).sort())
    expect(got.every((m) => m.MessageAttributes?.kind?.StringValue === 'test')).toBe(true)
  })

  test('Ctrl-C cancels the task: exit 130, what moved stays moved, the rest stays in the DLQ', async () => {
    const cli = sandboxEnv()
    const {dlq, main} = await dlqWithSource(30)
    const p = start(['replay', dlq.url, '--native', '--to', main.url, '--rate', '2', '--json'], cli)
    await sleep(3_500)
    p.child.kill('SIGINT')
    expect(await p.done).toBe(130)
    const report = JSON.parse(p.out())
    expect(report.status).toBe('CANCELLED')
    expect(p.err()).toMatch(/stay moved/)
    await sleep(500)
    const [left, moved] = [await counts(dlq.url), await counts(main.url)]
    expect(moved.visible).toBeGreaterThan(0)
    expect(left.visible).toBeGreaterThan(0)
    expect(left.visible + moved.visible).toBe(30)
  }, 30_000)

  test.each([
    [['--where', 'value.x = 1'], /cannot filter/],
    [['--dry-run'], /cannot preview/],
    [['--max', '3'], /stop after N/],
    [['--copy'], /cannot copy/],
  ])('refuses %j with the reason (exit 6), touching nothing', async (extra, why) => {
    const cli = sandboxEnv()
    const {dlq} = await dlqWithSource(2)
    const r = await run(['replay', dlq.url, '--native', ...extra], {env: cli})
    expect(r.code, r.stderr).toBe(6)
    expect(r.stderr).toMatch(why)
    const sqs = testSqs()
    const a = await sqs.send(
      new GetQueueAttributesCommand({QueueUrl: dlq.url, AttributeNames: ['ApproximateNumberOfMessages']}),
    )
    sqs.destroy()
    expect(a.Attributes?.ApproximateNumberOfMessages).toBe('2')
  })
})

describe.skipIf(!env.KAFKA_BROKERS)('replay into Kafka: what copies carry', () => {
  const brokers = () => env.KAFKA_BROKERS!

  const readBack = (topic: string) => kcatReadAll(brokers(), topic)

  test('timestamps kept by default; --new-timestamps, --mark and --keep-partitions do what they say', async () => {
    const cli = sandboxEnv()
    const src = await createTopic('rf-src', 3)
    for (const p of [0, 1, 2]) {
      const r = await kcatProduce(brokers(), src, {partition: p, keyDelimiter: '\t'}, `k${p}\tv${p}`)
      expect(r.code, r.stderr).toBe(0)
    }
    const original = await readBack(src)
    await sleep(1_100) // a copy made now has a visibly later timestamp

    const kept = await createTopic('rf-kept', 3)
    let r = await run(
      [
        'replay',
        `kafka://${brokers()}/${src}`,
        '--to',
        `kafka://${brokers()}/${kept}`,
        '--keep-partitions',
        '--json',
      ],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    const k = await readBack(kept)
    for (const o of original) {
      const c = k.find((m) => m.payload === o.payload)!
      expect(c.ts).toBe(o.ts)
      expect(c.partition).toBe(o.partition)
      expect(c.key).toBe(o.key)
      expect(c.headers ?? []).toEqual([])
    }

    const fresh = await createTopic('rf-fresh', 3)
    const before = Date.now()
    r = await run(
      [
        'replay',
        `kafka://${brokers()}/${src}`,
        '--to',
        `kafka://${brokers()}/${fresh}`,
        '--new-timestamps',
        '--mark',
        '--json',
      ],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    const run_ = JSON.parse(r.stdout.toString()).run
    for (const c of await readBack(fresh)) {
      expect(c.ts).toBeGreaterThanOrEqual(before - 1_000)
      expect(c.headers).toEqual([
        'evtctl-replay-run',
        run_,
        'evtctl-replayed-from',
        `kafka://${brokers()}/${src}`,
      ])
    }
  }, 60_000)

  test('--rate: 20 messages at 10 per second take about two seconds', async () => {
    const cli = sandboxEnv()
    const src = await createTopic('rf-rate-src')
    const dst = await createTopic('rf-rate-dst')
    const lines = Array.from({length: 20}, (_, i) => `m${i}`).join('\n')
    expect((await kcatProduce(brokers(), src, {}, lines)).code).toBe(0)
    const t0 = Date.now()
    const r = await run(
      [
        'replay',
        `kafka://${brokers()}/${src}`,
        '--to',
        `kafka://${brokers()}/${dst}`,
        '--rate',
        '10',
        '--json',
      ],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString()).sent).toBe(20)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_500)
  }, 30_000)

  /** The group's committed offset per partition, as Kafka's own ConsumerGroupCommand reports it. */
  const groupOffsets = async (group: string, topic: string) => {
    const r = await kafkaTool('ConsumerGroupCommand', [
      '--bootstrap-server',
      brokers(),
      '--describe',
      '--group',
      group,
    ])
    const out: Record<number, number> = {}
    for (const line of r.stdout.split('\n')) {
      const f = line.trim().split(/\s+/)
      if (f[1] === topic) out[Number(f[2])] = Number(f[3])
    }
    return out
  }

  test('--commit-group commits what was replayed (filtered-out too), and the next run starts there', async () => {
    const cli = sandboxEnv()
    const src = await createTopic('rf-cg-src', 2)
    const dst = await createTopic('rf-cg-dst', 2)
    const group = `rf-cg-${Date.now()}`
    const lines = Array.from({length: 10}, (_, i) => `k${i}\t{"n":${i}}`).join('\n')
    expect((await kcatProduce(brokers(), src, {keyDelimiter: '\t'}, lines)).code).toBe(0)
    const replay = (...extra: string[]) =>
      run(
        [
          'replay',
          `kafka://${brokers()}/${src}`,
          '--to',
          `kafka://${brokers()}/${dst}`,
          '--commit-group',
          group,
          '--json',
          ...extra,
        ],
        {env: cli},
      )
    const total = (o: Record<number, number>) => Object.values(o).reduce((a, b) => a + b, 0)

    let r = await replay('--max', '4')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      sent: 4,
      committed: {group, messages: 4, notCommitted: 0},
    })
    expect(total(await groupOffsets(group, src))).toBe(4)

    // The rest, one left out by --where: committed all the same (handled), never sent.
    const first = new Set((await kcatReadAll(brokers(), dst)).map((m) => m.key))
    const leftOut = Array.from({length: 10}, (_, i) => `k${i}`).find((k) => !first.has(k))!
    r = await replay('--where', `key != "${leftOut}"`)
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      sent: 5,
      committed: {messages: 6, notCommitted: 0},
    })
    const ends = new Map<number, number>()
    for (const m of await kcatReadAll(brokers(), src))
      ends.set(m.partition, Math.max(ends.get(m.partition) ?? 0, m.offset + 1))
    expect(await groupOffsets(group, src)).toEqual(Object.fromEntries(ends))

    // Nothing left past the group's commits: nothing sent.
    r = await replay()
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({selected: 0, sent: 0})
    expect(r.stderr).not.toMatch(/finished before/)

    const copied = (await kcatReadAll(brokers(), dst)).map((m) => m.key).sort()
    expect(copied).toEqual(Array.from({length: 10}, (_, i) => `k${i}`).filter((k) => k !== leftOut))
  }, 60_000)

  test('--commit-group on a source that is not Kafka: exit 6, nothing read', async () => {
    const cli = sandboxEnv()
    const r = await run(['replay', 'orders.dlq', '--to', 'orders', '--commit-group', 'g'], {env: cli})
    expect(r.code, r.stderr).toBe(6)
    expect(r.stderr).toMatch(/--commit-group commits a Kafka consumer group/)
  })

  test('a Kafka topic replayed into a file topic keeps JSON values as {json}, text as {utf8}', async () => {
    const cli = sandboxEnv()
    const src = await createTopic('rf-to-file')
    expect((await kcatProduce(brokers(), src, {}, '{"total":42}\nplain text')).code).toBe(0)
    const file = join(mkdtempSync(join(tmpdir(), 'rf-file-')), 'copy.jsonl')
    const r = await run(['replay', `kafka://${brokers()}/${src}`, '--to', `file://${file}`, '--json'], {
      env: cli,
    })
    expect(r.code, r.stderr).toBe(0)
    const values = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).value)
    expect(values).toEqual([{json: {total: 42}}, {utf8: 'plain text'}])
  })

  test('--max on a topic the read is ahead of ends promptly (the read waiting for room is let go)', async () => {
    const cli = sandboxEnv()
    const src = await createTopic('rf-max-src')
    const dst = await createTopic('rf-max-dst')
    // Many fetches' worth: the read fills the replay's queue and waits for room.
    const lines = Array.from({length: 30_000}, (_, i) => `m${i}`).join('\n')
    expect((await kcatProduce(brokers(), src, {}, lines)).code).toBe(0)
    const t0 = Date.now()
    const r = await run(
      [
        'replay',
        `kafka://${brokers()}/${src}`,
        '--to',
        `kafka://${brokers()}/${dst}`,
        '--max',
        '10',
        '--json',
      ],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({selected: 10, sent: 10})
    expect(Date.now() - t0).toBeLessThan(20_000)
    expect((await kcatReadAll(brokers(), dst)).map((m) => m.payload)).toEqual(
      Array.from({length: 10}, (_, i) => `m${i}`),
    )
  }, 60_000)

  test('a copy written from the bytes read: a partition batch the destination refuses fails only its own messages; the rest go once', async () => {
    // Kafka → Kafka writes records from the bytes read (raw-batch.ts, on its own producer id).
    // The destination refuses a batch holding a message stamped over 60 s in the past
    // (INVALID_TIMESTAMP): only that partition's batch fails, the batches after it still go.
    const cli = sandboxEnv()
    // One source partition into three: each replay batch spreads over the destination's partitions.
    const src = await createTopic('rf-raw-src', 1)
    const dst = await createTopic('rf-raw-dst', 3, {'message.timestamp.before.max.ms': '60000'})
    const now = Date.now()
    const old = 250
    const input = Array.from({length: 600}, (_, i) =>
      JSON.stringify({
        v: 1,
        key: {utf8: `k${i}`},
        timestamp: new Date(i === old ? now - 3_600_000 : now).toISOString(),
        headers: [
          ['h', {utf8: `x${i}`}],
          ['bin', {base64: 'AP8='}],
          ['h', {utf8: 'again'}],
        ],
        value: {utf8: `v${i}`},
      }),
    ).join('\n')
    const p = await run(['publish', `kafka://${brokers()}/${src}`, '--input', 'jsonl'], {env: cli, input})
    expect(p.code, p.stderr).toBe(0)
    const source = await readBack(src)
    const r = await run(
      ['replay', `kafka://${brokers()}/${src}`, '--to', `kafka://${brokers()}/${dst}`, '--json'],
      {env: {...cli, EVTCTL_REPLAY_BATCH: '100'}},
    )
    expect(r.code, r.stderr).toBe(7)
    const report = JSON.parse(r.stdout.toString())
    const byId = new Map(source.map((m) => [`${m.partition}:${m.offset}`, m]))
    const failed = new Set<string>(report.failed.map((f: {id: string}) => byId.get(f.id)!.key))
    expect(failed.has(`k${old}`)).toBe(true)
    expect(report.failed[0].error).toMatch(/INVALID_TIMESTAMP|timestamp/i)
    // One partition's batch of one replay batch: more than the one message, far from all.
    expect(failed.size).toBeGreaterThan(1)
    expect(failed.size).toBeLessThan(100)
    const copies = await readBack(dst)
    const keys = copies.map((m) => m.key!)
    expect(keys.length).toBe(new Set(keys).size)
    expect(keys.filter((k) => failed.has(k))).toEqual([])
    expect(keys.length + failed.size).toBe(600)
    expect(report.sent).toBe(600 - failed.size)
    // Byte-exact: value, timestamp and headers (repeats in order, binary) as in the source.
    const original = new Map(source.map((m) => [m.key, m]))
    for (const c of copies) {
      const o = original.get(c.key)!
      expect([c.payload, c.ts, c.headers]).toEqual([o.payload, o.ts, o.headers])
    }
  }, 90_000)

  test('a record stamped in nanoseconds is refused by name, not copied with a rounded timestamp; the rest go', async () => {
    // Some producers put µs or ns in the millisecond field: no exact number nor date (the copy
    // would have written it rounded).
    // Kafka takes such a timestamp only where the topic allows any future time.
    const src = await createTopic('rf-ns-src', 1, {'message.timestamp.after.max.ms': '9223372036854775807'})
    const dst = await createTopic('rf-ns-dst', 1)
    const producer = testKafka().producer()
    await producer.connect()
    const now = Date.now()
    await producer.send({
      topic: src,
      messages: [
        {key: 'a', value: 'ok-1', timestamp: String(now)},
        {key: 'b', value: 'nanos', timestamp: '1700000000123456789'},
        {key: 'c', value: 'ok-2', timestamp: String(now)},
      ],
    })
    await producer.disconnect()
    const r = await run(
      ['replay', `kafka://${brokers()}/${src}`, '--to', `kafka://${brokers()}/${dst}`, '--json'],
      {env: sandboxEnv()},
    )
    expect(r.code, r.stderr).toBe(7)
    const report = JSON.parse(r.stdout.toString())
    expect(report.failed).toEqual([
      {id: '0:1', error: expect.stringMatching(/timestamp 1700000000123456789 .*--new-timestamps/)},
    ])
    expect(report.sent).toBe(2)
    const source = await kcatReadAll(brokers(), src)
    expect(source.map((m) => m.key)).toEqual(['a', 'b', 'c'])
    const copies = await kcatReadAll(brokers(), dst)
    expect(copies.map((m) => [m.key, m.payload, m.ts])).toEqual([
      ['a', 'ok-1', source[0]!.ts],
      ['c', 'ok-2', source[2]!.ts],
    ])
  }, 60_000)

  test('--dry-run checks the destination: a missing topic is exit 5, and nothing is sent', async () => {
    const cli = sandboxEnv()
    const src = await createTopic('rf-dry-src')
    expect((await kcatProduce(brokers(), src, {}, 'a\nb')).code).toBe(0)
    const r = await run(
      ['replay', `kafka://${brokers()}/${src}`, '--to', `kafka://${brokers()}/rf-missing-topic`, '--dry-run'],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(5)
    expect(r.stderr).toMatch(/rf-missing-topic.*does not exist/)
  })
})
