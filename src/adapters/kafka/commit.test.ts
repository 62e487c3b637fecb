import {describe, expect, test} from 'vitest'
import {GroupCommitter} from './commit.js'
import type {KafkaFetcherPort} from './port.js'

/** A fetcher whose only working call is commitOffsets, recording what was committed. */
function fakeFetcher(fail = false) {
  const commits: Array<Array<{topic: string; partition: number; offset: string}>> = []
  const fetcher = {
    commitOffsets: async (
      _group: string,
      offsets: Array<{topic: string; partition: number; offset: string}>,
    ) => {
      if (fail)
        throw Object.assign(new Error('The coordinator is not aware of this member'), {
          type: 'UNKNOWN_MEMBER_ID',
        })
      commits.push(offsets)
    },
  } as unknown as KafkaFetcherPort
  return {fetcher, commits}
}
const where = () => ({brokers: ['b:9092']})

describe('GroupCommitter', () => {
  test('acks out of order commit in order: an ack waits for the ones before it; gaps in offsets are fine', async () => {
    const {fetcher, commits} = fakeFetcher()
    const c = new GroupCommitter(fetcher, 'g', where)
    // Offsets 10, 11, 15 (a transaction marker or compaction left a gap).
    const [a, b, d] = ['10', '11', '15'].map((o) => c.delivered('t', 0, o))
    let dDone = false
    const dAck = d!().then(() => (dDone = true))
    await new Promise((r) => setTimeout(r, 20))
    expect(dDone).toBe(false)
    expect(commits).toEqual([])
    await Promise.all([a!(), b!(), dAck])
    expect(commits.at(-1)).toEqual([{topic: 't', partition: 0, offset: '16'}])
    expect(
      await c
        .delivered('t', 0, '16')()
        .then(() => commits.at(-1)),
    ).toEqual([{topic: 't', partition: 0, offset: '17'}])
  })

  test('acks arriving together go in one commit, one offset per partition; ack() is idempotent', async () => {
    const {fetcher, commits} = fakeFetcher()
    const c = new GroupCommitter(fetcher, 'g', where)
    const acks = [c.delivered('t', 0, '0'), c.delivered('t', 1, '7'), c.delivered('t', 0, '1')]
    await Promise.all([...acks.map((a) => a()), acks[0]!()])
    expect(commits).toHaveLength(1)
    expect(commits[0]).toEqual(
      expect.arrayContaining([
        {topic: 't', partition: 0, offset: '2'},
        {topic: 't', partition: 1, offset: '8'},
      ]),
    )
  })

  test('a refused commit rejects the acks it covered (NOT_ACKNOWLEDGED) and says so', async () => {
    const {fetcher} = fakeFetcher(true)
    const events: string[] = []
    const c = new GroupCommitter(fetcher, 'g', where, (e) => events.push(e.code))
    await expect(c.delivered('t', 0, '0')()).rejects.toMatchObject({code: 'NOT_ACKNOWLEDGED', exitCode: 7})
    expect(events).toEqual(['NOT_ACKNOWLEDGED'])
  })

  test('an ack still waiting when the read ends is rejected, not left hanging', async () => {
    const {fetcher} = fakeFetcher()
    const c = new GroupCommitter(fetcher, 'g', where)
    c.delivered('t', 0, '0')
    const second = c.delivered('t', 0, '1')()
    await c.drainWithin(50)
    await expect(second).rejects.toMatchObject({code: 'NOT_ACKNOWLEDGED'})
  })
})
