import {randomBytes} from 'node:crypto'
import type {Target} from '../../config/targets.js'
import type {Envelope, Header} from '../../envelope/envelope.js'
import {payloadBytes, toPayload} from '../../envelope/payload.js'
import {NotAcknowledgedError, UnreachableError, UnsupportedError, UsageError} from '../../errors.js'
import {type Emit, info, warning} from '../../events.js'
import {AsyncQueue} from '../../util/async-queue.js'
import type {LagSourceAware} from '../lag-source.js'
import {monitoringPubsubMetrics} from '../metrics/monitoring.js'
import type {PubsubMetrics} from '../metrics/port.js'
import {refuseConsume} from '../peek-only.js'
import type {
  AdapterOptions,
  BrokerAdapter,
  DeadLetterAware,
  Delivery,
  PublishFailure,
  PublishOptions,
  PublishReport,
  ReadOptions,
} from '../types.js'
import {pubsubLagReader} from './backlog.js'
import {createClientPort} from './client-port.js'
import {listPubsubDeadLetters} from './dead-letters.js'
import {briefMessage, mapPubsubError} from './errors.js'
import type {PubsubMessageIn, PubsubPort, PubsubStream} from './port.js'

type PubsubTarget = Extract<Target, {kind: 'pubsub'}>

/** Names of the temporary subscriptions and snapshots tail makes: prefix, creation second, random. */
export const TEMP_PREFIX = 'evtctl-tail-'
export const SNAPSHOT_PREFIX = 'evtctl-peek-'
/** Expiration policy of temporary subscriptions (Pub/Sub's minimum is one day). */
const TTL_SECONDS = 86_400
/** --until end on Pub/Sub: stop once no message arrived for this long (while nothing waited to be written). */
export const QUIET_MS = 2_000
/**
 * Read ahead of the writer, at most: messages, and bytes of data. A slow reader of stdout slows
 * the pulls; the rest of a backlog stays at Pub/Sub.
 */
const MAX_QUEUED = 1_000
const MAX_QUEUED_BYTES = 32 * 1024 * 1024
const LABELS = {'created-by': 'evtctl'}
/** A consuming read pulls at most this many at a time: what is pulled is held from other consumers. */
const CONSUME_PULL_MAX = 100
/**
 * A following read checks that Pub/Sub still answers once nothing arrived for PROBE_MS (the
 * pull loop retries an unreachable server, silently), and ends with exit 4
 * once nothing was heard for UNREACHABLE_MS.
 */
const PROBE_MS = 5_000
export const UNREACHABLE_MS = 30_000
/** Clean-up on exit is bounded: closing the stream, then each delete. */
const CLOSE_MS = 3_000

/**
 * Pub/Sub on @google-cloud/pubsub v5. A nack or an expired ack deadline counts as a delivery
 * attempt and can dead-letter a message, so tail never reads a real subscription:
 * - a topic is read through a temporary subscription (expiration policy, evtctl label), acked
 *   there only, and deleted on exit;
 * - a subscription is peeked through a snapshot of it and a temporary subscription seeked to that
 *   snapshot: its messages, delivery attempts and ack deadlines are untouched.
 * Temporary subscriptions and snapshots older than their expiry (crashed runs) are removed first.
 */
export function createPubsubAdapter(
  target: Target,
  opts: AdapterOptions = {},
  port?: PubsubPort,
): BrokerAdapter & DeadLetterAware & LagSourceAware {
  const t = asPubsub(target)
  const emulatorHost = t.context?.['emulator-host'] ?? process.env.PUBSUB_EMULATOR_HOST
  if (emulatorHost && !port)
    opts.emit?.(warning('EMULATOR', `Using the Pub/Sub emulator at ${emulatorHost}.`))
  const ps = port ?? createClientPort({project: t.project, emulatorHost})
  const endpoint = emulatorHost ? `the emulator at ${emulatorHost}` : 'pubsub.googleapis.com'
  const where = (x: PubsubTarget) => ({
    what: `${x.resource === 'topics' ? 'Topic' : 'Subscription'} "${x.name}"`,
    project: x.project,
    endpoint,
  })
  /** Source subscription → its topic's short name ('' when it is gone). */
  const origins = new Map<string, string>()
  const call = async <T>(x: PubsubTarget, f: () => Promise<T>): Promise<T> => {
    try {
      return await f()
    } catch (err) {
      throw mapPubsubError(err, where(x))
    }
  }

  /**
   * Cloud Monitoring for the backlog numbers, on Google Cloud only: the emulator has no metrics,
   * so it gets no request (undefined). google-auth loads on the first request.
   */
  let metrics: PubsubMetrics | undefined
  const metricsOf = (x: PubsubTarget): PubsubMetrics | undefined => {
    if (emulatorHost) return undefined
    metrics ??= monitoringPubsubMetrics(x.project, async () =>
      (await import('../metrics/monitoring-client.js')).createMonitoringPort({project: x.project}),
    )
    return metrics
  }

  return {
    kind: 'pubsub',
    read: (target_, readOpts, signal) => read(asPubsub(target_), readOpts, signal),
    publish: (target_, events, publishOpts) => publish(asPubsub(target_), events, publishOpts),
    listDeadLetters: (scope, signal) =>
      listPubsubDeadLetters(ps, asPubsub(scope), call, metricsOf(asPubsub(scope)), signal),
    originOf: (source, env) => originOf(asPubsub(source), env),
    lagReader: (scope) =>
      pubsubLagReader(
        ps,
        asPubsub(scope),
        {
          emulator: Boolean(emulatorHost),
          tempPrefixes: [TEMP_PREFIX],
          ...(emulatorHost ? {} : {metrics: metricsOf(asPubsub(scope))}),
        },
        call,
      ),
    close: () => ps.close(),
  }

  /**
   * ack() of a consuming read: resolves once Pub/Sub answered the acknowledge call. Pub/Sub may
   * still redeliver an acked message unless the subscription has exactly-once delivery (then the
   * answer is a confirmation); a replay keys its copies by message id for that reason.
   */
  async function confirmAck(x: PubsubTarget, m: PubsubMessageIn, emit?: Emit): Promise<void> {
    try {
      await m.ackConfirmed()
    } catch (err) {
      const mapped = mapPubsubError(err, where(x))
      emit?.(
        warning(
          'NOT_ACKNOWLEDGED',
          `Message ${m.id} was not acknowledged (${mapped.message}); Pub/Sub redelivers it.`,
        ),
      )
      throw new NotAcknowledgedError(
        `Message ${m.id} of ${x.name} was not acknowledged: ${mapped.message}`,
        undefined,
        {cause: err},
      )
    }
  }

  /**
   * The topic of the subscription that dead-lettered `env` (CloudPubSubDeadLetterSourceSubscription
   * and …SubscriptionProject), looked up once per subscription.
   */
  async function originOf(source: PubsubTarget, env: Envelope): Promise<PubsubTarget | undefined> {
    const dlq = env.meta?.dlq as {subscription?: string; subscriptionProject?: string} | undefined
    if (!dlq?.subscription) return undefined
    const project = dlq.subscriptionProject ?? source.project
    // A subscription in another project would need that project's client: not looked up.
    if (project !== source.project) return undefined
    let topic = origins.get(dlq.subscription)
    if (topic === undefined) {
      topic = await ps.subscriptionTopic(dlq.subscription).then(
        (t) => t.slice(t.lastIndexOf('/') + 1),
        () => '',
      )
      origins.set(dlq.subscription, topic)
    }
    if (!topic) return undefined
    return {...source, url: `pubsub://${project}/topics/${topic}`, resource: 'topics', name: topic}
  }

  /** Removes temporary subscriptions and snapshots that crashed runs left behind (past their expiry). */
  async function cleanupOrphans(): Promise<void> {
    const cutoff = Math.floor(Date.now() / 1000) - TTL_SECONDS
    const old = (name: string, prefix: string) => Number(name.slice(prefix.length).split('-')[0]) < cutoff
    const subs = await ps.listSubscriptions(TEMP_PREFIX).catch(() => [])
    const snaps = await ps.listSnapshots(SNAPSHOT_PREFIX).catch(() => [])
    await Promise.allSettled([
      ...subs.filter((n) => old(n, TEMP_PREFIX)).map((n) => ps.deleteSubscription(n)),
      ...snaps.filter((n) => old(n, SNAPSHOT_PREFIX)).map((n) => ps.deleteSnapshot(n)),
    ])
  }

  async function* read(
    target_: PubsubTarget,
    readOpts: ReadOptions,
    signal: AbortSignal,
  ): AsyncGenerator<Delivery> {
    const emit = readOpts.emit ?? opts.emit
    const peek = target_.resource === 'subscriptions'
    // Consuming reads the subscription itself: each message acked once the reader acks it.
    const consume = readOpts.consume === true
    if (consume && !peek) refuseConsume('A Pub/Sub topic', readOpts)
    if (readOpts.from.kind !== 'end' && readOpts.from.kind !== 'time') {
      throw new UnsupportedError(
        'Pub/Sub cannot start a read at an offset.',
        'Use --from <time>, or no --from.',
      )
    }
    const topic = peek ? await call(target_, () => ps.subscriptionTopic(target_.name)) : target_.name
    // One look-up of the topic: it proves the topic exists (exit 5) and says whether it retains messages.
    const retention = peek && !emulatorHost ? undefined : await call(target_, () => ps.topicRetention(topic))
    if (peek && !consume && emulatorHost && !retention?.retentionSeconds) {
      // Seen on emulator 0.8.20: a new subscription holds only what its topic retains, and a
      // snapshot seek replays only what the subscription holds. Google Cloud replays the snapshot.
      emit?.(
        warning(
          'EMULATOR',
          `the Pub/Sub emulator replays a snapshot only from messages its topic retains, and topic "${topic.slice(topic.lastIndexOf('/') + 1)}" has no message retention, so this peek will show nothing. Create the topic with --message-retention-duration on the emulator; Google Cloud needs no such setting.`,
        ),
      )
    }
    if (readOpts.from.kind === 'time') {
      if (peek) {
        throw new UnsupportedError(
          'A subscription is peeked from its backlog; --from <time> applies to topics.',
          `Drop --from, or tail the topic: pubsub://${target_.project}/topics/${topic.slice(topic.lastIndexOf('/') + 1)}.`,
        )
      }
      if (!retention?.retentionSeconds) {
        throw new UnsupportedError(
          `Topic "${target_.name}" does not retain messages, so a tail only sees what is published after it starts.`,
          'Set message retention on the topic (gcloud pubsub topics update --message-retention-duration), or drop --from.',
        )
      }
    }
    await cleanupOrphans()
    // Aborted while setting up (the reader went away, Ctrl-C): make nothing that would need deleting.
    if (signal.aborted) return
    const stamp = `${Math.floor(Date.now() / 1000)}-${randomBytes(4).toString('hex')}`
    const tempSub = `${TEMP_PREFIX}${stamp}`
    const snapshot = peek && !consume ? `${SNAPSHOT_PREFIX}${stamp}` : undefined
    const queue = new AsyncQueue<PubsubMessageIn>(MAX_QUEUED)
    let stream: PubsubStream | undefined
    /** The queue was closed (quiet after --until end): not Ctrl-C, not a reader that stopped. */
    let endedNormally = false
    let watchdog: NodeJS.Timeout | undefined
    let created = false
    let snapshotCreated = false
    const onAbort = () => queue.close()
    signal.addEventListener('abort', onAbort, {once: true})
    try {
      if (snapshot) {
        try {
          await ps.createSnapshot(target_.name, snapshot, LABELS)
          snapshotCreated = true
        } catch (err) {
          const mapped = mapPubsubError(err, where(target_))
          throw new UnsupportedError(
            `Could not snapshot subscription "${target_.name}" (${mapped.message}); evtctl does not read a real subscription instead, as that would count delivery attempts.`,
            'Grant pubsub.snapshots.create (roles/pubsub.editor), or stay under the snapshot quota, and retry; or tail the topic.',
            {cause: err},
          )
        }
      }
      if (!consume)
        await call(target_, () =>
          ps.createSubscription(topic, tempSub, {
            ttlSeconds: TTL_SECONDS,
            labels: LABELS,
            ackDeadlineSeconds: 60,
          }),
        )
      created = !consume
      if (signal.aborted) return // the finally deletes what was made
      if (snapshot) await call(target_, () => ps.seek(tempSub, {snapshot}))
      if (readOpts.from.kind === 'time')
        await call(target_, () => ps.seek(tempSub, {time: (readOpts.from as {time: Date}).time}))
      emit?.(
        consume
          ? info(
              'READ_PLAN',
              `Consuming subscription "${target_.name}": each message is acknowledged once written; what was pulled and not written is given back on exit (Pub/Sub counts a delivery attempt for it).`,
            )
          : info(
              peek ? 'SNAPSHOT' : 'READ_PLAN',
              peek
                ? `Peeking subscription "${target_.name}" through snapshot ${snapshot} and temporary subscription ${tempSub}; the subscription itself is not read.`
                : `Reading topic "${target_.name}" through temporary subscription ${tempSub} (deleted on exit).`,
            ),
      )
      // Heard from Pub/Sub: a message, or an answer to a probe.
      let heard = Date.now()
      // Arrivals from Pub/Sub, not hand-offs to the writer, measure quiet (--until end).
      let lastArrival = Date.now()
      // Bytes of data queued and not yet written: bounded too, for large messages.
      let queuedBytes = 0
      let bytesRoom: (() => void) | undefined
      let ended = false
      /** Consuming: messages the reader gave back, nacked when the read ends. */
      const givenBack = new Set<PubsubMessageIn>()
      /** Consuming: the ids Pub/Sub confirmed acks for. */
      const acked = new Set<string>()
      stream = ps.stream(
        consume ? target_.name : tempSub,
        async (batch) => {
          heard = lastArrival = Date.now()
          for (const m of batch) queuedBytes += m.data.length
          // Resolves when the queue has room again: the next pull waits for it (back-pressure).
          await queue.push(...batch)
          while (queuedBytes > MAX_QUEUED_BYTES && !ended) await new Promise<void>((r) => (bytesRoom = r))
        },
        (err) => {
          const mapped = mapPubsubError(err, where(target_))
          queue.close(
            mapped.exitCode === 5
              ? new UnreachableError(
                  `Temporary subscription ${tempSub} is gone: Pub/Sub (${endpoint}) lost it (an emulator restarted?).`,
                  'Start the tail again.',
                )
              : mapped,
          )
        },
        consume
          ? {
              // Pulled messages are held from other consumers until written: no more than needed.
              maxMessages: Math.min(CONSUME_PULL_MAX, readOpts.max ?? CONSUME_PULL_MAX),
              pullers: 1,
              releaseOnClose: true,
            }
          : {},
      )
      let probing = false
      watchdog = setInterval(() => {
        if (probing || Date.now() - heard < PROBE_MS) return
        probing = true
        ps.subscriptionTopic(consume ? target_.name : tempSub)
          .then(
            () => {
              heard = Date.now()
            },
            (err) => {
              const mapped = mapPubsubError(err, where(target_))
              if (mapped.exitCode === 5) {
                queue.close(
                  new UnreachableError(
                    `Temporary subscription ${tempSub} is gone: Pub/Sub (${endpoint}) lost it (an emulator restarted?).`,
                    'Start the tail again.',
                  ),
                )
              } else if (mapped.exitCode === 3) {
                queue.close(mapped)
              } else if (Date.now() - heard >= UNREACHABLE_MS) {
                queue.close(
                  new UnreachableError(
                    `Lost Pub/Sub at ${endpoint}: no answer for ${Math.round((Date.now() - heard) / 1000)} s (${briefMessage(err)}).`,
                    'Check that it runs (the emulator host) and the network, then start the tail again.',
                  ),
                )
              }
            },
          )
          .finally(() => {
            probing = false
          })
      }, 1_000)
      watchdog.unref()
      const untilTime = readOpts.until?.kind === 'time' ? readOpts.until.time.getTime() : undefined
      // A --until time already past ends like --until end (what comes later is later still).
      let untilEnd = readOpts.until?.kind === 'end' || (untilTime !== undefined && untilTime <= Date.now())
      // --until end ends once everything arrived was written (the consumer waits for more) and
      // nothing arrived for QUIET_MS since. A slow reader holds the consumer at its write, so it
      // never ends a read while messages wait: they are pulled once there is room, and are
      // arrivals again.
      let waitingSince: number | undefined = Date.now()
      const quiet = setInterval(() => {
        if (!untilEnd || waitingSince === undefined || queue.size > 0) return
        if (Date.now() - Math.max(lastArrival, waitingSince) >= QUIET_MS) queue.close()
      }, 100)
      // When a --until time comes: finish what was published before it, as --until end does.
      const deadline =
        untilTime !== undefined && !untilEnd
          ? setTimeout(
              () => {
                untilEnd = true
                lastArrival = Date.now()
                // Not below 0: Node 22+ warns on stderr about a negative delay (a --until already past).
              },
              Math.max(0, untilTime - Date.now()),
            )
          : undefined
      try {
        const messages = queue[Symbol.asyncIterator]()
        for (;;) {
          if (queue.size === 0) waitingSince = Date.now()
          const next = await messages.next()
          waitingSince = undefined
          if (next.done) {
            endedNormally = true
            break
          }
          const m = next.value
          queuedBytes -= m.data.length
          if (bytesRoom && queuedBytes <= MAX_QUEUED_BYTES / 2) {
            bytesRoom()
            bytesRoom = undefined
          }
          if (signal.aborted) break
          if (untilTime !== undefined && m.publishTime.getTime() >= untilTime) break
          if (consume) {
            yield {
              envelope: toEnvelope(target_.url, m),
              ack: async () => {
                await confirmAck(target_, m, emit)
                acked.add(m.id)
              },
              // Given back when the read ends, not now: Pub/Sub would hand a nacked message
              // straight back to this very read (a reader skipping it would spin on it).
              release: async () => {
                givenBack.add(m)
              },
            }
            continue
          }
          yield {envelope: toEnvelope(target_.url, m), ack: async () => {}, release: async () => {}}
          // Written: ack it on our own temporary subscription, so it is not redelivered to us.
          m.ack()
        }
      } finally {
        ended = true
        bytesRoom?.()
        clearInterval(quiet)
        clearTimeout(deadline)
        await Promise.allSettled([...givenBack].map((m) => m.nack()))
        if (consume)
          emit?.(info('CONSUMED', `Acknowledged ${acked.size} message(s) on subscription "${target_.name}".`))
      }
    } finally {
      signal.removeEventListener('abort', onAbort)
      clearInterval(watchdog)
      queue.close()
      // Bounded: with Pub/Sub unreachable the client would retry its last acks for a minute.
      // A consuming read that ended by itself leaves what the reader holds to the reader (a
      // replay's last batch is acked after the read ended); otherwise everything is given back.
      const keepHeld = consume && endedNormally && !signal.aborted
      if (stream) await within(stream.close({keepHeld}), CLOSE_MS).catch(() => {})
      const left: string[] = []
      const remove = async (what: string, name: string, del: () => Promise<void>, how: string) => {
        try {
          await del()
        } catch (err) {
          const mapped = mapPubsubError(err, where(target_))
          const why =
            mapped.exitCode === 4 ? `no answer from ${endpoint}: ${briefMessage(err)}` : briefMessage(err)
          left.push(`Could not delete temporary ${what} ${name} (${why}); ${how}`)
        }
      }
      const project = `--project ${target_.project}`
      if (created)
        await remove(
          'subscription',
          tempSub,
          () => ps.deleteSubscription(tempSub),
          `it expires after 1 day unused, or delete it: gcloud pubsub subscriptions delete ${tempSub} ${project}`,
        )
      if (snapshotCreated && snapshot)
        await remove(
          'snapshot',
          snapshot,
          () => ps.deleteSnapshot(snapshot),
          `the next tail removes it after 1 day, or delete it: gcloud pubsub snapshots delete ${snapshot} ${project}`,
        )
      for (const line of left) emit?.(warning('CLEANUP_FAILED', `${line}.`))
    }
  }

  async function publish(
    target_: PubsubTarget,
    events: AsyncIterable<Envelope>,
    o: PublishOptions,
  ): Promise<PublishReport> {
    if (target_.resource !== 'topics') {
      throw new UsageError(
        'Publish to a topic, not a subscription.',
        `Use pubsub://${target_.project}/topics/TOPIC.`,
      )
    }
    await call(target_, () => ps.topicRetention(target_.name))
    const failed: PublishFailure[] = []
    let sent = 0
    let index = 0
    let keysDropped = 0
    const settle = () => {
      inFlight--
      if (room && inFlight < MAX_IN_FLIGHT / 2) {
        room()
        room = undefined
      }
      if (drained && inFlight === 0) drained()
    }
    const resumed = new Set<string>()
    // The client batches; keep enough in flight to fill its batches, bounded for memory. A counter
    // and one waiter, not Promise.race over thousands of promises per message.
    const MAX_IN_FLIGHT = 5_000
    let inFlight = 0
    let room: (() => void) | undefined
    let drained: (() => void) | undefined
    for await (const env of events) {
      if (o.signal.aborted) break
      const i = index++
      if (env.key != null) keysDropped++
      let message: {data: Buffer; attributes?: Record<string, string>; orderingKey?: string}
      try {
        message = toPubsubMessage(env, o.orderingKey)
      } catch (err) {
        failed.push({index: i, error: (err as Error).message})
        o.onSettled?.(i, {status: 'failed', error: (err as Error).message})
        continue
      }
      inFlight++
      ps.publish(target_.name, message).then(
        (id) => {
          o.onSettled?.(i, {status: 'sent', id})
          sent++
          if (sent % 1000 === 0) o.onProgress?.(sent)
          settle()
        },
        (err) => {
          const error = mapPubsubError(err, where(target_)).message
          failed.push({index: i, error})
          o.onSettled?.(i, {status: 'failed', error})
          // The client refuses an ordering key after a failure until it is resumed.
          if (message.orderingKey) {
            ps.resumePublishing(target_.name, message.orderingKey)
            resumed.add(message.orderingKey)
          }
          settle()
        },
      )
      if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (room = r))
    }
    if (inFlight > 0) await new Promise<void>((r) => (drained = r))
    o.onProgress?.(sent)
    if (keysDropped > 0)
      o.emit?.(
        warning(
          'KEYS_DROPPED',
          `${keysDropped} message key(s) were not sent: Pub/Sub messages have no key (use --ordering-key).`,
        ),
      )
    if (resumed.size > 0)
      o.emit?.(
        warning(
          'ORDERING_KEY_RESUMED',
          `Publishing resumed on ordering key(s) after failures: ${[...resumed].join(', ')}.`,
        ),
      )
    failed.sort((a, b) => a.index - b.index)
    return {sent, failed}
  }
}

/** `p`, or a rejection after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

function asPubsub(target: Target): PubsubTarget {
  if (target.kind !== 'pubsub') throw new Error(`pubsub adapter got a ${target.kind} target`)
  return target
}

const DEAD_LETTER_ATTRIBUTE = /^CloudPubSubDeadLetterSource/

/** A Pub/Sub message as an envelope: attributes as headers (sorted by name), dead-letter facts in meta.dlq. */
export function toEnvelope(url: string, m: PubsubMessageIn): Envelope {
  const names = Object.keys(m.attributes).sort()
  const headers: Header[] = names.map((n) => [n, toPayload(Buffer.from(m.attributes[n]!, 'utf8'))])
  const dlq: Record<string, string> = {}
  for (const n of names)
    if (DEAD_LETTER_ATTRIBUTE.test(n))
      dlq[n.replace(DEAD_LETTER_ATTRIBUTE, '').replace(/^./, (c) => c.toLowerCase())] = m.attributes[n]!
  return {
    v: 1,
    source: url,
    offset: m.id,
    timestamp: m.publishTime.toISOString(),
    ...(headers.length ? {headers} : {}),
    value: toPayload(m.data),
    meta: {
      messageId: m.id,
      ...(m.orderingKey ? {orderingKey: m.orderingKey} : {}),
      ...(m.deliveryAttempt ? {deliveryAttempt: m.deliveryAttempt} : {}),
      ...(Object.keys(dlq).length ? {dlq} : {}),
    },
  }
}

/**
 * Pub/Sub's limit on a message (its quotas page: 10 MB), counted here as data + attribute names
 * and values + ordering key, in decimal megabytes as Google counts them. Checked before sending:
 * a bigger message is refused by Pub/Sub only after the client's minute of retries (on the
 * emulator: DEADLINE_EXCEEDED, reported as "cannot reach").
 */
export const MAX_MESSAGE_BYTES = 10_000_000

/** An envelope as a Pub/Sub message; throws with the reason Pub/Sub cannot carry it. */
export function toPubsubMessage(
  env: Envelope,
  orderingKey?: string,
): {data: Buffer; attributes?: Record<string, string>; orderingKey?: string} {
  if (env.value === null) throw new Error('Pub/Sub has no null value (tombstone)')
  const attributes: Record<string, string> = {}
  for (const [name, value] of env.headers ?? []) {
    if (value === null) throw new Error(`header "${name}" has no value; Pub/Sub attributes need one`)
    if (name in attributes) throw new Error(`header "${name}" repeats; Pub/Sub attribute names are unique`)
    if ('base64' in value) throw new Error(`header "${name}" is binary; Pub/Sub attributes are text`)
    attributes[name] = payloadBytes(value).toString('utf8')
  }
  const data = payloadBytes(env.value)
  const key = orderingKey ?? env.meta?.orderingKey
  if (data.length === 0 && Object.keys(attributes).length === 0)
    throw new Error('Pub/Sub needs data or attributes')
  let size = data.length + (key ? Buffer.byteLength(key) : 0)
  for (const [n, v] of Object.entries(attributes)) size += Buffer.byteLength(n) + Buffer.byteLength(v)
  if (size > MAX_MESSAGE_BYTES)
    throw new Error(
      `message is ${size.toLocaleString('en-US')} bytes (data, attributes and ordering key); Pub/Sub takes at most 10 MB (${MAX_MESSAGE_BYTES.toLocaleString('en-US')} bytes)`,
    )
  return {data, ...(Object.keys(attributes).length ? {attributes} : {}), ...(key ? {orderingKey: key} : {})}
}
