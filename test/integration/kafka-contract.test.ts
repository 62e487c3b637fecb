import {describe} from 'vitest'
import {createKafkaAdapter} from '../../src/adapters/kafka/kafka-adapter.js'
import {parseTarget} from '../../src/config/targets.js'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic} from '../brokers/kafka.js'
import {describeBrokerContract} from '../contract/broker-contract.js'

const env = brokerEnv()

describe.skipIf(!env.KAFKA_BROKERS)('kafka', () => {
  const url = (topic: string) => `kafka://${env.KAFKA_BROKERS}/${topic}`
  describeBrokerContract('kafka', () => ({
    open: async () => createKafkaAdapter(parseTarget(url('contract'))),
    freshTarget: async () => parseTarget(url(await createTopic('contract'))),
    missingTarget: async () => parseTarget(url(uniqueName('missing'))),
    readAll: {from: {kind: 'beginning'}, until: {kind: 'end'}},
    consumeWith: () => ({group: uniqueName('contract-consume')}),
  }))
})
