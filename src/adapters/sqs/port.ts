import type {
  ChangeMessageVisibilityBatchCommandInput,
  ChangeMessageVisibilityBatchCommandOutput,
  DeleteMessageBatchCommandInput,
  DeleteMessageBatchCommandOutput,
  GetQueueAttributesCommandInput,
  GetQueueAttributesCommandOutput,
  GetQueueUrlCommandInput,
  GetQueueUrlCommandOutput,
  ReceiveMessageCommandInput,
  ReceiveMessageCommandOutput,
  SendMessageBatchCommandInput,
  SendMessageBatchCommandOutput,
} from '@aws-sdk/client-sqs'

/** The SQS calls the adapter makes, and no others (add one when a feature needs it). */
export interface SqsPort {
  getQueueUrl(i: GetQueueUrlCommandInput): Promise<GetQueueUrlCommandOutput>
  getQueueAttributes(i: GetQueueAttributesCommandInput): Promise<GetQueueAttributesCommandOutput>
  /**
   * Long polls for up to WaitTimeSeconds. Deliberately not abortable: a poll the client gives up
   * stays open on the server, which can still receive a message into it (see sqs-adapter browse).
   */
  receiveMessage(i: ReceiveMessageCommandInput): Promise<ReceiveMessageCommandOutput>
  /** Partially fails: check Failed[] per entry. */
  sendMessageBatch(i: SendMessageBatchCommandInput): Promise<SendMessageBatchCommandOutput>
  /** Partially fails: check Failed[] per entry. */
  deleteMessageBatch(i: DeleteMessageBatchCommandInput): Promise<DeleteMessageBatchCommandOutput>
  /** Partially fails: check Failed[] per entry. */
  changeMessageVisibilityBatch(
    i: ChangeMessageVisibilityBatchCommandInput,
  ): Promise<ChangeMessageVisibilityBatchCommandOutput>
  destroy(): void
}
