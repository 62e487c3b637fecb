import {describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic, leftovers, testPubsub} from '../brokers/pubsub.js'
import {BIN, lines, run, sandboxEnv, start} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = {...sandboxEnv(), PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST}
const topicUrl = (t: string) => `pubsub://${env.PUBSUB_PROJECT_ID}/topics/${t}`
const subUrl = (s: string) => `pubsub://${env.PUBSUB_PROJECT_ID}/subscriptions/${s}`

/** Starts `evtctl tail`, waits until it is reading (its notice on stderr), returns the process. */
async function startTail(args: string[]) {
  const tail = start(['tail', ...args], cli)
  for (let i = 0; i < 100 && !/temporary subscription/.test(tail.err()); i++)
    await new Promise((r) => setTimeout(r, 100))
  await new Promise((r) => setTimeout(r, 500)) // the streaming pull is open
  return tail
}

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)('pubsub: tail and publish against the emulator', () => {
  test('50 messages with attributes and ordering keys: a tail started before sees all, in per-key order', async () => {
    const topic = await createTopic('ordered')
    const tail = await startTail([topicUrl(topic), '--max', '50', '-o', 'jsonl'])
    const input = Array.from({length: 50}, (_, i) =>
      JSON.stringify({
        v: 1,
        headers: [
          ['n', {utf8: String(i)}],
          ['kind', {utf8: 'order'}],
        ],
        value: {json: {i}},
        meta: {orderingKey: `k${i % 3}`},
      }),
    ).join('\n')
    const pub = await run(['publish', topicUrl(topic), '--input', 'jsonl'], {env: cli, input})
    expect(pub.code, pub.stderr).toBe(0)
    expect(await tail.done).toBe(0)
    const envs = lines(Buffer.from(tail.out())).map((l) => JSON.parse(l))
    expect(envs).toHaveLength(50)
    for (const e of envs) {
      expect(e.headers).toEqual([
        ['kind', {utf8: 'order'}],
        ['n', {json: e.value.json.i}],
      ])
      expect(e.meta.orderingKey).toBe(`k${e.value.json.i % 3}`)
      expect(e.meta.messageId).toBe(e.offset)
    }
    for (const k of ['k0', 'k1', 'k2']) {
      const seq = envs.filter((e) => e.meta.orderingKey === k).map((e) => e.value.json.i)
      expect(seq).toEqual([...seq].sort((a, b) => a - b))
    }
    expect(await leftovers(topic)).toEqual([])
  })

  test.each(['SIGINT', 'SIGTERM'] as const)(
    'no temporary subscription or snapshot remains after %s',
    async (sig) => {
      const topic = await createTopic('signal')
      const tail = await startTail([topicUrl(topic)])
      expect((await leftovers(topic)).some((n) => n.startsWith('evtctl-tail-'))).toBe(true)
      tail.child.kill(sig)
      expect(await tail.done).toBe(130)
      expect(await leftovers(topic)).toEqual([])
    },
  )

  test('tail | head -n 1 on a quiet topic: exits within seconds of the line, and its temporary subscription is gone', async () => {
    const topic = await createTopic('quiet-pipe')
    const url = topicUrl(topic)
    const pipeline = start({shell: `"${process.execPath}" "${BIN}" tail '${url}' -o raw | head -n 1`}, cli)
    for (let i = 0; i < 100 && !(await leftovers(topic)).some((n) => n.startsWith('evtctl-tail-')); i++)
      await new Promise((r) => setTimeout(r, 100))
    await new Promise((r) => setTimeout(r, 500)) // the streaming pull is open
    const pub = await run(['publish', url, 'only'], {env: cli})
    expect(pub.code, pub.stderr).toBe(0)
    for (let i = 0; i < 100 && pipeline.out() === ''; i++) await new Promise((r) => setTimeout(r, 100))
    expect(pipeline.out()).toBe('only\n')
    const printed = Date.now()
    // Nothing more comes: the tail learns that head is gone from the pipe, not from a next write.
    const code = await Promise.race([pipeline.done, new Promise((r) => setTimeout(() => r('hung'), 15_000))])
    const took = Date.now() - printed
    if (code === 'hung') pipeline.child.kill('SIGKILL')
    expect(code, pipeline.err()).not.toBe('hung')
    expect(took).toBeLessThan(5_000)
    expect(await leftovers(topic)).toEqual([])
  })

  test('--until end stops after the documented quiet period, and leaves nothing behind', async () => {
    const topic = await createTopic('quiet')
    const t0 = Date.now()
    const r = await run(['tail', topicUrl(topic), '--until', 'end'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(await leftovers(topic)).toEqual([])
  })

  test('--until <time>: a time to come follows until then and finishes what came before; a past one ends by itself', async () => {
    const topic = await createTopic('until-time')
    const tail = await startTail([
      topicUrl(topic),
      '--until',
      // Far enough ahead that a slow start (a busy machine) still publishes before it.
      new Date(Date.now() + 8_000).toISOString(),
      '-o',
      'raw',
    ])
    const pub = await run(['publish', topicUrl(topic)], {env: cli, input: 'a\nb\nc\n'})
    expect(pub.code, pub.stderr).toBe(0)
    expect(await tail.done, tail.err()).toBe(0)
    expect(lines(Buffer.from(tail.out())).sort(), tail.err()).toEqual(['a', 'b', 'c'])
    const past = await run(
      ['tail', topicUrl(topic), '--until', new Date(Date.now() - 60_000).toISOString()],
      {env: cli},
    )
    expect(past.code, past.stderr).toBe(0)
    expect(await leftovers(topic)).toEqual([])
  })

  test('--until is exclusive: a message published exactly at the --until time is not printed', async () => {
    const ps = testPubsub()
    try {
      const [topic] = await ps.createTopic({
        name: uniqueName('until-excl'),
        messageRetentionDuration: {seconds: 3_600},
      })
      const [probe] = await topic.createSubscription(uniqueName('until-excl-probe'))
      await topic.publishMessage({data: Buffer.from('before')})
      await new Promise((r) => setTimeout(r, 50))
      await topic.publishMessage({data: Buffer.from('at')})
      // The publish times as Pub/Sub stamped them (evtctl's times have millisecond precision).
      const times = new Map<string, Date>()
      await new Promise<void>((resolve) => {
        probe.on('message', (m) => {
          times.set(m.data.toString(), new Date(m.publishTime.getTime()))
          m.ack()
          if (times.size === 2) resolve()
        })
      })
      await probe.close()
      const at = times.get('at')!
      expect(at.getTime()).toBeGreaterThan(times.get('before')!.getTime())
      const r = await run(
        [
          'tail',
          topicUrl(topic.name.split('/').pop()!),
          '--from',
          new Date(at.getTime() - 60_000).toISOString(),
          '--until',
          at.toISOString(),
          '-o',
          'raw',
        ],
        {env: cli},
      )
      expect(r.code, r.stderr).toBe(0)
      expect(lines(r.stdout)).toEqual(['before'])
    } finally {
      await ps.close()
    }
  })

  test('a tail removes what crashed runs left (older than the 1-day expiry), and nothing younger', async () => {
    const ps = testPubsub()
    try {
      const [topic] = await ps.createTopic(uniqueName('orphans'))
      const [source] = await topic.createSubscription(uniqueName('orphans-src'))
      const stamp = (agoSeconds: number) =>
        `${Math.floor(Date.now() / 1000) - agoSeconds}-${uniqueName('x').slice(-8)}`
      const oldSub = `evtctl-tail-${stamp(2 * 86_400)}`
      const oldSnap = `evtctl-peek-${stamp(2 * 86_400)}`
      const youngSub = `evtctl-tail-${stamp(60)}` // another tail, running now
      await topic.createSubscription(oldSub)
      await topic.createSubscription(youngSub)
      await source.createSnapshot(oldSnap)
      const r = await run(['tail', topicUrl(topic.name.split('/').pop()!), '--until', 'end'], {env: cli})
      expect(r.code, r.stderr).toBe(0)
      const short = topic.name.split('/').pop()!
      const left = await leftovers(short)
      expect(left).not.toContain(oldSub)
      expect(left).not.toContain(oldSnap)
      expect(left).toContain(youngSub)
      await ps.subscription(youngSub).delete()
      expect(await leftovers(short)).toEqual([])
    } finally {
      await ps.close()
    }
  })

  test('binary data round-trips byte-exact through publish --input raw → tail', async () => {
    const topic = await createTopic('binary')
    const data = Buffer.from([0, 0xff, 0x0a, 0x80, 1])
    const j = await startTail([topicUrl(topic), '--max', '1', '-o', 'jsonl'])
    expect((await run(['publish', topicUrl(topic), '--input', 'raw'], {env: cli, input: data})).code).toBe(0)
    expect(await j.done).toBe(0)
    expect(JSON.parse(j.out()).value).toEqual({base64: data.toString('base64')})
  })

  test('messages Pub/Sub cannot carry are reported one by one, exit 7, the rest sent', async () => {
    const topic = await createTopic('partial')
    const input = [
      {v: 1, value: {utf8: 'ok'}},
      {v: 1, value: null},
      {v: 1, headers: [['bin', {base64: 'AP8='}]], value: {utf8: 'x'}},
    ]
      .map((e) => JSON.stringify(e))
      .join('\n')
    const r = await run(['publish', topicUrl(topic), '--input', 'jsonl', '--json'], {env: cli, input})
    expect(r.code).toBe(7)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      sent: 1,
      failed: [
        {index: 1, error: expect.stringMatching(/null value/)},
        {index: 2, error: expect.stringMatching(/attributes are text/)},
      ],
    })
  })

  test('a message over 10 MB is refused before sending (no minute of retries); exactly 10 MB is sent', async () => {
    const topic = await createTopic('size')
    const t0 = Date.now()
    const over = await run(['publish', topicUrl(topic), '--input', 'raw'], {
      env: cli,
      input: Buffer.alloc(10_000_001, 97),
    })
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(over.code, over.stderr).toBe(7)
    expect(over.stderr).toMatch(/10,000,001 bytes.*10 MB/)
    // The limit counts attributes and the ordering key too.
    const withAttr = await run(
      ['publish', topicUrl(topic), '--input', 'raw', '-H', 'a=b', '--ordering-key', 'k'],
      {env: cli, input: Buffer.alloc(9_999_998, 97)}, // + "a" + "b" + "k" = 10,000,001
    )
    expect(withAttr.code, withAttr.stderr).toBe(7)
    const at = await run(['publish', topicUrl(topic), '--input', 'raw'], {
      env: cli,
      input: Buffer.alloc(10_000_000, 97),
    })
    expect(at.code, at.stderr).toBe(0)
    expect(at.stderr).toMatch(/Published 1 message/)
  })

  test('peeking a subscription never touches it: same messages, no delivery attempt, nothing dead-lettered', async () => {
    const ps = testPubsub()
    try {
      // Topic retention: the emulator fills a new subscription only from retained messages, so a
      // snapshot seek has something to replay (GCP replays the snapshot itself; see README).
      const [topic] = await ps.createTopic({
        name: uniqueName('peek'),
        messageRetentionDuration: {seconds: 86_400},
      })
      const [dead] = await ps.createTopic(uniqueName('peek-dead'))
      const [deadSub] = await dead.createSubscription(uniqueName('peek-dead-sub'))
      const subName = uniqueName('peek-sub')
      await topic.createSubscription(subName, {
        deadLetterPolicy: {deadLetterTopic: dead.name, maxDeliveryAttempts: 5},
      })
      for (let i = 0; i < 30; i++) await topic.publishMessage({data: Buffer.from(`m${i}`)})
      // Five peeks would dead-letter everything if a peek counted as a delivery attempt.
      for (let i = 0; i < 5; i++) {
        const r = await run(['tail', subUrl(subName), '--until', 'end', '-o', 'raw'], {env: cli})
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).toMatch(/the subscription itself is not read/)
        expect(lines(r.stdout).sort()).toEqual(Array.from({length: 30}, (_, j) => `m${j}`).sort())
      }
      expect(await leftovers(topic.name.split('/').pop())).toEqual([])
      const seen = new Map<string, number>()
      const sub = ps.subscription(subName)
      await new Promise<void>((resolve) => {
        sub.on('message', (m) => {
          seen.set(m.data.toString(), m.deliveryAttempt)
          m.ack()
          if (seen.size === 30) resolve()
        })
      })
      await sub.close()
      expect(seen.size).toBe(30)
      expect([...seen.values()].every((attempt) => attempt === 1)).toBe(true)
      // Now acknowledged on the subscription: its backlog, and so a peek, is empty.
      const after = await run(['tail', subUrl(subName), '--until', 'end', '-o', 'raw'], {env: cli})
      expect(after.code, after.stderr).toBe(0)
      expect(after.stdout.toString()).toBe('')
      let deadLettered = 0
      deadSub.on('message', (m) => {
        deadLettered++
        m.ack()
      })
      await new Promise((r) => setTimeout(r, 1_500))
      await deadSub.close()
      expect(deadLettered).toBe(0)
    } finally {
      await ps.close()
    }
  }, 60_000)

  test('unknown topic or subscription is exit 5; --from an offset is exit 6', async () => {
    expect((await run(['tail', topicUrl(uniqueName('nope')), '--until', 'end'], {env: cli})).code).toBe(5)
    expect((await run(['tail', subUrl(uniqueName('nope')), '--until', 'end'], {env: cli})).code).toBe(5)
    expect((await run(['publish', topicUrl(uniqueName('nope')), 'x'], {env: cli})).code).toBe(5)
    expect((await run(['tail', topicUrl('x'), '--from', '-5'], {env: cli})).code).toBe(6)
  })
})
