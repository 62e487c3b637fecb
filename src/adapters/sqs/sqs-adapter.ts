import type {Message, SendMessageBatchRequestEntry} from '@aws-sdk/client-sqs'
import pRetry from 'p-retry'
import type {Target} from '../../config/targets.js'
import type {Envelope} from '../../envelope/envelope.js'
import {UsageError} from '../../errors.js'
import {batches} from '../../util/batch.js'
import {registry} from '../registry.js'
import type {
  AdapterOptions,
  BrokerAdapter,
  Delivery,
  PublishFailure,
  PublishOptions,
  PublishReport,
  ReadOptions,
} from '../types.js'
import {EntryError, toEntry, toEnvelope} from './codec.js'
import {mapSqsError} from './errors.js'
import type {SqsPort} from './port.js'
import {createSdkPort} from './sdk-port.js'

type SqsTarget = Extract<Target, {kind: 'sqs'}>

const BATCH = 10 // SQS's limit for every *Batch call
const DEFAULT_HOLD_SECONDS = 60
const FIFO_HOLD_SECONDS = 30 // a held FIFO message blocks its whole group
/** Long-poll wait while following; also the most a Ctrl-C waits (see browse). */
const POLL_SECONDS = 2
/** SendMessageBatch calls in flight at once on a standard queue (16 measured 0.85–1.13× a plain 8-in-flight SDK loop, start-up included; 8 gave 0.76–0.88×). */
const PUBLISH_IN_FLIGHT = 16

interface QueueInfo {
  url: string
  fifo: boolean
  maxReceiveCount?: number
  visible: number
  inFlight: number
  delayed: number
}

/**
 * SQS on @aws-sdk/client-sqs v3. SQS has no non-destructive read: every receive raises
 * ApproximateReceiveCount, and on a queue with a redrive policy that is what moves messages to
 * the dead-letter queue. So `tail` is a careful browse:
 * - a queue with a RedrivePolicy is read only with allowReceiveCount (else exit 2, nothing received);
 * - each message is hidden for `holdSeconds` so it is listed once, and everything still held is
 *   released (visibility 0) at the end, on Ctrl-C and on errors;
 * - a warning names each message whose receive count reached maxReceiveCount.
 * Deleting happens only through Delivery.ack (tail --consume).
 */
export function createSqsAdapter(target: Target, _opts: AdapterOptions = {}, port?: SqsPort): BrokerAdapter {
  const t = asSqs(target)
  const sqs = port ?? createSdkPort(sqsClientConfig(t))
  const where = {queue: t.queueName, endpoint: t.endpoint, region: t.region}
  const infos = new Map<string, QueueInfo>()

  async function info(target_: SqsTarget): Promise<QueueInfo> {
    const cached = infos.get(target_.url)
    if (cached) return cached
    try {
      const url = target_.queueUrl ?? (await sqs.getQueueUrl({QueueName: target_.queueName})).QueueUrl!
      const a = (await sqs.getQueueAttributes({QueueUrl: url, AttributeNames: ['All']})).Attributes ?? {}
      const redrive = a.RedrivePolicy
        ? (JSON.parse(a.RedrivePolicy) as {maxReceiveCount?: number | string})
        : undefined
      const result: QueueInfo = {
        url,
        fifo: a.FifoQueue === 'true',
        ...(redrive?.maxReceiveCount !== undefined ? {maxReceiveCount: Number(redrive.maxReceiveCount)} : {}),
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      }
      infos.set(target_.url, result)
      return result
    } catch (err) {
      throw mapSqsError(err, where)
    }
  }

  return {
    kind: 'sqs',
    capabilities: registry.sqs.capabilities,
    read: (target_, readOpts, signal) => browse(asSqs(target_), readOpts, signal),
    publish: (target_, events, publishOpts) => publish(asSqs(target_), events, publishOpts),
    close: async () => sqs.destroy(),
  }

  async function* browse(
    target_: SqsTarget,
    readOpts: ReadOptions,
    signal: AbortSignal,
  ): AsyncGenerator<Delivery> {
    const q = await info(target_)
    if (q.maxReceiveCount !== undefined && !readOpts.allowReceiveCount) {
      throw new UsageError(
        `Queue "${target_.queueName}" has a redrive policy (maxReceiveCount ${q.maxReceiveCount}): every receive, even a look, counts toward it, and messages that reach it are moved to the dead-letter queue.`,
        'Add --allow-receive-count to browse anyway (you will be warned about each message near the limit), or browse its dead-letter queue instead.',
        'RECEIVE_COUNT_OPT_IN',
      )
    }
    const hold = readOpts.holdSeconds ?? (q.fifo ? FIFO_HOLD_SECONDS : DEFAULT_HOLD_SECONDS)
    const untilTime = readOpts.until?.kind === 'time' ? readOpts.until.time.getTime() : undefined
    // A --until time already past lists the queue as --until end does, leaving out later messages.
    const pastWindow = untilTime !== undefined && untilTime <= Date.now()
    const untilEnd = readOpts.until?.kind === 'end' || pastWindow
    readOpts.notice?.(
      `Browsing ${q.fifo ? 'FIFO ' : ''}queue "${target_.queueName}": ~${q.visible} visible, ~${q.inFlight} in flight, ~${q.delayed} delayed. ` +
        `Each received message stays hidden for ${hold}s while listed, then is released.` +
        (q.maxReceiveCount !== undefined
          ? ` Each receive counts toward maxReceiveCount ${q.maxReceiveCount}.`
          : ''),
    )
    if (!readOpts.until) {
      readOpts.notice?.(
        `Following: SQS has no way to wait for new messages only, so messages already listed come back every ${hold}s and are received again (not printed again; their receive count rises). Prefer --until end.`,
      )
    }
    /** MessageId → latest receipt handle of messages we hold (not yet released or deleted). */
    const held = new Map<string, string>()
    const seen = new Set<string>()
    const toDelete: Array<{id: string; receipt: string}> = []
    let listed = 0
    let empties = 0
    const started = Date.now()
    let warnedHold = false

    const deletePending = async () => {
      while (toDelete.length > 0) {
        const chunk = toDelete.splice(0, BATCH)
        const res = await sqs.deleteMessageBatch({
          QueueUrl: q.url,
          Entries: chunk.map((d, i) => ({Id: String(i), ReceiptHandle: d.receipt})),
        })
        for (const f of res.Failed ?? []) {
          const d = chunk[Number(f.Id)]!
          readOpts.notice?.(`Could not delete message ${d.id} (${f.Code}: ${f.Message}); it will reappear.`)
        }
        for (const d of chunk) held.delete(d.id)
      }
    }

    try {
      while (!signal.aborted) {
        if (untilTime !== undefined && !pastWindow && Date.now() >= untilTime) break
        let messages: Message[]
        try {
          // Short polls, never aborted mid-way: an HTTP request given up by the client stays
          // alive on the server, which can still receive a message into it, hidden and counted,
          // with nobody to release it (seen on ElasticMQ). So Ctrl-C waits for the current poll
          // (at most POLL_SECONDS) and releases what it brought.
          const wait = untilEnd
            ? 1
            : untilTime !== undefined
              ? Math.max(0, Math.min(POLL_SECONDS, Math.floor((untilTime - Date.now()) / 1000)))
              : POLL_SECONDS
          const res = await sqs.receiveMessage({
            QueueUrl: q.url,
            MaxNumberOfMessages: BATCH,
            WaitTimeSeconds: wait,
            VisibilityTimeout: hold,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          })
          messages = res.Messages ?? []
        } catch (err) {
          throw mapSqsError(err, where)
        }
        for (const m of messages) held.set(m.MessageId!, m.ReceiptHandle!)
        if (signal.aborted) break
        if (messages.length === 0) {
          // "The end as it was at start": everything listed, or the queue hands out nothing more.
          if (untilEnd && ++empties >= 2) break
          continue
        }
        empties = 0
        // The whole batch is held (above) before any of it is yielded: a consumer that stops
        // early (--max, Ctrl-C) still has every received message released.
        for (const m of messages) {
          const id = m.MessageId!
          if (seen.has(id)) continue // its hold ran out and it came back: listed already
          seen.add(id)
          if (untilTime !== undefined && Number(m.Attributes?.SentTimestamp ?? 0) > untilTime) continue
          const count = Number(m.Attributes?.ApproximateReceiveCount ?? 0)
          if (q.maxReceiveCount !== undefined && count >= q.maxReceiveCount) {
            readOpts.notice?.(
              `Warning: message ${id} has now been received ${count} times (maxReceiveCount ${q.maxReceiveCount}): the next receive, by anyone, moves it to the dead-letter queue.`,
            )
          }
          listed++
          yield {
            envelope: toEnvelope(target_.url, m),
            // Deletes (tail --consume): queued and sent in batches of 10.
            ack: async () => {
              const receipt = held.get(id)
              if (!receipt) return
              toDelete.push({id, receipt})
              if (toDelete.length >= BATCH) await deletePending()
            },
            release: async () => {
              const receipt = held.get(id)
              if (!receipt) return
              held.delete(id)
              await sqs.changeMessageVisibilityBatch({
                QueueUrl: q.url,
                Entries: [{Id: '0', ReceiptHandle: receipt, VisibilityTimeout: 0}],
              })
            },
          }
        }
        if (untilEnd && !warnedHold && Date.now() - started > hold * 800) {
          warnedHold = true
          readOpts.notice?.(
            `Warning: listing has taken longer than ${Math.round(hold * 0.8)}s; messages received first may become visible to others again (no message is listed twice). Use --hold for a longer hold.`,
          )
        }
        if (untilEnd && seen.size >= q.visible) break
      }
    } finally {
      await deletePending().catch((err) => readOpts.notice?.(`Could not delete: ${(err as Error).message}`))
      const released = await releaseAll(q.url, held)
      readOpts.notice?.(
        `Listed ${listed} of ~${q.visible} message(s) visible at start (SQS counts are approximate)` +
          `${released.ok ? `; released ${released.ok}` : ''}` +
          `${released.failed ? `; ${released.failed} could not be released and reappear after ${hold}s` : ''}.`,
      )
    }
  }

  /** Makes every held message visible again at once (ChangeMessageVisibilityBatch to 0). */
  async function releaseAll(url: string, held: Map<string, string>): Promise<{ok: number; failed: number}> {
    const entries = [...held.values()]
    held.clear()
    let ok = 0
    let failed = 0
    for (let i = 0; i < entries.length; i += BATCH) {
      const chunk = entries.slice(i, i + BATCH)
      try {
        const res = await sqs.changeMessageVisibilityBatch({
          QueueUrl: url,
          Entries: chunk.map((receipt, j) => ({Id: String(j), ReceiptHandle: receipt, VisibilityTimeout: 0})),
        })
        failed += res.Failed?.length ?? 0
        ok += res.Successful?.length ?? 0
      } catch {
        failed += chunk.length
      }
    }
    return {ok, failed}
  }

  async function publish(
    target_: SqsTarget,
    events: AsyncIterable<Envelope>,
    o: PublishOptions,
  ): Promise<PublishReport> {
    const q = await info(target_)
    const failed: PublishFailure[] = []
    let sent = 0
    let index = 0
    let keysDropped = 0
    // Standard queues keep no order, so several batches go at once; FIFO sends one at a time,
    // as order within a message group is the point of FIFO.
    const parallel = q.fifo ? 1 : PUBLISH_IN_FLIGHT
    const inFlight = new Set<Promise<void>>()
    for await (const batch of batches(events, {maxItems: BATCH, maxWaitMs: 20})) {
      if (o.signal.aborted) break
      const entries: SendMessageBatchRequestEntry[] = []
      for (const env of batch) {
        const i = index++
        if (env.key != null) keysDropped++
        try {
          entries.push(
            toEntry(env, String(i), {
              fifo: q.fifo,
              groupId: o.groupId,
              dedupId: o.dedupId,
              delaySeconds: o.delaySeconds,
            }),
          )
        } catch (err) {
          if (!(err instanceof EntryError)) throw err
          failed.push({index: i, error: err.message})
        }
      }
      if (entries.length === 0) continue
      const p: Promise<void> = sendWithRetries(q.url, entries).then((result) => {
        inFlight.delete(p)
        sent += result.sent
        failed.push(...result.failed)
        o.onProgress?.(sent)
      })
      inFlight.add(p)
      if (inFlight.size >= parallel) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
    if (keysDropped > 0) {
      o.warn?.(
        `${keysDropped} message key(s) were not sent: SQS messages have no key (FIFO queues group by --group-id).`,
      )
    }
    failed.sort((a, b) => a.index - b.index)
    return {sent, failed}
  }

  /**
   * SendMessageBatch partially fails: resend only the failed entries that SQS calls retryable
   * (SenderFault false), with p-retry's backoff; report the rest by their input position.
   */
  async function sendWithRetries(
    url: string,
    entries: SendMessageBatchRequestEntry[],
  ): Promise<{sent: number; failed: PublishFailure[]}> {
    let pending = entries
    let sent = 0
    const failed: PublishFailure[] = []
    try {
      await pRetry(
        async () => {
          let res: Awaited<ReturnType<SqsPort['sendMessageBatch']>>
          try {
            res = await sqs.sendMessageBatch({QueueUrl: url, Entries: pending})
          } catch (err) {
            const mapped = mapSqsError(err, where)
            // Not found, credentials, bad request: retrying cannot help.
            if (mapped.exitCode !== 4 && mapped.exitCode !== 1) throw new AbortRetry(mapped)
            throw mapped
          }
          sent += res.Successful?.length ?? 0
          const retry: SendMessageBatchRequestEntry[] = []
          for (const f of res.Failed ?? []) {
            const entry = pending.find((e) => e.Id === f.Id)!
            if (f.SenderFault) failed.push({index: Number(f.Id), error: `${f.Code}: ${f.Message}`})
            else retry.push(entry)
          }
          pending = retry
          if (pending.length > 0) throw new Error(`${pending.length} entries failed on the SQS side`)
        },
        {
          retries: 3,
          minTimeout: 200,
          maxTimeout: 2_000,
          shouldRetry: ({error}) => !(error instanceof AbortRetry),
        },
      )
    } catch (err) {
      const message = err instanceof AbortRetry ? err.inner.message : (err as Error).message
      for (const e of pending) failed.push({index: Number(e.Id), error: message})
    }
    return {sent, failed}
  }
}

class AbortRetry extends Error {
  constructor(readonly inner: Error) {
    super(inner.message)
  }
}

function asSqs(target: Target): SqsTarget {
  if (target.kind !== 'sqs') throw new Error(`sqs adapter got a ${target.kind} target`)
  return target
}

/**
 * Client settings: region from the URL, context or AWS_REGION; endpoint from the queue URL or the
 * context (ElasticMQ, LocalStack), else AWS_ENDPOINT_URL_SQS or AWS itself (the SDK); credentials
 * from the SDK's standard chain and the context's profile. A local endpoint with no credentials
 * configured gets placeholder ones, as local servers accept any.
 */
export function sqsClientConfig(t: SqsTarget, env = process.env) {
  const region =
    t.region ??
    t.context?.region ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    (t.endpoint ? 'us-east-1' : undefined)
  const profile = t.context?.profile
  const local =
    t.endpoint !== undefined && /^https?:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?/.test(t.endpoint)
  const hasCredentials = Boolean(
    env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || profile || env.AWS_WEB_IDENTITY_TOKEN_FILE,
  )
  return {
    ...(region ? {region} : {}),
    ...(t.endpoint ? {endpoint: t.endpoint} : {}),
    ...(profile ? {profile} : {}),
    ...(local && !hasCredentials ? {credentials: {accessKeyId: 'local', secretAccessKey: 'local'}} : {}),
    maxAttempts: 3,
  }
}
