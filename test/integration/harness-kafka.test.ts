import {Kafka, logLevel} from 'kafkajs'
import {describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {kafkaTool, kcatProduce} from '../brokers/peers.js'

const env = brokerEnv()

describe.skipIf(!env.KAFKA_BROKERS)('harness smoke: Kafka', () => {
  test('kcat produces keys, headers, binary and null values; kafkajs reads them back exactly', async () => {
    const topic = uniqueName('smoke')
    const created = await kafkaTool('TopicCommand', [
      '--bootstrap-server',
      env.KAFKA_BROKERS!,
      '--create',
      '--topic',
      topic,
      '--partitions',
      '2',
    ])
    expect(created.code, created.stderr).toBe(0)

    // Keys split off at ":"; an empty value after it is sent as NULL (a tombstone).
    const produced = await kcatProduce(
      env.KAFKA_BROKERS!,
      topic,
      {partition: 0, keyDelimiter: ':', emptyIsNull: true, headers: ['trace-id=abc', 'dup=1', 'dup=2']},
      'k1:{"id":1}\nk2:\n',
    )
    expect(produced.code, produced.stderr).toBe(0)

    const kafka = new Kafka({brokers: [env.KAFKA_BROKERS!], clientId: 'smoke', logLevel: logLevel.NOTHING})
    const consumer = kafka.consumer({groupId: uniqueName('smoke-group'), allowAutoTopicCreation: false})
    await consumer.connect()
    try {
      await consumer.subscribe({topic, fromBeginning: true})
      const got: Array<{
        key: string
        value: string | null
        headers: Record<string, unknown>
        partition: number
      }> = []
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${got.length} of 2 messages arrived`)), 30_000)
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({message, partition}) => {
              got.push({
                key: message.key!.toString(),
                value: message.value === null ? null : message.value.toString(),
                headers: Object.fromEntries(
                  Object.entries(message.headers ?? {}).map(([k, v]) => [
                    k,
                    Array.isArray(v) ? v.map(String) : String(v),
                  ]),
                ),
                partition,
              })
              if (got.length === 2) {
                clearTimeout(timer)
                resolve()
              }
            },
          })
          .catch(reject)
      })
      expect(got).toEqual([
        {key: 'k1', value: '{"id":1}', headers: {'trace-id': 'abc', dup: ['1', '2']}, partition: 0},
        {key: 'k2', value: null, headers: {'trace-id': 'abc', dup: ['1', '2']}, partition: 0},
      ])
    } finally {
      await consumer.disconnect()
    }
  })
})
