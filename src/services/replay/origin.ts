import type {Target} from '../../config/targets.js'
import {type Envelope, headerText} from '../../envelope/envelope.js'

/**
 * Where a dead letter came from, as a target to put it back to: SQS DeadLetterQueueSourceArn (same
 * endpoint and account), Kafka kafka_dlt-original-topic / __connect.errors.topic (same cluster),
 * the file broker's X.dlq.jsonl → X.jsonl. undefined when the message does not say.
 */
export function originOf(source: Target, env: Envelope): Target | undefined {
  switch (source.kind) {
    case 'file': {
      if (!source.path.endsWith('.dlq.jsonl')) return undefined
      const path = source.path.replace(/\.dlq\.jsonl$/, '.jsonl')
      return {kind: 'file', url: `file://${path}`, path, name: source.name.replace(/\.dlq$/, '')}
    }
    case 'kafka': {
      const topic = headerText(env, 'kafka_dlt-original-topic') ?? headerText(env, '__connect.errors.topic')
      if (!topic) return undefined
      return {...source, url: `kafka://${source.brokers.join(',')}/${topic}`, topics: [topic]}
    }
    case 'sqs': {
      const arn = (env.meta?.dlq as {sourceArn?: string} | undefined)?.sourceArn
      const m = arn ? /^arn:[^:]+:sqs:([^:]*):([^:]+):(.+)$/.exec(arn) : null
      if (!m) return undefined
      const [, region, account, name] = m as unknown as [string, string, string, string]
      const origin = source.queueUrl ? new URL(source.queueUrl).origin : source.endpoint
      const queueUrl = origin ? `${origin}/${account}/${name}` : undefined
      return {
        ...source,
        url: queueUrl ?? `sqs://${region || source.region}/${name}`,
        queueName: name,
        ...(queueUrl ? {queueUrl} : {queueUrl: undefined}),
        ...(region ? {region} : {}),
      }
    }
    case 'pubsub':
      // The source subscription is named; its topic needs a look-up (the adapter's originOf).
      return undefined
  }
}
