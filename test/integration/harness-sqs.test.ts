import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import {afterAll, describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'

const env = brokerEnv()

describe.skipIf(!env.SQS_ENDPOINT)('harness smoke: ElasticMQ (SQS)', () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const sqs = new SQSClient({
    endpoint: env.SQS_ENDPOINT,
    region: env.SQS_REGION,
    credentials: {accessKeyId: 'x', secretAccessKey: 'x'},
  })
  afterAll(() => sqs.destroy())

  test('send/receive with attributes, and a redrive policy that moves a message to its DLQ', async () => {
    const dlq = await sqs.send(new CreateQueueCommand({QueueName: uniqueName('smoke-dlq')}))
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn']}))
    ).Attributes!.QueueArn!
    const main = await sqs.send(
      new CreateQueueCommand({
        QueueName: uniqueName('smoke'),
        Attributes: {
          RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlqArn, maxReceiveCount: 1}),
          VisibilityTimeout: '1',
        },
      }),
    )
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: main.QueueUrl,
        MessageBody: '{"id":1}',
        MessageAttributes: {
          kind: {DataType: 'String', StringValue: 'order'},
          bin: {DataType: 'Binary', BinaryValue: Buffer.from([0, 255])},
        },
      }),
    )
    const first = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: main.QueueUrl,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        WaitTimeSeconds: 2,
      }),
    )
    expect(first.Messages).toHaveLength(1)
    const m = first.Messages![0]!
    expect(m.Body).toBe('{"id":1}')
    expect(m.MessageAttributes?.kind?.StringValue).toBe('order')
    expect(Buffer.from(m.MessageAttributes!.bin!.BinaryValue!)).toEqual(Buffer.from([0, 255]))
    expect(m.Attributes?.ApproximateReceiveCount).toBe('1')

    // Not deleted: after the visibility timeout, the next receive exceeds maxReceiveCount and moves it.
    await new Promise((r) => setTimeout(r, 1500))
    const second = await sqs.send(new ReceiveMessageCommand({QueueUrl: main.QueueUrl, WaitTimeSeconds: 1}))
    expect(second.Messages ?? []).toHaveLength(0)
    const dead = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq.QueueUrl,
        WaitTimeSeconds: 2,
        MessageSystemAttributeNames: ['All'],
      }),
    )
    expect(dead.Messages?.map((x) => x.Body)).toEqual(['{"id":1}'])
  })
})
