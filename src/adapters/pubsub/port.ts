/**
 * The Pub/Sub operations the adapter uses, and no others; the @google-cloud/pubsub details stay in
 * client-port.ts.
 */
export interface PubsubMessageIn {
  id: string
  data: Buffer
  attributes: Record<string, string>
  orderingKey?: string
  publishTime: Date
  deliveryAttempt?: number
  /** Acks soon, in a batch, without waiting or telling whether Pub/Sub took it (temporary subscriptions). */
  ack(): void
  /** Acks and resolves once Pub/Sub answered the acknowledge call; rejects when it did not. */
  ackConfirmed(): Promise<void>
  /** Gives the message back now (ack deadline 0): Pub/Sub redelivers it, counting an attempt. */
  nack(): Promise<void>
}

export interface StreamOptions {
  /** Messages per pull (default 500). */
  maxMessages?: number
  /** Pulls at once (default 2). */
  pullers?: number
  /** On close, give back (nack) what was delivered and not acked, instead of letting it expire. */
  releaseOnClose?: boolean
}

export interface PubsubStream {
  /**
   * Stops pulling and sends the acks asked for. `keepHeld`: messages delivered and not yet acked
   * or nacked stay leased (their deadlines renewed) until they are — the reader still holds them.
   */
  close(opts?: {keepHeld?: boolean}): Promise<void>
}

export interface PubsubPort {
  /** Throws NOT_FOUND (code 5) when the topic does not exist. */
  topicRetention(topic: string): Promise<{retentionSeconds?: number}>
  /** The topic a subscription reads (projects/P/topics/T). Throws NOT_FOUND. */
  subscriptionTopic(subscription: string): Promise<string>
  createSubscription(
    topic: string,
    name: string,
    opts: {ttlSeconds: number; labels: Record<string, string>; ackDeadlineSeconds: number},
  ): Promise<void>
  deleteSubscription(name: string): Promise<void>
  /**
   * Every subscription of the project (all pages): its short name, its topic's short name, and its
   * dead-letter policy (the dead-letter topic's short name).
   */
  listSubscriptionDetails(): Promise<
    Array<{name: string; topic: string; deadLetter?: {topic: string; maxDeliveryAttempts?: number}}>
  >
  /** Names of the project's subscriptions starting with `prefix`. */
  listSubscriptions(prefix: string): Promise<string[]>
  createSnapshot(subscription: string, name: string, labels: Record<string, string>): Promise<void>
  deleteSnapshot(name: string): Promise<void>
  listSnapshots(prefix: string): Promise<string[]>
  seek(subscription: string, to: {snapshot: string} | {time: Date}): Promise<void>
  /**
   * Pulls from `subscription` until closed, a batch at a time: `onMessages` gets each batch, and
   * the next pull waits until the promise it returns resolves (back-pressure: a slow consumer
   * holds no more than a batch beyond its own buffer). A message's ack deadline is extended until
   * it is acked. `onError` on an error that retrying will not mend; an unreachable Pub/Sub is
   * retried (the caller decides when to give up).
   */
  stream(
    subscription: string,
    onMessages: (batch: PubsubMessageIn[]) => Promise<void> | void,
    onError: (err: unknown) => void,
    opts?: StreamOptions,
  ): PubsubStream
  /** Publishes one message; resolves with its id. Ordering keys need `ordered`. */
  publish(
    topic: string,
    m: {data: Buffer; attributes?: Record<string, string>; orderingKey?: string},
  ): Promise<string>
  /** After a failed publish on an ordering key, the client refuses that key until resumed. */
  resumePublishing(topic: string, orderingKey: string): void
  close(): Promise<void>
}
