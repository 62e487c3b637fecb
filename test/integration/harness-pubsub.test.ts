import {PubSub} from '@google-cloud/pubsub'
import {afterAll, describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'

const env = brokerEnv()

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)('harness smoke: Pub/Sub emulator', () => {
  // The client reads PUBSUB_EMULATOR_HOST; pass it explicitly so tests never depend on the shell.
  const [host, port] = (env.PUBSUB_EMULATOR_HOST ?? ':').split(':')
  // No GCE metadata server to ask on an emulator (else google-auth warns on stderr).
  process.env.METADATA_SERVER_DETECTION ??= 'none'
  const pubsub = new PubSub({
    projectId: env.PUBSUB_PROJECT_ID,
    apiEndpoint: `${host}:${port}`,
    emulatorMode: true,
  })
  afterAll(() => pubsub.close())

  test('publish/pull with attributes, and a dead-letter policy that moves a nacked message', async () => {
    const [topic] = await pubsub.createTopic(uniqueName('smoke'))
    const [deadTopic] = await pubsub.createTopic(uniqueName('smoke-dead'))
    const [deadSub] = await deadTopic.createSubscription(uniqueName('smoke-dead-sub'))
    const [sub] = await topic.createSubscription(uniqueName('smoke-sub'), {
      deadLetterPolicy: {deadLetterTopic: deadTopic.name, maxDeliveryAttempts: 5},
      ackDeadlineSeconds: 10,
    })
    await topic.publishMessage({data: Buffer.from([0, 1, 255]), attributes: {kind: 'order'}})

    let attempts = 0
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nacked ${attempts} times, never dead-lettered`)),
        45_000,
      )
      sub.on('message', (m) => {
        attempts++
        expect(Buffer.from(m.data)).toEqual(Buffer.from([0, 1, 255]))
        expect(m.attributes.kind).toBe('order')
        m.nack()
      })
      deadSub.on('message', (m) => {
        clearTimeout(timer)
        m.ack()
        expect(m.attributes.CloudPubSubDeadLetterSourceSubscription).toBe(sub.name.split('/').pop())
        expect(Number(m.attributes.CloudPubSubDeadLetterSourceDeliveryCount)).toBeGreaterThanOrEqual(5)
        resolve()
      })
      sub.on('error', reject)
      deadSub.on('error', reject)
    })
    await sub.close()
    await deadSub.close()
    expect(attempts).toBeGreaterThanOrEqual(5)
  })
})
