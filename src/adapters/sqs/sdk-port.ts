import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type SQSClientConfig,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs'
import type {SqsPort} from './port.js'

/** The @aws-sdk/client-sqs implementation of the port. */
export function createSdkPort(config: SQSClientConfig): SqsPort {
  // The SDK warns on every run under Node 20 that its 2027 releases need Node 22: a note for
  // evtctl's maintainers (see the README), not something a user of the CLI can act on.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const client = new SQSClient(config)
  return {
    getQueueUrl: (i, o) => client.send(new GetQueueUrlCommand(i), o),
    getQueueAttributes: (i, o) => client.send(new GetQueueAttributesCommand(i), o),
    receiveMessage: (i, o) => client.send(new ReceiveMessageCommand(i), o),
    sendMessageBatch: (i, o) => client.send(new SendMessageBatchCommand(i), o),
    deleteMessageBatch: (i, o) => client.send(new DeleteMessageBatchCommand(i), o),
    changeMessageVisibilityBatch: (i, o) => client.send(new ChangeMessageVisibilityBatchCommand(i), o),
    listQueues: (i, o) => client.send(new ListQueuesCommand(i), o),
    listDeadLetterSourceQueues: (i, o) => client.send(new ListDeadLetterSourceQueuesCommand(i), o),
    listMessageMoveTasks: (i, o) => client.send(new ListMessageMoveTasksCommand(i), o),
    startMessageMoveTask: (i, o) => client.send(new StartMessageMoveTaskCommand(i), o),
    cancelMessageMoveTask: (i, o) => client.send(new CancelMessageMoveTaskCommand(i), o),
    destroy: () => client.destroy(),
  }
}
