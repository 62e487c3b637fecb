import {describe} from 'vitest'
import {createSqsAdapter} from '../../src/adapters/sqs/sqs-adapter.js'
import {parseTarget} from '../../src/config/targets.js'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createQueue} from '../brokers/sqs.js'
import {describeBrokerContract} from '../contract/broker-contract.js'

const env = brokerEnv()

describe.skipIf(!env.SQS_ENDPOINT)('sqs', () => {
  describeBrokerContract('sqs (ElasticMQ)', () => ({
    open: async () => createSqsAdapter(parseTarget(`${env.SQS_ENDPOINT}/000000000000/contract`)),
    freshTarget: async () => parseTarget((await createQueue('contract')).url),
    missingTarget: async () => parseTarget(`${env.SQS_ENDPOINT}/000000000000/${uniqueName('missing')}`),
    // SQS has no positions: a browse lists what the queue hands out.
    readAll: {from: {kind: 'end'}, until: {kind: 'end'}, holdSeconds: 10},
    exceptions: {
      // No keys, no tombstones, no null or repeated attributes, no order on standard queues.
      noKeys: true,
      noTombstones: true,
      noNullHeaderValues: true,
      uniqueHeaderNames: true,
      unordered: true,
      headersByName: true,
    },
  }))
})
