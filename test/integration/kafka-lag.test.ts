import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {kafkaConnection} from '../../src/adapters/kafka/connection.js'
import {createKafkaPort} from '../../src/adapters/kafka/default-port.js'
import {createKafkaAdapter} from '../../src/adapters/kafka/kafka-adapter.js'
import type {KafkaPort} from '../../src/adapters/kafka/port.js'
import type {GroupLag} from '../../src/adapters/types.js'
import {parseTarget} from '../../src/config/targets.js'
import {InterruptedError, NotFoundError} from '../../src/errors.js'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic, testKafka} from '../brokers/kafka.js'

const env = brokerEnv()

/** The real port, counting the fetchers it hands out (nothing is faked: every call goes to the broker). */
function countingPort(url: string): {port: KafkaPort; fetchers: () => number} {
  const t = parseTarget(url)
  if (t.kind !== 'kafka') throw new Error('not kafka')
  const real = createKafkaPort(kafkaConnection(t, {}))
  let fetchers = 0
  return {
    port: {
      ...real,
      fetcher: () => {
        fetchers++
        return real.fetcher()
      },
    },
    fetchers: () => fetchers,
  }
}

describe.skipIf(!env.KAFKA_BROKERS)('kafka lag: signal and batching', () => {
  const url = (topic: string) => `kafka://${env.KAFKA_BROKERS}/${topic}`
  // Two topics under one prefix (a pattern names both), two groups.
  const prefix = uniqueName('lagmulti')
  let a = ''
  let b = ''
  const g1 = uniqueName('lag-g1')
  const g2 = uniqueName('lag-g2')
  const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()

  beforeAll(async () => {
    a = await createTopic(`${prefix}-a`, 2)
    b = await createTopic(`${prefix}-b`, 1)
    const kafka = testKafka()
    const producer = kafka.producer()
    await producer.connect()
    // a: partition 0 gets minutes 0..3, partition 1 minutes 10..11; b: minutes 20..24.
    const msgs = (topic: string, partition: number, minutes: number[]) => ({
      topic,
      messages: minutes.map((m) => ({partition, value: `m${m}`, timestamp: String(Date.parse(at(m)))})),
    })
    await producer.sendBatch({
      topicMessages: [msgs(a, 0, [0, 1, 2, 3]), msgs(a, 1, [10, 11]), msgs(b, 0, [20, 21, 22, 23, 24])],
    })
    await producer.disconnect()
    const admin = kafka.admin()
    await admin.connect()
    // g1 committed on both topics; g2 on b only.
    await admin.setOffsets({groupId: g1, topic: a, partitions: [{partition: 0, offset: '2'}]})
    await admin.setOffsets({groupId: g1, topic: b, partitions: [{partition: 0, offset: '5'}]})
    await admin.setOffsets({groupId: g2, topic: b, partitions: [{partition: 0, offset: '1'}]})
    await admin.disconnect()
  })

  const pattern = () => url(`^${prefix}-.*`)
  let adapters: Array<{close(): Promise<void>}> = []
  afterAll(async () => {
    for (const x of adapters) await x.close()
    adapters = []
  })

  test('one call covers several topics and groups, with one fetcher', async () => {
    const {port, fetchers} = countingPort(pattern())
    const adapter = createKafkaAdapter(parseTarget(pattern()), {}, port)
    adapters.push(adapter)
    const rows = (await adapter.lag(parseTarget(pattern()))).filter((r) => r.group === g1 || r.group === g2)
    const sorted = (xs: GroupLag[]) =>
      [...xs].sort(
        (x, y) =>
          x.group.localeCompare(y.group) || x.topic!.localeCompare(y.topic!) || x.partition - y.partition,
      )
    const expected: GroupLag[] = [
      {
        group: g1,
        topic: a,
        partition: 0,
        committed: '2',
        end: '4',
        lag: '2',
        committedTimestamp: at(1),
        latestTimestamp: at(3),
      },
      {group: g1, topic: a, partition: 1, end: '2', latestTimestamp: at(11)},
      {
        group: g1,
        topic: b,
        partition: 0,
        committed: '5',
        end: '5',
        lag: '0',
        committedTimestamp: at(24),
        latestTimestamp: at(24),
      },
      {
        group: g2,
        topic: b,
        partition: 0,
        committed: '1',
        end: '5',
        lag: '4',
        committedTimestamp: at(20),
        latestTimestamp: at(24),
      },
    ]
    expect(sorted(rows)).toEqual(sorted(expected))
    // Every topic and group of the call shared one fetcher (one set of Fetch requests per broker).
    expect(fetchers()).toBe(1)

    // With a group named: every topic the pattern matches, committed there or not.
    const named = await adapter.lag(parseTarget(pattern()), g2)
    expect(sorted(named)).toEqual(
      sorted([
        {group: g2, topic: a, partition: 0, end: '4', latestTimestamp: at(3)},
        {group: g2, topic: a, partition: 1, end: '2', latestTimestamp: at(11)},
        expected[3]!,
      ]),
    )
    expect(fetchers()).toBe(2)
  })

  test('an aborted signal rejects at once with its reason, and the adapter stays usable', async () => {
    const adapter = createKafkaAdapter(parseTarget(pattern()))
    adapters.push(adapter)
    const target = parseTarget(pattern())

    const before = new AbortController()
    before.abort(new InterruptedError())
    let t0 = Date.now()
    await expect(adapter.lag(target, g1, before.signal)).rejects.toBeInstanceOf(InterruptedError)
    expect(Date.now() - t0).toBeLessThan(100)

    // Aborted while the call is under way (a dashboard's refresh that took too long).
    const during = new AbortController()
    t0 = Date.now()
    const pending = adapter.lag(target, undefined, during.signal)
    setTimeout(() => during.abort(new InterruptedError()), 5)
    await expect(pending).rejects.toBeInstanceOf(InterruptedError)
    expect(Date.now() - t0).toBeLessThan(500)

    // The next refresh works on the same adapter.
    const rows = await adapter.lag(target, g2, AbortSignal.timeout(10_000))
    expect(rows.filter((r) => r.topic === b)).toEqual([
      {
        group: g2,
        topic: b,
        partition: 0,
        committed: '1',
        end: '5',
        lag: '4',
        committedTimestamp: at(20),
        latestTimestamp: at(24),
      },
    ])
  })

  test('a missing topic among several is named (exit 5)', async () => {
    const missing = uniqueName('lag-missing')
    const target = parseTarget(url(`${a},${missing}`))
    const adapter = createKafkaAdapter(target)
    adapters.push(adapter)
    const err = await adapter.lag(target, g1).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NotFoundError)
    expect((err as Error).message).toContain(`"${missing}"`)
  })
})
