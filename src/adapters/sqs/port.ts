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
  /** Long polls; aborting the signal ends the poll at once. */
  receiveMessage(i: ReceiveMessageCommandInput, signal: AbortSignal): Promise<ReceiveMessageCommandOutput>
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
