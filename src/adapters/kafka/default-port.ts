import {createKafkajsPort, type KafkaConnection} from './kafkajs-port.js'
import {createPlatformaticGroups} from './platformatic-groups.js'
import {createPlatformaticProducer} from './platformatic-producer.js'
import type {KafkaPort} from './port.js'

/**
 * kafkajs for admin and consuming (the faster consumer here), @platformatic/kafka for producing
 * (2.8× faster, and it keeps header order and null header values). EVTCTL_KAFKA_PRODUCER=kafkajs
 * switches the producer back, for comparison (bench/kafka.sh).
 */
export function createKafkaPort(conn: KafkaConnection, env = process.env): KafkaPort {
  // The lag view's group reader is @platformatic/kafka's admin (batched per coordinator).
  const kafkajs = {...createKafkajsPort(conn), groups: () => createPlatformaticGroups(conn)}
  if (env.EVTCTL_KAFKA_PRODUCER === 'kafkajs') return kafkajs
  return {...kafkajs, producer: (opts) => createPlatformaticProducer(conn, opts)}
}
