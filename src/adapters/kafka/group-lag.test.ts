import {describe, expect, test} from 'vitest'
import {parseTarget} from '../../config/targets.js'
import {createKafkaAdapter} from './kafka-adapter.js'
import type {KafkaFetcherPort, KafkaGroupsPort, KafkaPort} from './port.js'

/** A cluster of one topic `orders` (2 partitions, offsets 10–20) and the groups given. */
function fakePort(groups: Array<{group: string; type: string; committed: Record<number, string>}>): {
  port: KafkaPort
  fetched: string[][]
} {
  const fetched: string[][] = []
  const gp: KafkaGroupsPort = {
    listGroups: async () =>
      groups.map((g) => ({group: g.group, state: 'STABLE', type: g.type, protocolType: 'consumer'})),
    describeGroups: async (ids) =>
      new Map(
        ids.map((id) => [
          id,
          {
            state: 'STABLE',
            protocolType: 'consumer',
            members: [{id: 'm', clientId: 'c', host: 'h', assigned: new Map([['orders', [0, 1]]])}],
          },
        ]),
      ),
    committedOffsets: async (ids) =>
      new Map(
        ids.map((id) => {
          const c = groups.find((g) => g.group === id)!.committed
          return [
            id,
            [
              {
                topic: 'orders',
                partitions: Object.entries(c).map(([p, offset]) => ({partition: Number(p), offset})),
              },
            ],
          ]
        }),
      ),
    listOffsets: async () =>
      new Map([['orders', [0, 1].map((partition) => ({partition, low: '10', high: '20'}))]]),
    partitions: async (topics) => new Map(topics.filter((t) => t === 'orders').map((t) => [t, [0, 1]])),
    close: async () => {},
  }
  const fetcher: KafkaFetcherPort = {
    connect: async () => {},
    disconnect: async () => {},
    // Offset n has timestamp n seconds after the epoch.
    fetch: async (positions) => {
      fetched.push(positions.map((p) => `${p.partition}@${p.offset}`))
      return positions.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        messages: [{key: null, value: null, offset: p.offset, timestamp: String(Number(p.offset) * 1000)}],
        nextOffset: String(Number(p.offset) + 1),
        highWatermark: '20',
      }))
    },
    listOffsets: async () => new Map(),
    commitOffsets: async () => {},
  }
  const port = {
    admin: () => {
      throw new Error('the lag reader does not use the kafkajs admin')
    },
    fetcher: () => fetcher,
    producer: () => {
      throw new Error('no producer')
    },
    groups: () => gp,
  } as unknown as KafkaPort
  return {port, fetched}
}

describe('kafkaLagReader (fake port)', () => {
  test('time lag is read at the committed offset, or the earliest left when retention deleted it; one fetch for all', async () => {
    const {port, fetched} = fakePort([{group: 'a', type: 'classic', committed: {0: '15', 1: '4'}}])
    const t = {...parseTarget('kafka://h:9092/x'), topics: []} as ReturnType<typeof parseTarget>
    const raw = await createKafkaAdapter(t, {}, port).lagReader(t, {}).poll(AbortSignal.timeout(1000))
    expect(fetched).toEqual([['0@15', '1@10']])
    expect(raw.kind === 'kafka' && raw.groups[0]!.topics[0]!.partitions).toEqual([
      {partition: 0, committed: '15', end: '20', low: '10', oldestUnconsumedMs: 15_000},
      {partition: 1, committed: '4', end: '20', low: '10', oldestUnconsumedMs: 10_000},
    ])
  })

  test('a KIP-848 group is shown with its offsets and members null with the reason, not dropped', async () => {
    const {port} = fakePort([
      {group: 'classic-one', type: 'classic', committed: {0: '20'}},
      {group: 'new-one', type: 'consumer', committed: {0: '12'}},
    ])
    const t = parseTarget('kafka://h:9092/orders')
    const raw = await createKafkaAdapter(t, {}, port).lagReader(t, {}).poll(AbortSignal.timeout(1000))
    if (raw.kind !== 'kafka') throw new Error('kafka expected')
    const kip = raw.groups.find((g) => g.group === 'new-one')!
    expect(kip.members).toBeNull()
    expect(kip.note).toMatch(/KIP-848/)
    expect(kip.topics[0]!.partitions[0]!.committed).toBe('12')
    expect(raw.groups.find((g) => g.group === 'classic-one')!.members).toBe(1)
  })
})
