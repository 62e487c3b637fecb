import {describe} from 'vitest'
import {createPubsubAdapter} from '../../src/adapters/pubsub/pubsub-adapter.js'
import {parseTarget} from '../../src/config/targets.js'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createSubscription, createTopic} from '../brokers/pubsub.js'
import {describeBrokerContract} from '../contract/broker-contract.js'

const env = brokerEnv()
// The adapter finds the emulator as a user's shell would: through PUBSUB_EMULATOR_HOST.
if (env.PUBSUB_EMULATOR_HOST) process.env.PUBSUB_EMULATOR_HOST = env.PUBSUB_EMULATOR_HOST

describe.skipIf(!env.PUBSUB_EMULATOR_HOST)('pubsub', () => {
  const url = (topic: string) => `pubsub://${env.PUBSUB_PROJECT_ID}/topics/${topic}`
  describeBrokerContract('pubsub (emulator)', () => ({
    open: async () => createPubsubAdapter(parseTarget(url('contract'))),
    freshTarget: async () => parseTarget(url(await createTopic('contract', 86_400))),
    // Read back through a subscription, peeked (a snapshot and a temporary subscription each time).
    backlogOf: async (target) => {
      const topic = (target as {name: string}).name
      return parseTarget(`pubsub://${env.PUBSUB_PROJECT_ID}/subscriptions/${await createSubscription(topic)}`)
    },
    missingTarget: async () => parseTarget(url(uniqueName('missing'))),
    readAll: {from: {kind: 'end'}, until: {kind: 'end'}},
    exceptions: {
      // No keys, no tombstones, attributes are unique text sorted by name; a topic tail is live.
      noKeys: true,
      noTombstones: true,
      noNullHeaderValues: true,
      uniqueHeaderNames: true,
      headersByName: true,
      textHeadersOnly: true,
      liveOnly: true,
    },
  }))
})
