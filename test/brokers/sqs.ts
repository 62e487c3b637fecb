import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import {brokerEnv, uniqueName} from './env.js'

/** Test-side SQS helpers on the raw SDK (set-up and the peers' view); the adapter never creates queues. */
export function testSqs(): SQSClient {
  const env = brokerEnv()
  // As the adapter does: the Node 22 notice is for the team (see README), not for every test run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  return new SQSClient({
    endpoint: env.SQS_ENDPOINT,
    region: env.SQS_REGION,
    credentials: {accessKeyId: 'x', secretAccessKey: 'x'},
  })
}

export async function createQueue(
  prefix: string,
  attributes: Record<string, string> = {},
  fifo = false,
): Promise<{url: string; arn: string}> {
  const sqs = testSqs()
  try {
    const name = `${uniqueName(prefix)}${fifo ? '.fifo' : ''}`
    const {QueueUrl} = await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {...attributes, ...(fifo ? {FifoQueue: 'true'} : {})},
      }),
    )
    const a = await sqs.send(new GetQueueAttributesCommand({QueueUrl, AttributeNames: ['QueueArn']}))
    return {url: QueueUrl!, arn: a.Attributes!.QueueArn!}
  } finally {
    sqs.destroy()
  }
}

export async function fill(
  url: string,
  bodies: string[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  const sqs = testSqs()
  try {
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: bodies.slice(i, i + 10).map((b, j) => ({
            Id: String(j),
            MessageBody: b,
            MessageAttributes: {
              n: {DataType: 'Number', StringValue: String(i + j)},
              kind: {DataType: 'String', StringValue: 'test'},
            },
            ...extra,
          })),
        }),
      )
    }
  } finally {
    sqs.destroy()
  }
}

export async function counts(url: string): Promise<{visible: number; inFlight: number}> {
  const sqs = testSqs()
  try {
    const a = (await sqs.send(new GetQueueAttributesCommand({QueueUrl: url, AttributeNames: ['All']})))
      .Attributes!
    return {
      visible: Number(a.ApproximateNumberOfMessages),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible),
    }
  } finally {
    sqs.destroy()
  }
}

/** Receives everything visible once (a consumer's view; each held 30 s, so read once). */
/**
 * Everything visible in `url`, received once (an independent client's view). `deleting`: each
 * message is deleted once received — a FIFO queue hands out a group's next message only then.
 */
export async function receiveMessages(url: string, opts: {deleting?: boolean} = {}): Promise<Message[]> {
  const sqs = testSqs()
  const out: Message[] = []
  try {
    for (;;) {
      const r = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 30,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      )
      if (!r.Messages?.length) return out
      out.push(...r.Messages)
      if (opts.deleting)
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: r.Messages.map((m, i) => ({Id: String(i), ReceiptHandle: m.ReceiptHandle!})),
          }),
        )
    }
  } finally {
    sqs.destroy()
  }
}

/** Receives everything visible once (a consumer's view), returning receive counts by body. */
export async function receiveAll(url: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const m of await receiveMessages(url)) out.set(m.Body!, Number(m.Attributes?.ApproximateReceiveCount))
  return out
}
