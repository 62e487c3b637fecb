import {describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createSubscription, createTopic, leftovers, testPubsub} from '../brokers/pubsub.js'
import {lines, run, sandboxEnv} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = {...sandboxEnv(), PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST}
const topicUrl = (t: string) => `pubsub://${env.PUBSUB_PROJECT_ID}/topics/${t}`
const subUrl = (s: string) => `pubsub://${env.PUBSUB_PROJECT_ID}/subscriptions/${s}`

/** What an independent subscriber pulls from `sub` within `ms` (acking nothing: it nacks all). */
async function pullAll(sub: string, ms = 3_000): Promise<string[]> {
  const ps = testPubsub()
  const got: string[] = []
  const s = ps.subscription(sub, {flowControl: {maxMessages: 1_000}})
  s.on('message', (m) => {
    got.push(m.data.toString())
    m.nack()
  })
  await new Promise((r) => setTimeout(r, ms))
  await s.close()
  await ps.close()
  return [...new Set(got)].sort()
}

async function publish(topic: string, bodies: string[]): Promise<void> {
  const ps = testPubsub()
  for (const b of bodies) await ps.topic(topic).publishMessage({data: Buffer.from(b)})
  await ps.close()
}

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)('pubsub: a consuming read of a subscription (#11)', () => {
  test('tail --consume --max 3 acks the 3 it printed, gives the rest back, and makes nothing', async () => {
    const topic = await createTopic('consume')
    const sub = await createSubscription(topic)
    const bodies = Array.from({length: 8}, (_, i) => `m${i}`)
    await publish(topic, bodies)
    const r = await run(['tail', subUrl(sub), '--consume', '--max', '3', '--until', 'end', '-o', 'raw'], {
      env: cli,
    })
    expect(r.code, r.stderr).toBe(0)
    const printed = lines(r.stdout).map(String)
    expect(printed).toHaveLength(3)
    expect(r.stderr).toMatch(/Consuming subscription/)
    expect(r.stderr).toMatch(/Acknowledged 3 message\(s\)/)
    // Right after exit, an independent subscriber gets exactly the other 5 (they were given back,
    // not left to expire: the pull would see none of them for 60 s otherwise).
    expect(await pullAll(sub)).toEqual(bodies.filter((b) => !printed.includes(b)).sort())
    // No snapshot and no temporary subscription: the subscription itself was read.
    expect(await leftovers(topic)).toEqual([])
  })

  test('a topic cannot be consumed: exit 6 before anything is made', async () => {
    const topic = await createTopic('consume-topic')
    const r = await run(['tail', topicUrl(topic), '--consume', '--until', 'end'], {env: cli})
    expect(r.code).toBe(6)
    expect(r.stderr).toMatch(/cannot honour --consume/)
    expect(await leftovers(topic)).toEqual([])
  })
})
