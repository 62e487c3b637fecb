import {Kafka, logLevel} from 'kafkajs'
import {brokerEnv, uniqueName} from './env.js'

/** Test-side Kafka helpers (topic set-up, peers' view); the adapter under test never creates topics. */
export function testKafka(): Kafka {
  return new Kafka({
    brokers: [brokerEnv().KAFKA_BROKERS!],
    clientId: 'evtctl-tests',
    logLevel: logLevel.NOTHING,
  })
}

export async function createTopic(prefix: string, partitions = 1): Promise<string> {
  const topic = uniqueName(prefix)
  const admin = testKafka().admin()
  await admin.connect()
  try {
    await admin.createTopics({topics: [{topic, numPartitions: partitions}], waitForLeaders: true})
  } finally {
    await admin.disconnect()
  }
  return topic
}

export async function listTopics(): Promise<string[]> {
  const admin = testKafka().admin()
  await admin.connect()
  try {
    return await admin.listTopics()
  } finally {
    await admin.disconnect()
  }
}
