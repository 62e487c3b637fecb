import {PubSub, type Topic, v1} from '@google-cloud/pubsub'
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
  let subscriberApi: v1.SubscriberClient | undefined
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
    async listSubscriptionDetails() {
      await ready()
      const [subs] = await client.getSubscriptions({autoPaginate: true})
      return subs.map((s) => {
        const m = (s.metadata ?? {}) as {
          topic?: string | null
          deadLetterPolicy?: {deadLetterTopic?: string | null; maxDeliveryAttempts?: number | null} | null
        }
        const dl = m.deadLetterPolicy?.deadLetterTopic
        return {
          name: short(s.name),
          topic: short(m.topic ?? ''),
          ...(dl
            ? {
                deadLetter: {
                  topic: short(dl),
                  ...(m.deadLetterPolicy?.maxDeliveryAttempts
                    ? {maxDeliveryAttempts: m.deadLetterPolicy.maxDeliveryAttempts}
                    : {}),
                },
              }
            : {}),
        }
      })
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
    stream(subscription, onMessages, onError, opts = {}) {
      // Unary pull, not the client's streaming pull: in @google-cloud/pubsub 5.3 its flow control
      // pauses a stream that no longer stops the gRPC streams under it (they are relayed by
      // 'data' events, not piped), so when the server ignores maxOutstandingMessages (the
      // emulator does) a slow consumer's backlog piles up in the client: 372 MB for 100k
      // messages. Here the next pull waits for room, so memory stays bounded by construction.
      // The options the client settled on (the emulator's host, port and plain-text channel).
      subscriberApi ??= new v1.SubscriberClient(
        client.options as ConstructorParameters<typeof v1.SubscriberClient>[0],
      )
      const api = subscriberApi
      const name = client.subscription(subscription).name
      let open = true
      /** Delivered and not yet acked: leased (their ack deadline extended) until acked. */
      const held = new Set<string>()
      /** Confirmed acks asked for, so a second ack() gets the same answer (idempotent). */
      const acked = new Map<string, Promise<void>>()
      /** Acks to send in the next call, each with who waits for its answer. */
      const toAck: Array<{ackId: string; settle?: (err?: unknown) => void}> = []
      let ackTimer: NodeJS.Timeout | undefined
      const flushAcks = async () => {
        clearTimeout(ackTimer)
        ackTimer = undefined
        while (toAck.length > 0) {
          const chunk = toAck.splice(0, ACK_IDS_PER_CALL)
          const ackIds = chunk.map((a) => a.ackId)
          // Fire-and-forget acks (temporary subscriptions): a lost one only means the message comes
          // again to a throw-away subscription. Confirmed acks hear the answer.
          await api.acknowledge({subscription: name, ackIds}, quick).then(
            () => {
              for (const a of chunk) a.settle?.()
            },
            (err: unknown) => {
              for (const a of chunk) a.settle?.(err)
            },
          )
        }
      }
      const queueAck = (ackId: string, settle?: (err?: unknown) => void) => {
        toAck.push(settle ? {ackId, settle} : {ackId})
        if (toAck.length >= ACK_IDS_PER_CALL) void flushAcks()
        else ackTimer ??= setTimeout(() => void flushAcks(), settle ? 10 : 100)
      }
      const nack = async (ackIds: string[]) => {
        for (let i = 0; i < ackIds.length; i += ACK_IDS_PER_CALL)
          await api.modifyAckDeadline(
            {subscription: name, ackIds: ackIds.slice(i, i + ACK_IDS_PER_CALL), ackDeadlineSeconds: 0},
            quick,
          )
      }
      let keepLeasing = false
      const lease = setInterval(() => {
        if (keepLeasing && held.size === 0) {
          clearInterval(lease)
          return
        }
        const ids = [...held]
        for (let i = 0; i < ids.length; i += ACK_IDS_PER_CALL)
          api
            .modifyAckDeadline(
              {subscription: name, ackIds: ids.slice(i, i + ACK_IDS_PER_CALL), ackDeadlineSeconds: 60},
              quick,
            )
            .catch(() => {})
      }, LEASE_MS)
      lease.unref()
      const toMessage = (r: ReceivedMessage): PubsubMessageIn => {
        const m = r.message ?? {}
        const ackId = r.ackId ?? ''
        held.add(ackId)
        const data = m.data ?? Buffer.alloc(0)
        const t = m.publishTime
        return {
          id: m.messageId ?? '',
          data: Buffer.isBuffer(data) ? data : Buffer.from(data as Uint8Array),
          attributes: m.attributes ?? {},
          ...(m.orderingKey ? {orderingKey: m.orderingKey} : {}),
          publishTime: new Date(Number(String(t?.seconds ?? 0)) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6)),
          ...(r.deliveryAttempt ? {deliveryAttempt: r.deliveryAttempt} : {}),
          ack: () => {
            if (held.delete(ackId)) queueAck(ackId)
          },
          ackConfirmed: () => {
            if (!held.has(ackId)) return acked.get(ackId) ?? Promise.reject(new Error('message was released'))
            held.delete(ackId)
            const p = new Promise<void>((resolve, reject) =>
              queueAck(ackId, (err) => (err === undefined ? resolve() : reject(err))),
            )
            acked.set(ackId, p)
            return p
          },
          nack: async () => {
            if (held.delete(ackId)) await nack([ackId])
          },
        }
      }
      const loop = async () => {
        while (open) {
          let received: ReceivedMessage[]
          try {
            // Waits (up to PULL_WAIT_MS) for messages to arrive; returns as soon as some are there.
            const [res] = await api.pull(
              {subscription: name, maxMessages: opts.maxMessages ?? PULL_MAX},
              {timeout: PULL_WAIT_MS, retry: null as never},
            )
            received = res.receivedMessages ?? []
          } catch (err) {
            if (!open) return
            const code = (err as {code?: number}).code
            // Nothing arrived in the wait (Google Cloud answers an idle pull with its deadline).
            if (code === 4) continue
            if (code !== undefined && PULL_RETRY_CODES.has(code)) {
              await new Promise((r) => setTimeout(r, 1_000))
              continue
            }
            open = false
            onError(err)
            return
          }
          if (!open) {
            // A pull that answered after close: give its messages back at once where asked to.
            const ids = received.map((r) => r.ackId ?? '').filter(Boolean)
            if (opts.releaseOnClose && ids.length > 0) await nack(ids).catch(() => {})
            return
          }
          if (received.length > 0) await onMessages(received.map(toMessage))
        }
      }
      // Two pulls at once: on the emulator a pull returns at most 100 messages.
      const loops = ready().then(
        () => Promise.all(Array.from({length: opts.pullers ?? PULLERS}, loop)),
        (err) => {
          open = false
          onError(err)
        },
      )
      return {
        async close(closeOpts = {}) {
          open = false
          // Messages the reader still holds stay leased until it acks or nacks them.
          if (!closeOpts.keepHeld || held.size === 0) clearInterval(lease)
          else keepLeasing = true
          await flushAcks()
          // A pull still on its way gets messages leased to us: wait for it (≤ PULL_WAIT_MS) to
          // give them back, or they would stay hidden from other consumers until their deadline.
          if (opts.releaseOnClose) await loops.catch(() => {})
          if (opts.releaseOnClose && held.size > 0 && !closeOpts.keepHeld) {
            const ids = [...held]
            held.clear()
            // Best effort: what is not given back expires after its ack deadline (60 s).
            await nack(ids).catch(() => {})
          }
        },
      }
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
      await Promise.allSettled([client.close(), subscriberApi?.close()])
    },
  }
}

type ReceivedMessage = {
  ackId?: string | null
  deliveryAttempt?: number | null
  message?: {
    messageId?: string | null
    data?: Uint8Array | string | null
    attributes?: Record<string, string> | null
    orderingKey?: string | null
    publishTime?: {seconds?: unknown; nanos?: number | null} | null
  } | null
}
/** Messages per pull, and pulls at once: a slow consumer holds at most their product beyond its own buffer. */
const PULL_MAX = 500
const PULLERS = 2
/**
 * How long one pull waits for messages to arrive. Short: the client's pull() gives no way to
 * cancel it, and the process lives until the last one returns.
 */
const PULL_WAIT_MS = 2_000
/** Held messages get their 60 s ack deadline renewed this often. */
const LEASE_MS = 20_000
/** Ack ids per acknowledge/modifyAckDeadline call (the request limit is 512 KB). */
const ACK_IDS_PER_CALL = 1_000
/** Pull errors that retrying mends (the client's own list for streaming pull). */
const PULL_RETRY_CODES = new Set([1, 8, 10, 13, 14])

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
