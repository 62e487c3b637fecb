#!/usr/bin/env node
// kafkajs vs @platformatic/kafka on the same machine, broker and data, in one run: produce N × 200 B
// (batches of 1000, 4 in flight, acks=all) and consume them back (no commits). Each client runs
// the same loop shape, so the ratio says how much the client itself costs.
// Usage: . .brokers/env && node bench/kafka-clients.mjs [count]
import {randomUUID} from 'node:crypto'
import {Admin, Consumer, MessagesStreamModes, Producer} from '@platformatic/kafka'
import {Kafka, logLevel, Partitioners} from 'kafkajs'

const brokers = process.env.KAFKA_BROKERS
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run npm run brokers -- up kafka && . .brokers/env')
const count = Number(process.argv[2] ?? 1_000_000)
const value = Buffer.alloc(200, 'x')
const BATCH = 1000
const IN_FLIGHT = 4

async function createTopic(name) {
  const admin = new Admin({clientId: 'bench', bootstrapBrokers: [brokers]})
  await admin.createTopics({topics: [name], partitions: 3, replicas: 1})
  await admin.close()
}

async function pipelined(sendBatch) {
  const inFlight = new Set()
  for (let i = 0; i < count; i += BATCH) {
    const n = Math.min(BATCH, count - i)
    const p = sendBatch(n).finally(() => inFlight.delete(p))
    inFlight.add(p)
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
}

async function kafkajsProduce(topic) {
  const kafka = new Kafka({brokers: [brokers], clientId: 'bench', logLevel: logLevel.NOTHING})
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  })
  await producer.connect()
  await pipelined((n) => producer.send({topic, acks: -1, messages: Array.from({length: n}, () => ({value}))}))
  await producer.disconnect()
}

async function platformaticProduce(topic) {
  const producer = new Producer({
    clientId: 'bench',
    bootstrapBrokers: [brokers],
    acks: -1,
    autocreateTopics: false,
  })
  await pipelined((n) => producer.send({messages: Array.from({length: n}, () => ({topic, value}))}))
  await producer.close()
}

async function kafkajsConsume(topic) {
  const kafka = new Kafka({brokers: [brokers], clientId: 'bench', logLevel: logLevel.NOTHING})
  const consumer = kafka.consumer({
    groupId: `bench-${randomUUID()}`,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 256 * 1024,
    maxBytes: 1024 * 1024,
  })
  await consumer.connect()
  await consumer.subscribe({topics: [topic], fromBeginning: true})
  let seen = 0
  await new Promise((resolve) => {
    consumer.run({
      autoCommit: false,
      eachBatch: async ({batch}) => {
        seen += batch.messages.length
        if (seen >= count) resolve()
      },
    })
  })
  await consumer.disconnect()
}

async function platformaticConsume(topic) {
  const consumer = new Consumer({
    groupId: `bench-${randomUUID()}`,
    clientId: 'bench',
    bootstrapBrokers: [brokers],
    maxWaitTime: 100,
    maxBytes: 1024 * 1024,
  })
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  })
  let seen = 0
  for await (const _ of stream) {
    if (++seen >= count) break
  }
  await stream.close()
  await consumer.close(true)
}

async function time(label, fn) {
  const t0 = performance.now()
  await fn()
  const s = (performance.now() - t0) / 1000
  console.log(`${label.padEnd(28)} ${s.toFixed(2)} s  ${Math.round(count / s).toLocaleString('en')} msg/s`)
  return s
}

const a = `bench-kafkajs-${randomUUID().slice(0, 8)}`
const b = `bench-platformatic-${randomUUID().slice(0, 8)}`
await createTopic(a)
await createTopic(b)
console.log(
  `${count.toLocaleString('en')} × 200 B, 3 partitions, batches of ${BATCH}, ${IN_FLIGHT} in flight`,
)
const kp = await time('kafkajs produce', () => kafkajsProduce(a))
const pp = await time('@platformatic/kafka produce', () => platformaticProduce(b))
const kc = await time('kafkajs consume', () => kafkajsConsume(a))
const pc = await time('@platformatic/kafka consume', () => platformaticConsume(b))
console.log(`platformatic/kafkajs speed: produce ${(kp / pp).toFixed(2)}×, consume ${(kc / pc).toFixed(2)}×`)
process.exit(0)
