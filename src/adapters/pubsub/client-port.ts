import {PubSub, type Topic} from '@google-cloud/pubsub'
import type {PubsubMessageIn, PubsubPort} from './port.js'

export interface PubsubConnection {
  project: string
  /** host:port of an emulator; undefined = Google Cloud with Application Default Credentials. */
  emulatorHost?: string
}

/** The @google-cloud/pubsub implementation of the port. */
export function createClientPort(conn: PubsubConnection): PubsubPort {
  // Against an emulator there is no GCE metadata server to ask for a project or credentials;
  // without this, google-auth-library looks for one and prints a MetadataLookupWarning.
  if (conn.emulatorHost) process.env.METADATA_SERVER_DETECTION ??= 'none'
  const client = new PubSub({
    projectId: conn.project,
    ...(conn.emulatorHost ? {apiEndpoint: conn.emulatorHost, emulatorMode: true} : {}),
  })
  /** Look-ups fail fast (exit 4 in seconds), instead of gax's default of retrying for 60 s. */
  const quick = {timeout: 8_000}
  const topics = new Map<string, Topic>()
  const topicFor = (name: string) => {
    let t = topics.get(name)
    if (!t) {
      t = client.topic(name, {
        // Batches fill up to 1,000 messages or 10 ms, whichever first: throughput without holding
        // a trickle back.
        batching: {maxMessages: 1_000, maxMilliseconds: 10, maxBytes: 9 * 1024 * 1024},
        messageOrdering: true,
      })
      topics.set(name, t)
    }
    return t
  }
  const short = (full: string) => full.slice(full.lastIndexOf('/') + 1)
  return {
    async topicRetention(topic) {
      const [meta] = await client.topic(topic).getMetadata(quick)
      const secs = meta.messageRetentionDuration?.seconds
      return secs ? {retentionSeconds: Number(secs)} : {}
    },
    async subscriptionTopic(subscription) {
      const [meta] = await client.subscription(subscription).getMetadata(quick)
      return meta.topic ?? ''
    },
    async createSubscription(topic, name, opts) {
      await client.topic(topic).createSubscription(name, {
        ackDeadlineSeconds: opts.ackDeadlineSeconds,
        expirationPolicy: {ttl: {seconds: opts.ttlSeconds}},
        labels: opts.labels,
      })
    },
    async deleteSubscription(name) {
      await client.subscription(name).delete()
    },
    async listSubscriptions(prefix) {
      const [subs] = await client.getSubscriptions()
      return subs.map((s) => short(s.name)).filter((n) => n.startsWith(prefix))
    },
    async createSnapshot(subscription, name, labels) {
      await client.subscription(subscription).createSnapshot(name, {labels} as never)
    },
    async deleteSnapshot(name) {
      await client.snapshot(name).delete()
    },
    async listSnapshots(prefix) {
      const [snaps] = await client.getSnapshots()
      return snaps.map((s) => short(s.name)).filter((n) => n.startsWith(prefix))
    },
    async seek(subscription, to) {
      await client.subscription(subscription).seek('snapshot' in to ? to.snapshot : to.time)
    },
    stream(subscription, onMessage, onError) {
      const sub = client.subscription(subscription, {
        flowControl: {maxMessages: 1_000, allowExcessMessages: false},
        // Our own throw-away subscription: no exactly-once, no ordering guarantees needed here.
      })
      sub.on('message', (m) =>
        onMessage({
          id: m.id,
          data: m.data,
          attributes: m.attributes ?? {},
          ...(m.orderingKey ? {orderingKey: m.orderingKey} : {}),
          publishTime: new Date(m.publishTime.getTime()),
          ...(m.deliveryAttempt ? {deliveryAttempt: m.deliveryAttempt} : {}),
          ack: () => m.ack(),
        } satisfies PubsubMessageIn),
      )
      sub.on('error', onError)
      return {close: () => sub.close()}
    },
    async publish(topic, m) {
      return topicFor(topic).publishMessage({
        data: m.data,
        ...(m.attributes ? {attributes: m.attributes} : {}),
        ...(m.orderingKey ? {orderingKey: m.orderingKey} : {}),
      })
    },
    resumePublishing(topic, orderingKey) {
      topicFor(topic).resumePublishing(orderingKey)
    },
    async close() {
      await Promise.allSettled([...topics.values()].map((t) => t.flush()))
      await client.close()
    },
  }
}
