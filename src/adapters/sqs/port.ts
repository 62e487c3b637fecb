import type {
  CancelMessageMoveTaskCommandInput,
  CancelMessageMoveTaskCommandOutput,
  ChangeMessageVisibilityBatchCommandInput,
  ChangeMessageVisibilityBatchCommandOutput,
  DeleteMessageBatchCommandInput,
  DeleteMessageBatchCommandOutput,
  GetQueueAttributesCommandInput,
  GetQueueAttributesCommandOutput,
  GetQueueUrlCommandInput,
  GetQueueUrlCommandOutput,
  ListDeadLetterSourceQueuesCommandInput,
  ListDeadLetterSourceQueuesCommandOutput,
  ListMessageMoveTasksCommandInput,
  ListMessageMoveTasksCommandOutput,
  ListQueuesCommandInput,
  ListQueuesCommandOutput,
  ReceiveMessageCommandInput,
  ReceiveMessageCommandOutput,
  SendMessageBatchCommandInput,
  SendMessageBatchCommandOutput,
  StartMessageMoveTaskCommandInput,
  StartMessageMoveTaskCommandOutput,
} from '@aws-sdk/client-sqs'

/**
 * How long one call may take: `abortSignal` ends it (all its attempts), `requestTimeout` bounds
 * each HTTP attempt. Every call the adapter makes passes both (see sqs-adapter `bounded`).
 */
export interface CallOptions {
  abortSignal?: AbortSignal
  requestTimeout?: number
}

/** The SQS calls the adapter makes, and no others (add one when a feature needs it). */
export interface SqsPort {
  getQueueUrl(i: GetQueueUrlCommandInput, o?: CallOptions): Promise<GetQueueUrlCommandOutput>
  getQueueAttributes(
    i: GetQueueAttributesCommandInput,
    o?: CallOptions,
  ): Promise<GetQueueAttributesCommandOutput>
  /**
   * Long polls for up to WaitTimeSeconds. Not aborted on Ctrl-C before the poll's own length: a
   * poll the client gives up stays open on the server, which can still receive a message into it
   * (see sqs-adapter browse). Only a server that does not answer at all gets it given up.
   */
  receiveMessage(i: ReceiveMessageCommandInput, o?: CallOptions): Promise<ReceiveMessageCommandOutput>
  /** Partially fails: check Failed[] per entry. */
  sendMessageBatch(i: SendMessageBatchCommandInput, o?: CallOptions): Promise<SendMessageBatchCommandOutput>
  /** Partially fails: check Failed[] per entry. */
  deleteMessageBatch(
    i: DeleteMessageBatchCommandInput,
    o?: CallOptions,
  ): Promise<DeleteMessageBatchCommandOutput>
  /** Partially fails: check Failed[] per entry. */
  changeMessageVisibilityBatch(
    i: ChangeMessageVisibilityBatchCommandInput,
    o?: CallOptions,
  ): Promise<ChangeMessageVisibilityBatchCommandOutput>
  /** One page (up to MaxResults, 1,000 at most); NextToken for the next. */
  listQueues(i: ListQueuesCommandInput, o?: CallOptions): Promise<ListQueuesCommandOutput>
  listDeadLetterSourceQueues(
    i: ListDeadLetterSourceQueuesCommandInput,
    o?: CallOptions,
  ): Promise<ListDeadLetterSourceQueuesCommandOutput>
  listMessageMoveTasks(
    i: ListMessageMoveTasksCommandInput,
    o?: CallOptions,
  ): Promise<ListMessageMoveTasksCommandOutput>
  startMessageMoveTask(
    i: StartMessageMoveTaskCommandInput,
    o?: CallOptions,
  ): Promise<StartMessageMoveTaskCommandOutput>
  cancelMessageMoveTask(
    i: CancelMessageMoveTaskCommandInput,
    o?: CallOptions,
  ): Promise<CancelMessageMoveTaskCommandOutput>
  destroy(): void
}
