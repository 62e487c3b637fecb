import {ReceiveMessageCommand} from '@aws-sdk/client-sqs'
import {describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic, testKafka} from '../brokers/kafka.js'
import {kcatProduce} from '../brokers/peers.js'
import {createTopic as createPubsubTopic, testPubsub} from '../brokers/pubsub.js'
import {counts, createQueue, fill, receiveMessages, testSqs} from '../brokers/sqs.js'
import {run, sandboxEnv} from '../e2e/helpers.js'

const env = brokerEnv()

/** Everything in `url`, read by an independent client (read once): body and two attributes. */
async function drain(url: string): Promise<Array<{body: string; n?: string; kind?: string}>> {
  return (await receiveMessages(url)).map((m) => ({
    body: m.Body!,
    n: m.MessageAttributes?.n?.StringValue,
    kind: m.MessageAttributes?.kind?.StringValue,
  }))
}

async function deadLetterAll(url: string): Promise<void> {
  const sqs = testSqs()
  try {
    for (let i = 0; i < 30 && (await counts(url)).visible > 0; i++)
      await sqs.send(
        new ReceiveMessageCommand({QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0}),
      )
  } finally {
    sqs.destroy()
  }
}

describe.skipIf(!env.SQS_ENDPOINT)('replay on SQS', () => {
  test('dead letters go back to the queue SQS took them from, byte-exact with attributes; the DLQ is empty', async () => {
    const cli = sandboxEnv()
    const dlq = await createQueue('rp-dlq')
    const main = await createQueue('rp-main', {
      RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq.arn, maxReceiveCount: 1}),
    })
    const bodies = ['a', 'b', 'c', 'd']
    await fill(main.url, bodies)
    await deadLetterAll(main.url)
    expect(await counts(dlq.url)).toEqual({visible: 4, inFlight: 0})

    const dry = await run(['replay', dlq.url, '--dry-run', '--json'], {env: cli})
    expect(dry.code, dry.stderr).toBe(0)
    expect(JSON.parse(dry.stdout.toString())).toMatchObject({
      mode: 'move',
      dryRun: true,
      selected: 4,
      sent: 0,
      destinations: [{target: main.url, count: 4}],
    })
    expect(await counts(dlq.url)).toEqual({visible: 4, inFlight: 0}) // the dry run changed nothing
    expect(await counts(main.url)).toEqual({visible: 0, inFlight: 0})

    const r = await run(['replay', dlq.url, '--json'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      selected: 4,
      sent: 4,
      removedFromSource: 4,
      failed: [],
    })
    expect(await counts(dlq.url)).toEqual({visible: 0, inFlight: 0})
    const got = await drain(main.url)
    expect(got.map((m) => m.body).sort()).toEqual(bodies)
    expect(got.every((m) => m.kind === 'test' && m.n !== undefined)).toBe(true)
  })

  test('--where selects; what is not selected stays in the source, untouched', async () => {
    const cli = sandboxEnv()
    const dlq = await createQueue('rp-sel-dlq')
    const dest = await createQueue('rp-sel-dest')
    await fill(dlq.url, ['{"n":1}', '{"n":2}', '{"n":3}'])
    const r = await run(
      ['replay', dlq.url, '--to', dest.url, '--where', 'value.n >= 2', '--hold', '2s', '--json'],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({selected: 2, sent: 2, removedFromSource: 2})
    expect((await drain(dest.url)).map((m) => m.body).sort()).toEqual(['{"n":2}', '{"n":3}'])
    expect(await counts(dlq.url)).toEqual({visible: 1, inFlight: 0})
  })

  test('a destination that refuses some messages: the others go, the refused stay in the source, exit 7', async () => {
    const cli = sandboxEnv()
    const dlq = await createQueue('rp-part-dlq')
    const dest = await createQueue('rp-part-dest')
    // ElasticMQ keeps a body over SQS's 256 KiB; evtctl, sending to SQS, refuses it (as SQS would).
    const big = 'x'.repeat(300 * 1024)
    await fill(dlq.url, ['s1', big, 's2'])
    const r = await run(['replay', dlq.url, '--to', dest.url, '--hold', '2s', '--json'], {env: cli})
    expect(r.code, r.stderr).toBe(7)
    const report = JSON.parse(r.stdout.toString())
    expect(report).toMatchObject({selected: 3, sent: 2, removedFromSource: 2})
    expect(report.failed).toHaveLength(1)
    expect(report.failed[0].error).toMatch(/size|large|bytes/i)
    expect((await drain(dest.url)).map((m) => m.body).sort()).toEqual(['s1', 's2'])
    await new Promise((res) => setTimeout(res, 500))
    expect((await drain(dlq.url)).map((m) => m.body)).toEqual([big])
  })

  test.each(['after-receive', 'after-select', 'after-send', 'after-journal', 'after-remove'])(
    'killed (SIGKILL) %s: a rerun finishes; every message at the destination, none left, duplicates listed',
    async (point) => {
      const cli = sandboxEnv()
      const dlq = await createQueue(`rp-kill-dlq`)
      const dest = await createQueue(`rp-kill-dest`)
      const bodies = Array.from({length: 12}, (_, i) => `m${i}`)
      await fill(dlq.url, bodies)
      const args = ['replay', dlq.url, '--to', dest.url, '--hold', '2s', '--json']
      const killed = await run(args, {env: {...cli, EVTCTL_REPLAY_FAULT: `${point}:1`}})
      expect(killed.code).toBeNull() // killed
      let report: {possibleDuplicates: Array<{id: string}>; resumed: boolean} | undefined
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 2_500)) // what the killed run held comes back
        const again = await run(args, {env: cli})
        expect([0, 7], again.stderr).toContain(again.code)
        report = JSON.parse(again.stdout.toString())
        if ((await counts(dlq.url)).visible + (await counts(dlq.url)).inFlight === 0) break
      }
      expect(report!.resumed).toBe(true)
      expect(await counts(dlq.url)).toEqual({visible: 0, inFlight: 0})
      const got = (await drain(dest.url)).map((m) => m.body)
      expect([...new Set(got)].sort()).toEqual(bodies.sort())
      const duplicates = got.length - new Set(got).size
      // At most one batch duplicated, and only where the kill came between send and journal.
      expect(duplicates).toBeLessThanOrEqual(point === 'after-send' ? 12 : 0)
      if (point === 'after-send') expect(report!.possibleDuplicates.length).toBeGreaterThanOrEqual(duplicates)
    },
    60_000,
  )
})

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)('replay on Pub/Sub (emulator)', () => {
  test('a dead-letter subscription moved to a topic: acked only once published; nothing left', async () => {
    const cli = {...sandboxEnv(), PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST}
    const project = env.PUBSUB_PROJECT_ID
    const dlt = await createPubsubTopic('rp-dlt')
    const dest = await createPubsubTopic('rp-dest')
    const ps = testPubsub()
    const dltSub = uniqueName('rp-dlt-sub')
    const destSub = uniqueName('rp-dest-sub')
    await ps.topic(dlt).createSubscription(dltSub)
    await ps.topic(dest).createSubscription(destSub)
    for (const b of ['p1', 'p2', 'p3'])
      await ps.topic(dlt).publishMessage({data: Buffer.from(b), attributes: {why: 'bad'}})
    await ps.close()
    const r = await run(
      [
        'replay',
        `pubsub://${project}/subscriptions/${dltSub}`,
        '--to',
        `pubsub://${project}/topics/${dest}`,
        '--json',
      ],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      mode: 'move',
      selected: 3,
      sent: 3,
      removedFromSource: 3,
    })
    const pulled = async (sub: string) => {
      const c = testPubsub()
      const got: Array<{data: string; why?: string}> = []
      const s = c.subscription(sub)
      s.on('message', (m) => {
        got.push({data: m.data.toString(), why: m.attributes.why})
        m.ack()
      })
      await new Promise((res) => setTimeout(res, 3_000))
      await s.close()
      await c.close()
      return got.sort((a, b) => (a.data < b.data ? -1 : 1))
    }
    expect(await pulled(destSub)).toEqual([
      {data: 'p1', why: 'bad'},
      {data: 'p2', why: 'bad'},
      {data: 'p3', why: 'bad'},
    ])
    expect(await pulled(dltSub)).toEqual([])
  })
})

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)('replay on Pub/Sub, back where they came from', () => {
  test('dead-lettered by the emulator: with no --to, each goes back to the topic of the subscription that gave up on it', async () => {
    const cli = {...sandboxEnv(), PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST}
    const project = env.PUBSUB_PROJECT_ID
    const source = await createPubsubTopic('rpo-src')
    const dlt = await createPubsubTopic('rpo-dlt')
    const ps = testPubsub()
    const dltSub = uniqueName('rpo-dlt-sub')
    const srcSub = uniqueName('rpo-src-sub')
    const watch = uniqueName('rpo-watch')
    await ps.topic(dlt).createSubscription(dltSub)
    await ps.topic(source).createSubscription(srcSub, {
      deadLetterPolicy: {deadLetterTopic: `projects/${project}/topics/${dlt}`, maxDeliveryAttempts: 5},
    })
    await ps.topic(source).publishMessage({data: Buffer.from('o1')})
    const attempts = new Map<string, number>()
    const sub = ps.subscription(srcSub)
    sub.on('message', (m) => {
      attempts.set(m.id, m.deliveryAttempt)
      m.nack()
    })
    for (let i = 0; i < 150 && !(attempts.size === 1 && [...attempts.values()][0]! >= 5); i++)
      await new Promise((r) => setTimeout(r, 200))
    await new Promise((r) => setTimeout(r, 1_500))
    await sub.close()
    // Watch the source topic from now on (the original subscription would dead-letter it again).
    await ps.topic(source).createSubscription(watch)
    await ps.close()

    const r = await run(['replay', `pubsub://${project}/subscriptions/${dltSub}`, '--json'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      mode: 'move',
      sent: 1,
      removedFromSource: 1,
      destinations: [{target: `pubsub://${project}/topics/${source}`, count: 1}],
    })
    const c = testPubsub()
    const got: string[] = []
    const w = c.subscription(watch)
    w.on('message', (m) => {
      got.push(m.data.toString())
      m.ack()
    })
    await new Promise((res) => setTimeout(res, 3_000))
    await w.close()
    await c.close()
    expect(got).toEqual(['o1'])
  }, 60_000)
})

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)('replay on Pub/Sub, selected', () => {
  test('--where: the unselected message is given back once at the end (not spun on) and stays', async () => {
    const cli = {...sandboxEnv(), PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST}
    const project = env.PUBSUB_PROJECT_ID
    const dlt = await createPubsubTopic('rpw-dlt')
    const dest = await createPubsubTopic('rpw-dest')
    const ps = testPubsub()
    const dltSub = uniqueName('rpw-dlt-sub')
    await ps.topic(dlt).createSubscription(dltSub)
    for (const [b, why] of [
      ['w1', 'bad'],
      ['w2', 'ok'],
      ['w3', 'bad'],
    ] as const)
      await ps.topic(dlt).publishMessage({data: Buffer.from(b), attributes: {why}})
    await ps.close()
    const t0 = Date.now()
    const r = await run(
      [
        'replay',
        `pubsub://${project}/subscriptions/${dltSub}`,
        '--to',
        `pubsub://${project}/topics/${dest}`,
        '--where',
        'headers.why = "bad"',
        '--json',
      ],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    expect(Date.now() - t0).toBeLessThan(20_000)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({selected: 2, sent: 2, removedFromSource: 2})
    const c = testPubsub()
    const left: string[] = []
    const s2 = c.subscription(dltSub)
    s2.on('message', (m) => {
      left.push(m.data.toString())
      m.nack()
    })
    await new Promise((res) => setTimeout(res, 2_000))
    await s2.close()
    await c.close()
    expect([...new Set(left)]).toEqual(['w2'])
  }, 40_000)
})

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)('replay on Pub/Sub, killed', () => {
  test('SIGKILL after the send was journaled, before the acks: the rerun acks them and sends nothing again', async () => {
    const cli = {...sandboxEnv(), PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST}
    const project = env.PUBSUB_PROJECT_ID
    const dlt = await createPubsubTopic('rpk-dlt')
    const dest = await createPubsubTopic('rpk-dest')
    const ps = testPubsub()
    const dltSub = uniqueName('rpk-dlt-sub')
    const destSub = uniqueName('rpk-dest-sub')
    await ps.topic(dlt).createSubscription(dltSub, {ackDeadlineSeconds: 10})
    await ps.topic(dest).createSubscription(destSub)
    for (const b of ['k1', 'k2']) await ps.topic(dlt).publishMessage({data: Buffer.from(b)})
    await ps.close()
    const args = [
      'replay',
      `pubsub://${project}/subscriptions/${dltSub}`,
      '--to',
      `pubsub://${project}/topics/${dest}`,
      '--json',
    ]
    const killed = await run(args, {env: {...cli, EVTCTL_REPLAY_FAULT: 'after-journal:1'}})
    expect(killed.code).toBeNull()
    await new Promise((res) => setTimeout(res, 11_000)) // the killed run's messages come back
    const again = await run(args, {env: cli})
    expect(again.code, again.stderr).toBe(0)
    const report = JSON.parse(again.stdout.toString())
    expect(report.resumed).toBe(true)
    expect(report.completedFromJournal + report.sent).toBe(2)
    const c = testPubsub()
    const got: string[] = []
    const sub = c.subscription(destSub)
    sub.on('message', (m) => {
      got.push(m.data.toString())
      m.ack()
    })
    const left: string[] = []
    const src = c.subscription(dltSub)
    src.on('message', (m) => {
      left.push(m.data.toString())
      m.nack()
    })
    await new Promise((res) => setTimeout(res, 3_000))
    await Promise.all([sub.close(), src.close()])
    await c.close()
    expect(got.sort()).toEqual(['k1', 'k2']) // each once
    expect(left).toEqual([])
  }, 60_000)
})

describe.skipIf(!env.KAFKA_BROKERS)('replay on Kafka', () => {
  test('a Spring DLT back to its topic (copy): key, headers, value intact; the DLT untouched', async () => {
    const cli = sandboxEnv()
    const source = await createTopic('rp-orders')
    const admin = testKafka().admin()
    await admin.connect()
    await admin.createTopics({topics: [{topic: `${source}.DLT`}], waitForLeaders: true})
    await admin.disconnect()
    for (const i of [1, 2, 3]) {
      const p = await kcatProduce(
        env.KAFKA_BROKERS!,
        `${source}.DLT`,
        {key: `k${i}`, headers: [`kafka_dlt-original-topic=${source}`, 'trace=t1']},
        `{"i":${i}}`,
      )
      expect(p.code, p.stderr).toBe(0)
    }
    const r = await run(['replay', `kafka://${env.KAFKA_BROKERS}/${source}.DLT`, '--json'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      mode: 'copy',
      selected: 3,
      sent: 3,
      removedFromSource: 0,
    })
    const back = await run(
      [
        'tail',
        `kafka://${env.KAFKA_BROKERS}/${source}`,
        '--from',
        'beginning',
        '--until',
        'end',
        '-o',
        'jsonl',
      ],
      {env: cli},
    )
    const envs = back.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(envs.map((e) => [e.key.utf8, e.value.json.i])).toEqual([
      ['k1', 1],
      ['k2', 2],
      ['k3', 3],
    ])
    expect(envs[0].headers).toEqual([
      ['kafka_dlt-original-topic', {utf8: source}],
      ['trace', {utf8: 't1'}],
    ])
    // Rerunning the finished command sends copies again (a new run); --move is refused on a log.
    const move = await run(['replay', `kafka://${env.KAFKA_BROKERS}/${source}.DLT`, '--move'], {env: cli})
    expect(move.code).toBe(6)
  })

  test('a DLQ message that does not say where it came from: exit 2 asking for --to, nothing sent', async () => {
    const cli = sandboxEnv()
    const t = await createTopic('rp-noorigin.DLT')
    await kcatProduce(env.KAFKA_BROKERS!, t, {}, 'x')
    const r = await run(['replay', `kafka://${env.KAFKA_BROKERS}/${t}`], {env: cli})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--to/)
    // Nothing was done, so nothing is resumed: the same answer again (not a "resumed" exit 0).
    const again = await run(['replay', `kafka://${env.KAFKA_BROKERS}/${t}`], {env: cli})
    expect(again.code).toBe(2)
    expect(again.stderr).not.toMatch(/Resuming/)
  })
})
