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

/** Creates a topic named `prefix`-…, with topic-level settings (`configs`) when given. */
export async function createTopic(
  prefix: string,
  partitions = 1,
  configs: Record<string, string> = {},
): Promise<string> {
  const topic = uniqueName(prefix)
  const admin = testKafka().admin()
  await admin.connect()
  try {
    const configEntries = Object.entries(configs).map(([name, value]) => ({name, value}))
    await admin.createTopics({
      topics: [{topic, numPartitions: partitions, ...(configEntries.length ? {configEntries} : {})}],
      waitForLeaders: true,
    })
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

/** The major version of the harness's Kafka (4 unless EVTCTL_KAFKA_VERSION chose 3.x). */
export function kafkaMajorVersion(): number {
  return Number((brokerEnv().KAFKA_VERSION ?? '3').split('.')[0])
}
