import {describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic, testKafka} from '../brokers/kafka.js'
import {lines, run, sandboxEnv} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = sandboxEnv()
const url = (t: string) => `kafka://${env.KAFKA_BROKERS}/${t}`

async function produce(topic: string, partitions: number, count: number): Promise<void> {
  const p = testKafka().producer()
  await p.connect()
  await p.send({
    topic,
    messages: Array.from({length: count}, (_, i) => ({value: `m${i}`, partition: i % partitions})),
  })
  await p.disconnect()
}

/** The group's committed offsets, read by an independent client: partition → offset. */
async function committed(group: string, topic: string): Promise<Record<number, string>> {
  const admin = testKafka().admin()
  await admin.connect()
  try {
    const [t] = await admin.fetchOffsets({groupId: group, topics: [topic]})
    return Object.fromEntries(t!.partitions.map((p) => [p.partition, p.offset]))
  } finally {
    await admin.disconnect()
  }
}

describe.skipIf(!env.KAFKA_BROKERS)('kafka: a consuming read records progress in a group (#11)', () => {
  test('tail --consume --group takes what it printed; the next one goes on from there', async () => {
    const topic = await createTopic('consume', 2)
    await produce(topic, 2, 10)
    const group = uniqueName('g')
    const first = await run(
      [
        'tail',
        url(topic),
        '--from',
        'beginning',
        '--until',
        'end',
        '--consume',
        '--group',
        group,
        '--max',
        '4',
        '-o',
        'raw',
      ],
      {env: cli},
    )
    expect(first.code, first.stderr).toBe(0)
    expect(lines(first.stdout)).toHaveLength(4)
    // Right after exit, an independent client sees commits covering exactly the 4 printed.
    const c = await committed(group, topic)
    const taken = (o: string | undefined) => Math.max(0, Number(o ?? -1)) // -1: never committed
    expect(taken(c[0]) + taken(c[1])).toBe(4)
    const rest = await run(
      [
        'tail',
        url(topic),
        '--from',
        'beginning',
        '--until',
        'end',
        '--consume',
        '--group',
        group,
        '-o',
        'raw',
      ],
      {env: cli},
    )
    expect(rest.code, rest.stderr).toBe(0)
    const all = [...lines(first.stdout), ...lines(rest.stdout)].map(String).sort()
    expect(all).toEqual(Array.from({length: 10}, (_, i) => `m${i}`).sort())
    expect(await committed(group, topic)).toEqual({0: '5', 1: '5'})
  })

  test('--consume without --group is exit 2; --group without --consume too; nothing committed', async () => {
    const topic = await createTopic('consume-usage')
    const a = await run(['tail', url(topic), '--until', 'end', '--consume'], {env: cli})
    expect(a.code).toBe(2)
    expect(a.stderr).toMatch(/--group/)
    const b = await run(['tail', url(topic), '--until', 'end', '--group', 'x'], {env: cli})
    expect(b.code).toBe(2)
    expect(b.stderr).toMatch(/--consume/)
  })

  test('a group with a running consumer is not committed to: exit 7, the message says why', async () => {
    const topic = await createTopic('consume-busy')
    await produce(topic, 1, 3)
    const group = uniqueName('busy')
    const consumer = testKafka().consumer({groupId: group})
    await consumer.connect()
    await consumer.subscribe({topics: [topic], fromBeginning: false})
    // Joined and stable, consuming nothing it commits (auto-commit off, nothing new arrives).
    await consumer.run({autoCommit: false, eachMessage: async () => {}})
    await new Promise((r) => setTimeout(r, 3_000))
    try {
      const r = await run(
        [
          'tail',
          url(topic),
          '--from',
          'beginning',
          '--until',
          'end',
          '--consume',
          '--group',
          group,
          '-o',
          'raw',
        ],
        {env: cli},
      )
      expect(r.code, r.stderr).toBe(7)
      expect(r.stderr).toMatch(/no active members|running consumers/)
    } finally {
      await consumer.disconnect()
    }
  })
})
