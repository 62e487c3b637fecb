import {PubSub, type Topic} from '@google-cloud/pubsub'
import {credentialsError} from './errors.js'
import type {PubsubMessageIn, PubsubPort} from './port.js'

export interface PubsubConnection {
  project: string
  /** host:port of an emulator; undefined = Google Cloud with Application Default Credentials. */
  emulatorHost?: string
}

/** The @google-cloud/pubsub implementation of the port. */
export function createClientPort(conn: PubsubConnection): PubsubPort {
  // Against an emulator there is no GCE metadata server to ask for a project or credentials:
  // skip google-auth's probe for one.
  if (conn.emulatorHost) process.env.METADATA_SERVER_DETECTION ??= 'none'
  quietMetadataLookupWarning()
  const client = new PubSub({
    projectId: conn.project,
    ...(conn.emulatorHost ? {apiEndpoint: conn.emulatorHost, emulatorMode: true} : {}),
  })
  /**
   * Credentials are looked up once, before the first call. Were the lookup left to the first
   * call, a failure would also reach the process as an unhandled rejection: each gax method runs
   * `this.initialize().catch(err => { throw err })` (@google-cloud/pubsub 5.3), which crashes
   * Node with google-auth's stack trace. The emulator needs none.
   */
  let authed: Promise<void> | undefined
  const ready = () => {
    authed ??= conn.emulatorHost
      ? Promise.resolve()
      : client.auth.getClient().then(
          () => {},
          (err: unknown) => {
            throw credentialsError(err)
          },
        )
    return authed
  }
  /** Look-ups fail fast (exit 4 in seconds), instead of gax's default of retrying for 60 s. */
  const quick = {timeout: 8_000}
  /** Deletes run on exit (also on Ctrl-C with Pub/Sub gone): shorter still. */
  const onExit = {timeout: 5_000}
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
      await ready()
      const [meta] = await client.topic(topic).getMetadata(quick)
      const secs = meta.messageRetentionDuration?.seconds
      return secs ? {retentionSeconds: Number(secs)} : {}
    },
    async subscriptionTopic(subscription) {
      await ready()
      const [meta] = await client.subscription(subscription).getMetadata(quick)
      return meta.topic ?? ''
    },
    async createSubscription(topic, name, opts) {
      await ready()
      await client.topic(topic).createSubscription(name, {
        ackDeadlineSeconds: opts.ackDeadlineSeconds,
        expirationPolicy: {ttl: {seconds: opts.ttlSeconds}},
        labels: opts.labels,
      })
    },
    async deleteSubscription(name) {
      await ready()
      await client.subscription(name).delete(onExit)
    },
    async listSubscriptions(prefix) {
      await ready()
      const [subs] = await client.getSubscriptions()
      return subs.map((s) => short(s.name)).filter((n) => n.startsWith(prefix))
    },
    async createSnapshot(subscription, name, labels) {
      await ready()
      await client.subscription(subscription).createSnapshot(name, {labels} as never)
    },
    async deleteSnapshot(name) {
      await ready()
      // Snapshot#delete takes no call options: bound it here.
      await withTimeout(client.snapshot(name).delete(), onExit.timeout)
    },
    async listSnapshots(prefix) {
      await ready()
      const [snaps] = await client.getSnapshots()
      return snaps.map((s) => short(s.name)).filter((n) => n.startsWith(prefix))
    },
    async seek(subscription, to) {
      await ready()
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
      await ready()
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

let quieted = false

/**
 * gcp-metadata (under google-auth) reports a failed probe for a GCE metadata server with
 * process.emitWarning('…', 'MetadataLookupWarning') when the error is not one it expects (seen:
 * "All promises were rejected code = UNKNOWN" with GCE_METADATA_HOST on a closed port). Node
 * prints it as "(node:PID) MetadataLookupWarning…" on stderr: noise to a user, who learns what
 * matters (no credentials) from our own error. Dropped before the client can emit it; other
 * warnings pass.
 */
function quietMetadataLookupWarning(): void {
  if (quieted) return
  quieted = true
  const emit = process.emitWarning
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const opt = rest[0]
    const type =
      typeof opt === 'string' ? opt : ((opt as {type?: string} | undefined)?.type ?? (warning as Error).name)
    if (type === 'MetadataLookupWarning') return
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest)
  } as typeof process.emitWarning
}

/** `p`, or a DEADLINE_EXCEEDED-like rejection (gRPC code 4) after `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`no answer within ${ms / 1000} s`), {code: 4})),
        ms,
      )
    }),
  ]).finally(() => clearTimeout(timer))
}
