import {setMaxListeners} from 'node:events'
import {setTimeout as delay} from 'node:timers/promises'
import type {BatchResultErrorEntry, Message, SendMessageBatchRequestEntry} from '@aws-sdk/client-sqs'
import DataLoader from 'dataloader'
import pRetry from 'p-retry'
import type {Target} from '../../config/targets.js'
import type {Envelope} from '../../envelope/envelope.js'
import {
  ConfigError,
  type EvtctlError,
  ExitCode,
  isEvtctlError,
  NotAcknowledgedError,
  UnreachableError,
  UnsupportedError,
  UsageError,
} from '../../errors.js'
import {type InfoCode, info as infoEvent, type WarningCode, warning} from '../../events.js'
import {batches} from '../../util/batch.js'
import {Watermark} from '../../util/watermark.js'
import type {LagSourceAware} from '../lag-source.js'
import {cloudWatchSqsMetrics} from '../metrics/cloudwatch.js'
import type {
  AdapterOptions,
  BrokerAdapter,
  DeadLetterAware,
  Delivery,
  NativeRedriveAware,
  PublishFailure,
  PublishOptions,
  PublishOutcome,
  PublishReport,
  ReadOptions,
} from '../types.js'
import {EntryError, type EntryOptions, entryBytes, maxMessageBytes, toEntry, toEnvelope} from './codec.js'
import {listSqsDeadLetters} from './dead-letters.js'
import {mapSqsError} from './errors.js'
import {nativeMove} from './native-move.js'
import type {CallOptions, SqsPort} from './port.js'
import {sqsLagReader} from './queue-depth.js'
import {createSdkPort} from './sdk-port.js'

type SqsTarget = Extract<Target, {kind: 'sqs'}>

const BATCH = 10 // SQS's limit for every *Batch call
const DEFAULT_HOLD_SECONDS = 60
const FIFO_HOLD_SECONDS = 30 // a held FIFO message blocks its whole group
/** SQS's longest visibility timeout (12 h), counted from the receive; also the longest --hold. */
export const MAX_HOLD_SECONDS = 12 * 60 * 60
/** Long-poll wait while following; also the most a Ctrl-C waits (see browse). */
const POLL_SECONDS = 2
/**
 * On a queue with a redrive policy, listed messages are kept hidden until tail stops: a hold is
 * renewed when less than this is left of it (a poll, plus room for a slow request)…
 */
const RENEW_MARGIN_SECONDS = POLL_SECONDS + 5
/** …and lasts at least this long, so that a short --hold does not mean a renewal every second. */
const MIN_KEEP_HIDDEN_SECONDS = 10
/** SendMessageBatch calls in flight at once on a standard queue (16 measured 0.85–1.13× a plain 8-in-flight SDK loop, start-up included; 8 gave 0.76–0.88×). */
const PUBLISH_IN_FLIGHT = 16
/** A consuming FIFO read waits this long between polls while the reader settles what it holds. */
const FIFO_SETTLE_POLL_MS = 50
/** ReceiveMessage calls in flight at once for a batched consuming read (replay). */
const RECEIVES_IN_FLIGHT = 8
/** How long SQS remembers a FIFO deduplication id. */
const DEDUP_WINDOW_MS = 5 * 60_000
/**
 * Time-outs (#18.4: a server that accepts and never answers, or a frozen one, is exit 4 within
 * ~10 s). Each HTTP attempt gets ATTEMPT_MS (a receive: its wait on top, a send: a second per
 * 64 KiB), and a whole call, the SDK's retries included, CALL_MS…
 */
const ATTEMPT_MS = 5_000
const CALL_MS = 8_000
/** …a receive its wait plus RECEIVE_EXTRA_MS (so a stop mid-follow is noticed within ~6 s)… */
const RECEIVE_EXTRA_MS = 4_000
/** …and the release at the end, all of it, RELEASE_MS: the most a Ctrl-C waits for it. */
const RELEASE_MS = 3_000
/** On Ctrl-C, a send, delete or renewal under way gets this long to be confirmed, then is given up. */
const SETTLE_MS = 2_000

interface QueueInfo {
  url: string
  fifo: boolean
  /** FIFO: deduplication ids derived from bodies (ContentBasedDeduplication). */
  contentDedup: boolean
  maxReceiveCount?: number
  /** MaximumMessageSize, body and attributes together. */
  maxMessageBytes: number
  visible: number
  inFlight: number
  delayed: number
}

/** A message this read holds hidden (not yet released or deleted). */
interface Held {
  receipt: string
  /** When it was (last) received: SQS's 12 h limit on hiding it counts from there. */
  receivedAt: number
  hiddenUntil: number
}

/**
 * SQS on @aws-sdk/client-sqs v3. SQS has no non-destructive read: every receive raises
 * ApproximateReceiveCount, and on a queue with a redrive policy that is what moves messages to
 * the dead-letter queue. So `tail` is a careful browse:
 * - a queue with a RedrivePolicy is read only with allowReceiveCount (else exit 2, nothing received);
 *   there, listed messages stay hidden until the read ends (the hold is renewed), so a browse or
 *   follow receives each message once, and a warning names each message whose count nears
 *   maxReceiveCount;
 * - elsewhere each message is hidden for `holdSeconds` so it is listed once;
 * - everything still held is released (visibility 0) at the end, on Ctrl-C and on errors.
 * Deleting happens only through Delivery.ack (tail --consume), one message at a time.
 */
export function createSqsAdapter(
  target: Target,
  opts: AdapterOptions = {},
  port?: SqsPort,
): BrokerAdapter & DeadLetterAware & NativeRedriveAware & LagSourceAware {
  const t = asSqs(target)
  const config = sqsClientConfig(t, process.env, opts.profile)
  const sqs = port ?? createSdkPort(config)
  const where = {
    queue: t.queueName,
    endpoint: config.endpoint,
    region: config.region,
    profile: config.profile ?? process.env.AWS_PROFILE,
  }
  const infos = new Map<string, QueueInfo>()
  const isAws =
    !config.endpoint || /^https?:\/\/([^/]+\.)?amazonaws\.com(\.cn)?(:\d+)?(\/|$)/.test(config.endpoint)
  const at = config.endpoint ?? `SQS in ${config.region ?? 'the default region'}`

  /**
   * One SQS call, bounded: it ends within `ms` (all attempts), as exit 4 when the server did not
   * answer. The caller's `signal` (Ctrl-C) gives it up after `grace()` ms (0: at once) as
   * CallAborted. Other errors come mapped (mapSqsError).
   */
  async function call<T>(
    what: string,
    fn: (o: CallOptions) => Promise<T>,
    b: {ms?: number; attemptMs?: number; signal?: AbortSignal; grace?: () => number; queue?: string} = {},
  ): Promise<T> {
    const ms = b.ms ?? CALL_MS
    const ac = new AbortController()
    const timeUp = setTimeout(() => ac.abort(TIME_UP), ms)
    let graceTimer: NodeJS.Timeout | undefined
    const onAbort = () => {
      const grace = Math.max(0, b.grace?.() ?? 0)
      if (grace === 0) ac.abort(INTERRUPTED)
      else graceTimer = setTimeout(() => ac.abort(INTERRUPTED), grace)
    }
    if (b.signal?.aborted) onAbort()
    else b.signal?.addEventListener('abort', onAbort, {once: true})
    try {
      if (ac.signal.aborted) throw new CallAborted()
      return await fn({abortSignal: ac.signal, requestTimeout: b.attemptMs ?? ATTEMPT_MS})
    } catch (err) {
      if (ac.signal.reason === INTERRUPTED) throw new CallAborted()
      if (ac.signal.reason === TIME_UP) {
        throw new UnreachableError(
          `Cannot reach ${at}: no answer to ${what} within ${Math.round(ms / 1000)} s.`,
          'Check that the endpoint is an SQS service and is up (a stopped or overloaded server accepts connections but does not answer).',
          'BROKER_UNREACHABLE',
          {cause: err},
        )
      }
      // Errors name the queue of this call, not the one the adapter was opened with (#11.4).
      throw mapSqsError(err, b.queue ? {...where, queue: b.queue} : where)
    } finally {
      clearTimeout(timeUp)
      clearTimeout(graceTimer)
      b.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** The queue's URL and settings; a Ctrl-C gives it up at once (CallAborted: nothing was done). */
  /**
   * The queue's URL and settings, and its counts. `fresh`: the counts as they are now (a read
   * plans its end by them), not as an earlier call of this adapter saw them.
   */
  async function info(target_: SqsTarget, signal?: AbortSignal, fresh = false): Promise<QueueInfo> {
    const cached = infos.get(target_.url)
    if (cached && !fresh) return cached
    try {
      const url =
        cached?.url ??
        target_.queueUrl ??
        (
          await call('GetQueueUrl', (o) => sqs.getQueueUrl({QueueName: target_.queueName}, o), {
            signal,
            queue: target_.queueName,
          })
        ).QueueUrl!
      const a =
        (
          await call(
            'GetQueueAttributes',
            (o) => sqs.getQueueAttributes({QueueUrl: url, AttributeNames: ['All']}, o),
            {signal, queue: target_.queueName},
          )
        ).Attributes ?? {}
      const redrive = a.RedrivePolicy
        ? (JSON.parse(a.RedrivePolicy) as {maxReceiveCount?: number | string})
        : undefined
      const result: QueueInfo = {
        url,
        fifo: a.FifoQueue === 'true',
        contentDedup: a.ContentBasedDeduplication === 'true',
        ...(redrive?.maxReceiveCount !== undefined ? {maxReceiveCount: Number(redrive.maxReceiveCount)} : {}),
        maxMessageBytes: maxMessageBytes(a),
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      }
      infos.set(target_.url, result)
      return result
    } catch (err) {
      if (err instanceof CallAborted) throw err
      throw mapSqsError(err, {...where, queue: target_.queueName})
    }
  }

  return {
    kind: 'sqs',
    read: (target_, readOpts, signal) => browse(asSqs(target_), readOpts, signal),
    publish: (target_, events, publishOpts) => publish(asSqs(target_), events, publishOpts),
    listDeadLetters: (scope, signal) =>
      listSqsDeadLetters(
        {
          sqs,
          call,
          urlOf: async (x, sig) => (await info(x, sig)).url,
          ...(opts.emit ? {emit: opts.emit} : {}),
        },
        asSqs(scope),
        signal,
      ),
    nativeMove: (source, dest, moveOpts) =>
      nativeMove(
        {
          sqs,
          call,
          urlOf: async (x, sig) => (await info(x, sig)).url,
          arnOf: async (x, sig) => {
            const url = (await info(x, sig)).url
            const a = await call(
              'GetQueueAttributes',
              (o) => sqs.getQueueAttributes({QueueUrl: url, AttributeNames: ['QueueArn']}, o),
              {signal: sig, queue: x.queueName},
            )
            return a.Attributes!.QueueArn!
          },
        },
        asSqs(source),
        dest ? asSqs(dest) : undefined,
        moveOpts,
      ),
    lagReader: (scope, lagOpts) =>
      sqsLagReader(
        {sqs, call, urlOf: async (x, sig) => (await info(x, sig)).url},
        [asSqs(scope), ...(lagOpts.more ?? []).map(asSqs)],
        lagOpts,
        {
          ...(config.endpoint ? {endpoint: config.endpoint} : {}),
          aws: isAws,
          // CloudWatch only when SQS is AWS itself: an endpoint that is not AWS gets no call (and
          // so no credentials), ElasticMQ has no CloudWatch. The SDK loads on the first poll.
          ...(isAws
            ? {
                metrics: cloudWatchSqsMetrics(async () =>
                  (await import('../metrics/cloudwatch-client.js')).createCloudWatchPort({
                    ...(config.region ? {region: config.region} : {}),
                    ...('profile' in config && config.profile ? {profile: config.profile} : {}),
                  }),
                ),
              }
            : {}),
        },
      ),
    close: async () => sqs.destroy(),
  }

  async function* browse(
    target_: SqsTarget,
    readOpts: ReadOptions,
    signal: AbortSignal,
  ): AsyncGenerator<Delivery> {
    let q: QueueInfo
    try {
      q = await info(target_, signal, true)
    } catch (err) {
      if (err instanceof CallAborted) return // Ctrl-C before anything was received
      throw err
    }
    // Receives, deletes and releases in flight each listen for Ctrl-C on the signal (a replay
    // settles a few hundred messages at once, ten per call; Node warns past 10 listeners).
    setMaxListeners(100, signal)
    const maxCount = q.maxReceiveCount
    if (maxCount !== undefined && !readOpts.allowReceiveCount) {
      throw new UsageError(
        `Queue "${target_.queueName}" has a redrive policy (maxReceiveCount ${maxCount}): every receive, even a look, counts toward it, and messages that reach it are moved to the dead-letter queue.`,
        'Add --allow-receive-count to browse anyway (each message is received once, and you are warned about each one near the limit), or browse its dead-letter queue instead.',
        'RECEIVE_COUNT_OPT_IN',
      )
    }
    const hold = readOpts.holdSeconds ?? (q.fifo ? FIFO_HOLD_SECONDS : DEFAULT_HOLD_SECONDS)
    // With a redrive policy every receive spends one of the message's receives before it is
    // dead-lettered: listed messages are kept hidden (renewed) until the read ends instead of
    // coming back to our own polls, so one tail receives each message once.
    // A reader that settles in batches (replay) has its unsettled messages kept hidden the same way.
    const keepHidden = maxCount !== undefined || (readOpts.consume === true && readOpts.batched === true)
    // A batched reader's --hold is kept as given (an interrupted replay's messages come back after
    // it); it is renewed while they are still being settled.
    const visibility =
      keepHidden && !readOpts.batched
        ? Math.min(MAX_HOLD_SECONDS, Math.max(hold, MIN_KEEP_HIDDEN_SECONDS))
        : hold
    const consume = readOpts.consume === true
    const untilTime = readOpts.until?.kind === 'time' ? readOpts.until.time.getTime() : undefined
    // A --until time already past lists the queue as --until end does, leaving out later messages.
    const pastWindow = untilTime !== undefined && untilTime <= Date.now()
    const untilEnd = readOpts.until?.kind === 'end' || pastWindow
    const emit = readOpts.emit ?? opts.emit
    const notice = (code: InfoCode, m: string) => emit?.(infoEvent(code, m))
    const warn = (code: WarningCode, m: string) => emit?.(warning(code, m))
    notice(
      'READ_PLAN',
      `Browsing ${q.fifo ? 'FIFO ' : ''}queue "${target_.queueName}": ~${q.visible} visible, ~${q.inFlight} in flight, ~${q.delayed} delayed. ` +
        (consume
          ? 'Messages are received one at a time, each deleted once its line was written.'
          : keepHidden
            ? 'Each listed message stays hidden until tail stops (so this tail receives it once), then is released.'
            : `Each received message stays hidden for ${hold}s while listed, then is released.`) +
        (maxCount !== undefined ? ` Each receive counts toward maxReceiveCount ${maxCount}.` : ''),
    )
    if (!readOpts.until && !consume) {
      notice(
        'FOLLOW_PLAN',
        keepHidden
          ? "Following: messages already listed stay hidden while tail runs (the queue's consumers get them only after it stops), so their receive counts rise once. Prefer --until end."
          : `Following: SQS has no way to wait for new messages only, so messages already listed come back every ${hold}s and are received again (not printed again; their receive count rises). Prefer --until end.`,
      )
    }
    const held = new Map<string, Held>()
    /**
     * Consuming: messages handed to the reader and not yet acked or released. At the normal end of
     * the read they stay hidden and the reader's (ack() and release() still work); on Ctrl-C or
     * when the reader stops early they are released with the rest.
     */
    const handed = new Set<string>()
    // Acks and releases made in the same tick go out together, ten per batch call (replay settles
    // a hundred at once; tail --consume one at a time, which stays one call each).
    const deletes = new DataLoader<string, BatchResultErrorEntry | undefined>(
      async (receipts) => {
        const res = await call(
          'DeleteMessageBatch',
          (o) =>
            sqs.deleteMessageBatch(
              {QueueUrl: q.url, Entries: receipts.map((r, j) => ({Id: String(j), ReceiptHandle: r}))},
              o,
            ),
          {signal, grace: () => SETTLE_MS},
        )
        const failed = new Map((res.Failed ?? []).map((f) => [Number(f.Id), f]))
        return receipts.map((_, j) => failed.get(j))
      },
      {maxBatchSize: BATCH, cache: false},
    )
    const releases = new DataLoader<string, void>(
      async (receipts) => {
        await call(
          'ChangeMessageVisibilityBatch',
          (o) =>
            sqs.changeMessageVisibilityBatch(
              {
                QueueUrl: q.url,
                Entries: receipts.map((r, j) => ({Id: String(j), ReceiptHandle: r, VisibilityTimeout: 0})),
              },
              o,
            ),
          {ms: RELEASE_MS, attemptMs: RELEASE_MS},
        )
        return receipts.map(() => undefined)
      },
      {maxBatchSize: BATCH, cache: false},
    )
    let endedNormally = false
    /** Given back one by one by the reader (release()), before the end. */
    let releasedByReader = 0
    const seen = new Set<string>()
    /** MessageId → the receive count last warned about. */
    const warned = new Map<string, number>()
    let listed = 0
    let deleted = 0
    let notDeleted = 0
    let empties = 0
    /** The listing ended by itself: everything listed, or the queue handed out nothing more. */
    let exhausted = false
    /** Why a follow stopped before being asked to (SQS's 12 h limit on hiding a message). */
    let stopped: string | undefined
    const started = Date.now()
    let warnedHold = false

    const warnNearLimit = (id: string, count: number) => {
      if (maxCount === undefined || count < maxCount - 1 || (warned.get(id) ?? 0) >= count) return
      // A message about to be deleted (--consume) needs no warning until it reached the limit.
      if (consume && count < maxCount) return
      warned.set(id, count)
      warn(
        'RECEIVE_COUNT_NEAR_LIMIT',
        count >= maxCount
          ? `message ${id} has now been received ${count} time${count === 1 ? '' : 's'} (maxReceiveCount ${maxCount}): the next receive, by anyone, moves it to the dead-letter queue.`
          : `message ${id} has now been received ${count} time${count === 1 ? '' : 's'} (maxReceiveCount ${maxCount}): after one more receive, the next one moves it to the dead-letter queue.`,
      )
    }

    // Keeps listed messages hidden on a queue with a redrive policy. On a timer, not in the read
    // loop: the loop waits while the reader is busy (a slow pipe), the hold must not.
    let renewing: Promise<void> | undefined
    /** Aborted when the read ends: a renewal under way gets SETTLE_MS more. */
    const ending = new AbortController()
    const warnedRenew = new Set<string>()
    const renew = async () => {
      const now = Date.now()
      const due: Array<[string, Held]> = []
      for (const [id, h] of held) {
        if (h.hiddenUntil - now >= RENEW_MARGIN_SECONDS * 1000) continue
        if (now + visibility * 1000 - h.receivedAt > MAX_HOLD_SECONDS * 1000) {
          stopped ??= `Stopped: message ${id} has been hidden for almost 12 h, the most SQS allows; going on would receive it again and raise its receive count.`
          continue
        }
        due.push([id, h])
      }
      for (let i = 0; i < due.length; i += BATCH) {
        const chunk = due.slice(i, i + BATCH)
        try {
          const res = await call(
            'ChangeMessageVisibilityBatch',
            (o) =>
              sqs.changeMessageVisibilityBatch(
                {
                  QueueUrl: q.url,
                  Entries: chunk.map(([, h], j) => ({
                    Id: String(j),
                    ReceiptHandle: h.receipt,
                    VisibilityTimeout: visibility,
                  })),
                },
                o,
              ),
            {signal: ending.signal, grace: () => SETTLE_MS},
          )
          for (const ok of res.Successful ?? [])
            chunk[Number(ok.Id)]![1].hiddenUntil = now + visibility * 1000
          for (const f of res.Failed ?? []) {
            const [id] = chunk[Number(f.Id)]!
            if (!held.has(id) || warnedRenew.has(id)) continue // deleted or released meanwhile
            warnedRenew.add(id)
            warn(
              'VISIBILITY_NOT_EXTENDED',
              `could not keep message ${id} hidden (${f.Code}: ${f.Message}); it may be received again.`,
            )
          }
        } catch (err) {
          const id = chunk[0]![0]
          if (!warnedRenew.has(id)) {
            warnedRenew.add(id)
            warn(
              'VISIBILITY_NOT_EXTENDED',
              `could not keep ${chunk.length} message(s) hidden (${(err as Error).message}); they may be received again.`,
            )
          }
        }
      }
    }
    const renewTimer = keepHidden
      ? setInterval(() => {
          renewing ??= renew().finally(() => {
            renewing = undefined
          })
        }, 1000)
      : undefined
    renewTimer?.unref()

    try {
      while (!signal.aborted && !stopped) {
        if (untilTime !== undefined && !pastWindow && Date.now() >= untilTime) break
        // No more than still needed (--max), so no message is received, counted and hidden for
        // nothing; one at a time when consuming (unless the reader settles in batches), so nothing is
        // held ahead of what is printed.
        const wanted =
          readOpts.max !== undefined ? Math.max(1, readOpts.max - listed) : Number.POSITIVE_INFINITY
        const size = Math.min(consume && !readOpts.batched ? 1 : BATCH, wanted)
        let messages: Message[]
        const holdAll = (ms: Message[]) => {
          const now = Date.now()
          for (const m of ms)
            held.set(m.MessageId!, {
              receipt: m.ReceiptHandle!,
              receivedAt: now,
              hiddenUntil: now + visibility * 1000,
            })
        }
        try {
          // Short polls, not aborted before their time: an HTTP request given up by the client
          // stays alive on the server, which can still receive a message into it, hidden and
          // counted, with nobody to release it (seen on ElasticMQ). So Ctrl-C waits for the
          // current poll (at most POLL_SECONDS, and a second more) and releases what it brought;
          // only a server that does not answer in that time gets the poll given up.
          // (No wait while a FIFO group waits for the reader to settle, nor in a batched reader's
          // parallel short polls: see below.)
          const wait = untilEnd
            ? (q.fifo && handed.size > 0) || (consume && readOpts.batched && empties === 0)
              ? 0
              : 1
            : untilTime !== undefined
              ? Math.max(0, Math.min(POLL_SECONDS, Math.floor((untilTime - Date.now()) / 1000)))
              : POLL_SECONDS
          const polled = Date.now()
          const receive = (n: number) =>
            call(
              'ReceiveMessage',
              (o) =>
                sqs.receiveMessage(
                  {
                    QueueUrl: q.url,
                    MaxNumberOfMessages: n,
                    WaitTimeSeconds: wait,
                    VisibilityTimeout: visibility,
                    MessageAttributeNames: ['All'],
                    MessageSystemAttributeNames: ['All'],
                  },
                  o,
                ),
              {
                ms: wait * 1000 + RECEIVE_EXTRA_MS,
                attemptMs: wait * 1000 + ATTEMPT_MS - 2_000,
                signal,
                grace: () => polled + wait * 1000 + 1_000 - Date.now(),
              },
            )
          // A batched consumer of the queue as it is (replay) keeps several short polls in flight
          // while the queue hands out messages (together never more than still wanted); after an
          // empty round, one long poll decides whether the end is reached.
          const calls =
            consume && readOpts.batched && untilEnd && empties === 0
              ? Math.min(RECEIVES_IN_FLIGHT, Math.ceil(wanted / BATCH))
              : 1
          const results = await Promise.allSettled(
            Array.from({length: calls}, (_, i) => receive(Math.min(size, wanted - i * BATCH))),
          )
          messages = results.flatMap((r) => (r.status === 'fulfilled' ? (r.value.Messages ?? []) : []))
          // What did arrive is held (and so released at the end) before any failure is raised.
          holdAll(messages)
          const failure = results.find((r) => r.status === 'rejected')
          if (failure) throw failure.reason
        } catch (err) {
          // Interrupted (or the reader went away) while the server did not answer: end as asked.
          if (err instanceof CallAborted || signal.aborted) break
          throw err
        }
        if (signal.aborted) break
        if (messages.length === 0) {
          // A FIFO queue hands out no later message of a group while the reader still holds an
          // earlier one: nothing received is not the end until the reader has settled them.
          if (untilEnd && q.fifo && handed.size > 0) {
            await delay(FIFO_SETTLE_POLL_MS, undefined, {signal}).catch(() => {})
            continue
          }
          // "The end as it was at start": everything listed, or the queue hands out nothing more.
          if (untilEnd && ++empties >= 2) {
            exhausted = true
            break
          }
          continue
        }
        empties = 0
        // The whole batch is held (above) before any of it is yielded: a consumer that stops
        // early (--max, Ctrl-C) still has every received message released.
        for (const m of messages) {
          const id = m.MessageId!
          warnNearLimit(id, Number(m.Attributes?.ApproximateReceiveCount ?? 0))
          if (seen.has(id)) continue // its hold ran out and it came back: listed already
          seen.add(id)
          // --until is exclusive: a message sent at that very millisecond belongs to the next window.
          if (untilTime !== undefined && Number(m.Attributes?.SentTimestamp ?? 0) >= untilTime) continue
          listed++
          if (consume) handed.add(id)
          // No longer held: deleted by this delivery's ack() (a repeat is a no-op), else given back.
          let deletedHere = false
          yield {
            envelope: toEnvelope(target_.url, m),
            // Resolved once SQS confirmed the delete; acks made together go out as one batch call.
            ack: async () => {
              const h = held.get(id)
              if (!h) {
                if (deletedHere) return
                throw new NotAcknowledgedError(
                  `Message ${id} was given back to the queue before it was acknowledged; it stays there.`,
                )
              }
              let f: BatchResultErrorEntry | undefined
              try {
                f = await deletes.load(h.receipt)
              } catch (err) {
                if (!(err instanceof CallAborted)) throw err
                notDeleted++
                const message = `Could not delete message ${id}: interrupted before SQS confirmed it; it may stay in the queue.`
                warn('NOT_ACKNOWLEDGED', message)
                // ack() resolves only once the delete is confirmed: a journal may rely on it.
                throw new NotAcknowledgedError(message)
              }
              if (f) {
                notDeleted++
                const message = `Could not delete message ${id} (${f.Code}: ${f.Message}); it stays in the queue.`
                warn('NOT_ACKNOWLEDGED', message)
                throw new NotAcknowledgedError(message)
              }
              held.delete(id)
              handed.delete(id)
              deletedHere = true
              deleted++
            },
            release: async () => {
              const h = held.get(id)
              if (!h) return
              held.delete(id)
              handed.delete(id)
              releasedByReader++
              await releases.load(h.receipt)
            },
          }
        }
        if (untilEnd && !keepHidden && !warnedHold && Date.now() - started > hold * 800) {
          warnedHold = true
          warn(
            'LISTING_SLOW',
            `listing has taken longer than ${Math.round(hold * 0.8)}s; messages received first may become visible to others again (no message is listed twice). Use --hold for a longer hold.`,
          )
        }
        if (untilEnd && seen.size >= q.visible) {
          exhausted = true
          break
        }
      }
      endedNormally = true
    } finally {
      if (renewTimer) clearInterval(renewTimer)
      // A renewal still under way would hide again what is released next (it gets SETTLE_MS).
      ending.abort()
      await renewing
      if (stopped) warn('LISTING_SLOW', stopped)
      // A consuming read that ended by itself leaves the reader what it was handed (see handed).
      const keep = consume && endedNormally && !signal.aborted ? handed : new Set<string>()
      const toRelease = new Map([...held].filter(([id]) => !keep.has(id)))
      for (const id of toRelease.keys()) held.delete(id)
      const released = await releaseAll(q.url, toRelease)
      notice(
        'READ_SUMMARY',
        `Listed ${listed} of ~${q.visible} message(s) visible at start (SQS counts are approximate)` +
          `${released.ok + releasedByReader ? `; released ${released.ok + releasedByReader}` : ''}` +
          `${released.failed ? `; ${released.failed} could not be released and reappear after ${visibility}s` : ''}.`,
      )
      // On a queue with a redrive policy, messages visible at start that no receive returned
      // may have been moved by that very receive (their count had reached maxReceiveCount).
      const wholeQueue = readOpts.until?.kind === 'end' && readOpts.max === undefined && !q.fifo
      if (q.maxReceiveCount !== undefined && wholeQueue && !signal.aborted && listed < q.visible) {
        warn(
          'NOT_RECEIVED',
          `${q.visible - listed} message(s) visible at start were not received. On a queue with maxReceiveCount ${q.maxReceiveCount}, a receive moves a message whose count reached it to the dead-letter queue instead of returning it: look there (they may be in flight at a consumer, too).`,
        )
      }
      if (consume) {
        notice(
          'CONSUMED',
          `Deleted ${deleted} message(s)${notDeleted ? `; ${notDeleted} printed could not be deleted and stay in the queue` : ''}.`,
        )
      }
      if (q.fifo && exhausted && seen.size < q.visible) {
        warn(
          'FIFO_GROUPS_BLOCKED',
          `Only ${seen.size} of ~${q.visible} could be listed: a FIFO queue hands out no later message of a group while an earlier one is hidden (held by this browse, or in flight at a consumer), so the rest of those groups stays out of reach of a browse. --consume reads on past them, deleting as it goes.`,
        )
      }
    }
  }

  /**
   * Makes every held message visible again at once (ChangeMessageVisibilityBatch to 0), best
   * effort within RELEASE_MS in all: what is left hidden reappears when its hold runs out.
   */
  async function releaseAll(url: string, held: Map<string, Held>): Promise<{ok: number; failed: number}> {
    const entries = [...held.values()].map((h) => h.receipt)
    held.clear()
    let ok = 0
    let failed = 0
    const deadline = Date.now() + RELEASE_MS
    for (let i = 0; i < entries.length; i += BATCH) {
      const chunk = entries.slice(i, i + BATCH)
      const left = deadline - Date.now()
      if (left <= 0) {
        failed += chunk.length
        continue
      }
      try {
        const res = await call(
          'ChangeMessageVisibilityBatch',
          (o) =>
            sqs.changeMessageVisibilityBatch(
              {
                QueueUrl: url,
                Entries: chunk.map((receipt, j) => ({
                  Id: String(j),
                  ReceiptHandle: receipt,
                  VisibilityTimeout: 0,
                })),
              },
              o,
            ),
          {ms: left, attemptMs: left},
        )
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
    let q: QueueInfo
    try {
      q = await info(target_, o.signal)
    } catch (err) {
      if (err instanceof CallAborted) return {sent: 0, failed: []} // Ctrl-C before anything was sent
      throw err
    }
    // Flags that depend on the kind of queue, refused before any input is read (exit 6).
    if (!q.fifo && (o.groupId !== undefined || o.dedupId !== undefined)) {
      throw new UnsupportedError(
        `Queue "${target_.queueName}" is a standard queue: --group-id and --dedup-id are for FIFO queues (names ending in .fifo).`,
        'Drop --group-id and --dedup-id, or publish to a FIFO queue.',
      )
    }
    if (q.fifo && o.delaySeconds !== undefined) {
      throw new UnsupportedError(
        `Queue "${target_.queueName}" is a FIFO queue: SQS refuses a delay per message there (only the queue's own DelaySeconds applies).`,
        "Drop --delay, or set the queue's DelaySeconds attribute.",
      )
    }
    const it = events[Symbol.asyncIterator]()
    const first = await it.next()
    if (first.done) return {sent: 0, failed: []}
    const head = [first.value]
    // One --dedup-id for several messages would have SQS keep the first and drop the rest
    // (reporting each as sent): each message gets its own, derived from it.
    let deriveDedup = false
    if (q.fifo && o.dedupId !== undefined) {
      const second = await it.next()
      if (!second.done) {
        head.push(second.value)
        deriveDedup = true
        o.emit?.(
          warning(
            'DEDUP_ID_SUFFIXED',
            `one --dedup-id for several messages: each is sent with its own, ${o.dedupId}-1, ${o.dedupId}-2, … (SQS would keep only the first of messages sharing one).`,
          ),
        )
      }
    }
    const entryOptions = (i: number): EntryOptions => ({
      fifo: q.fifo,
      contentDedup: q.contentDedup,
      maxBytes: q.maxMessageBytes,
      ...(o.groupId !== undefined ? {groupId: o.groupId} : {}),
      ...(o.dedupId !== undefined ? {dedupId: deriveDedup ? `${o.dedupId}-${i + 1}` : o.dedupId} : {}),
      ...(o.delaySeconds !== undefined ? {delaySeconds: o.delaySeconds} : {}),
    })
    // What SQS would refuse for every message (no group or dedup id on a FIFO queue, a reserved
    // header from -H) is refused before anything is sent.
    try {
      toEntry(first.value, '0', entryOptions(0))
    } catch (err) {
      if (err instanceof EntryError && err.hint) {
        await it.return?.()
        throw new UsageError(
          `Message 1 cannot go to ${q.fifo ? 'FIFO ' : ''}queue "${target_.queueName}": ${err.message}. Nothing was sent.`,
          err.hint,
          'SQS_REFUSED',
        )
      }
    }

    const failed: PublishFailure[] = []
    const watermark = new Watermark()
    const settle = (index: number, outcome: PublishOutcome) => {
      watermark.mark(index)
      o.onSettled?.(index, outcome)
    }
    const deduplicated: Array<{index: number; messageId: string}> = []
    /** FIFO: MessageId → when SQS returned it; a MessageId returned twice is a duplicate dropped. */
    const messageIds = new Map<string, number>()
    /** FIFO: the highest sequence number per group (AWS returns them; a duplicate gets the original's). */
    const lastSequence = new Map<string, bigint>()
    let sent = 0
    let index = 0
    let keysDropped = 0
    /** FIFO group/dedup ids of envelopes (a FIFO capture) that a standard queue cannot keep. */
    let fifoIdsDropped = 0
    // Standard queues keep no order, so several batches go at once; FIFO sends one at a time,
    // as order within a message group is the point of FIFO.
    const parallel = q.fifo ? 1 : PUBLISH_IN_FLIGHT
    // Each send in flight listens for Ctrl-C on the signal (Node warns past 10 listeners).
    setMaxListeners(PUBLISH_IN_FLIGHT + 10, o.signal)
    const inFlight = new Set<Promise<void>>()
    /** The service stopped answering (exit 4 after the SDK's retries): nothing more is sent. */
    let gaveUp: EvtctlError | undefined
    for await (const batch of batches(resume(head, it), {maxItems: BATCH, maxWaitMs: 20})) {
      if (o.signal.aborted || gaveUp) break
      const entries: SendMessageBatchRequestEntry[] = []
      for (const env of batch) {
        const i = index++
        if (env.key != null) keysDropped++
        if (!q.fifo && (env.meta?.groupId !== undefined || env.meta?.dedupId !== undefined)) fifoIdsDropped++
        try {
          entries.push(toEntry(env, String(i), entryOptions(i)))
        } catch (err) {
          if (!(err instanceof EntryError)) throw err
          failed.push({index: i, error: err.message})
          settle(i, {status: 'failed', error: err.message})
        }
      }
      // A batch holds at most the queue's MaximumMessageSize in all (256 KiB by default, at most
      // 1 MiB), bodies and attributes together: ten messages of 200 KiB go as several batches.
      for (const part of byBytes(entries, q.maxMessageBytes)) {
        if (o.signal.aborted || gaveUp) break
        await send(part)
      }
    }
    await Promise.all(inFlight)
    if (gaveUp && !o.signal.aborted) {
      // Sends go out in input order, each settled (sent or failed): none after `settled` was sent.
      // Batches finish out of order: the resume point is the first message not settled.
      const settled = watermark.settled
      failed.sort((a, b) => a.index - b.index)
      const which = failed.slice(0, 10).map((f) => f.index + 1)
      throw new UnreachableError(
        `${gaveUp.message.replace(/\.$/, '')}. Publishing stopped: ${sent} message(s) published` +
          (failed.length
            ? `, ${failed.length} failed (message(s) ${which.join(', ')}${failed.length > which.length ? ', …' : ''}; one without an answer may have arrived)`
            : '') +
          `; nothing after message ${settled} was sent.`,
        `When the service answers again, publish the input from message ${settled + 1} on${failed.length ? ', and check the failed ones' : ''}.`,
        'BROKER_UNREACHABLE',
        {cause: gaveUp},
      )
    }

    async function send(entries: SendMessageBatchRequestEntry[]): Promise<void> {
      const p: Promise<void> = sendWithRetries(q.url, entries, o.signal).then((result) => {
        inFlight.delete(p)
        if (result.unreachable) gaveUp ??= result.unreachable
        let dropped = 0
        if (q.fifo) {
          const now = Date.now()
          for (const [id, at] of messageIds) {
            if (now - at < DEDUP_WINDOW_MS) break // insertion order is time order
            messageIds.delete(id)
          }
          for (const ok of result.ok) {
            const group = entries.find((e) => e.Id === String(ok.index))?.MessageGroupId
            const seq = ok.sequenceNumber !== undefined ? BigInt(ok.sequenceNumber) : undefined
            const last = group !== undefined ? lastSequence.get(group) : undefined
            if (messageIds.has(ok.messageId) || (seq !== undefined && last !== undefined && seq <= last)) {
              deduplicated.push({index: ok.index, messageId: ok.messageId})
              settle(ok.index, {
                status: 'dropped',
                reason: 'SQS took it as a duplicate of a message sent within 5 minutes',
                id: ok.messageId,
              })
              ok.dropped = true
              dropped++
              continue
            }
            messageIds.set(ok.messageId, now)
            if (seq !== undefined && group !== undefined) lastSequence.set(group, seq)
          }
        }
        sent += result.ok.length - dropped
        failed.push(...result.failed)
        for (const ok of result.ok) if (!ok.dropped) settle(ok.index, {status: 'sent', id: ok.messageId})
        for (const f of result.failed) settle(f.index, {status: 'failed', error: f.error})
        o.onProgress?.(sent)
      })
      inFlight.add(p)
      if (inFlight.size >= parallel) await Promise.race(inFlight)
    }
    if (fifoIdsDropped > 0) {
      o.emit?.(
        warning(
          'FIFO_IDS_DROPPED',
          `${fifoIdsDropped} message(s) carried FIFO group/deduplication ids (meta.groupId, meta.dedupId) that queue "${target_.queueName}" cannot keep: it is a standard queue, so they were sent without them.`,
        ),
      )
    }
    if (keysDropped > 0) {
      o.emit?.(
        warning(
          'KEYS_DROPPED',
          `${keysDropped} message key(s) were not sent: SQS messages have no key (FIFO queues group by --group-id).`,
        ),
      )
    }
    if (deduplicated.length > 0) {
      deduplicated.sort((a, b) => a.index - b.index)
      const which = deduplicated.slice(0, 20).map((d) => d.index + 1)
      o.emit?.(
        warning(
          'DEDUPLICATED',
          `${deduplicated.length} message(s) were not added to the queue: SQS took them as duplicates of messages sent within the last 5 minutes (the same deduplication id${q.contentDedup ? ', or the same body' : ''}) and dropped them. Not counted as published: message(s) ${which.join(', ')}${deduplicated.length > which.length ? ', …' : ''}.`,
        ),
      )
    }
    failed.sort((a, b) => a.index - b.index)
    return {sent, failed, ...(deduplicated.length ? {deduplicated} : {})}
  }

  /**
   * SendMessageBatch partially fails: resend only the failed entries that SQS calls retryable
   * (SenderFault false), with p-retry's backoff; report the rest by their input position.
   */
  async function sendWithRetries(
    url: string,
    entries: SendMessageBatchRequestEntry[],
    signal: AbortSignal,
  ): Promise<{
    ok: Array<{index: number; messageId: string; sequenceNumber?: string; dropped?: boolean}>
    failed: PublishFailure[]
    /** The service did not answer, or could not be reached, after all the retries. */
    unreachable?: EvtctlError
  }> {
    let unreachable: EvtctlError | undefined
    let pending = entries
    const ok: Array<{index: number; messageId: string; sequenceNumber?: string; dropped?: boolean}> = []
    const failed: PublishFailure[] = []
    try {
      await pRetry(
        async () => {
          let res: Awaited<ReturnType<SqsPort['sendMessageBatch']>>
          const bytes = pending.reduce((n, e) => n + entryBytes(e), 0)
          try {
            res = await call(
              'SendMessageBatch',
              (o) => sqs.sendMessageBatch({QueueUrl: url, Entries: pending}, o),
              {
                attemptMs: ATTEMPT_MS + Math.floor(bytes / 65_536) * 1000,
                ms: CALL_MS + Math.floor(bytes / 65_536) * 2000,
                signal,
                grace: () => SETTLE_MS,
              },
            )
          } catch (err) {
            if (err instanceof CallAborted) {
              throw new AbortRetry(
                new Error(
                  'interrupted before SQS confirmed the batch (it may have arrived; check before resending)',
                ),
              )
            }
            const mapped = mapSqsError(err, where)
            // Not found, credentials, bad request: retrying cannot help. Nor can one more wait
            // for a server that gave no answer to the SDK's own attempts.
            if ((mapped.exitCode !== 4 && mapped.exitCode !== 1) || /no answer/.test(mapped.message))
              throw new AbortRetry(mapped)
            throw mapped
          }
          for (const s of res.Successful ?? []) {
            ok.push({
              index: Number(s.Id),
              messageId: s.MessageId ?? '',
              ...(s.SequenceNumber ? {sequenceNumber: s.SequenceNumber} : {}),
            })
          }
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
      const inner = err instanceof AbortRetry ? err.inner : (err as Error)
      if (isEvtctlError(inner) && inner.exitCode === ExitCode.Unreachable) unreachable = inner
      for (const e of pending) failed.push({index: Number(e.Id), error: inner.message})
    }
    // In input order, so of two messages with one deduplication id the later counts as the duplicate.
    ok.sort((a, b) => a.index - b.index)
    return {ok, failed, ...(unreachable ? {unreachable} : {})}
  }
}

/** The events already taken from `it`, then the rest of it. */
async function* resume<T>(head: T[], it: AsyncIterator<T>): AsyncGenerator<T> {
  let done = false
  try {
    yield* head
    for (;;) {
      const next = await it.next()
      if (next.done) {
        done = true
        return
      }
      yield next.value
    }
  } finally {
    if (!done) await it.return?.()
  }
}

/** A call given up on Ctrl-C (the caller's signal), not a failure of SQS. */
class CallAborted extends Error {
  constructor() {
    super('interrupted')
  }
}
const TIME_UP = Symbol('time up')
const INTERRUPTED = Symbol('interrupted')

/** Entries in order, as groups of at most `max` bytes (one entry larger than that goes alone). */
function* byBytes(
  entries: SendMessageBatchRequestEntry[],
  max: number,
): Generator<SendMessageBatchRequestEntry[]> {
  let part: SendMessageBatchRequestEntry[] = []
  let bytes = 0
  for (const e of entries) {
    const n = entryBytes(e)
    if (part.length > 0 && bytes + n > max) {
      yield part
      part = []
      bytes = 0
    }
    part.push(e)
    bytes += n
  }
  if (part.length > 0) yield part
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
 * context (ElasticMQ, LocalStack), else AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL, else AWS itself;
 * credentials from the SDK's standard chain, with the profile from --profile or the context. A
 * loopback endpoint, wherever it came from, with no credentials configured gets placeholder
 * ones, as local servers accept any.
 *
 * AWS credentials (the environment's, a profile's) go only to AWS itself or to an endpoint that
 * is configured: the context's own, or AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL. A queue URL
 * naming any other host gets placeholder credentials on loopback, and is refused (exit 3)
 * elsewhere, so a URL from someone else cannot collect them (#18.1).
 */
export function sqsClientConfig(t: SqsTarget, env: NodeJS.ProcessEnv = process.env, profileFlag?: string) {
  const envEndpoint =
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true'
      ? undefined
      : env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || undefined
  const endpoint = t.endpoint ?? envEndpoint
  const region =
    t.region ??
    t.context?.region ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    (endpoint ? 'us-east-1' : undefined)
  const origin = endpoint !== undefined ? originOf(endpoint) : undefined
  const configured =
    endpoint === undefined ||
    (origin !== undefined &&
      (/^https?:\/\/([^/]+\.)?amazonaws\.com(\.cn)?(:\d+)?$/.test(origin) ||
        origin === originOf(t.context?.endpoint) ||
        origin === originOf(envEndpoint)))
  // Loopback, by address or by a name that means it (LocalStack's queue URLs use
  // sqs.REGION.localhost.localstack.cloud). Only placeholder credentials go there unconfigured.
  const local =
    endpoint !== undefined &&
    /^https?:\/\/(([a-z0-9.-]+\.)?localhost(\.localstack\.cloud)?|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(\/|$)/i.test(
      endpoint,
    )
  const timeouts = {
    // Every attempt is bounded (the adapter passes each call's own); see ATTEMPT_MS.
    requestHandler: {connectionTimeout: 3_000, requestTimeout: ATTEMPT_MS, throwOnRequestTimeout: true},
    maxAttempts: 3,
    // A call made without call options reuses the middleware stack resolved for its command
    // (dlq list's listing calls; see dead-letters `lean`); calls with options resolve it as before.
    cacheMiddleware: true,
  }
  if (!configured) {
    const shown = origin ?? endpoint!
    const howTo = `evtctl config set-context NAME --broker sqs --endpoint ${shown} (and --context NAME), or set AWS_ENDPOINT_URL_SQS=${shown}`
    if (profileFlag !== undefined) {
      throw new ConfigError(
        `--profile ${profileFlag} would send that profile's AWS credentials to ${shown}, which is not AWS and which no context or AWS_ENDPOINT_URL_SQS names.`,
        `If ${shown} is your SQS service, configure it: ${howTo}.${local ? ' Without --profile, a loopback server gets placeholder credentials.' : ''}`,
        'ENDPOINT_NOT_CONFIGURED',
      )
    }
    if (!local) {
      throw new ConfigError(
        `Not sending AWS credentials to ${shown}: it is not AWS, and no context or AWS_ENDPOINT_URL_SQS names it.`,
        `If ${shown} is your SQS service, configure it: ${howTo}.`,
        'ENDPOINT_NOT_CONFIGURED',
      )
    }
    // A local server nobody configured accepts any credentials: never the real ones.
    return {
      ...(region ? {region} : {}),
      endpoint: endpoint!,
      credentials: {accessKeyId: 'local', secretAccessKey: 'local'},
      ...timeouts,
    }
  }
  const profile = profileFlag ?? t.context?.profile
  const hasCredentials = Boolean(
    env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || profile || env.AWS_WEB_IDENTITY_TOKEN_FILE,
  )
  return {
    ...(region ? {region} : {}),
    ...(endpoint ? {endpoint} : {}),
    ...(profile ? {profile} : {}),
    ...(local && !hasCredentials ? {credentials: {accessKeyId: 'local', secretAccessKey: 'local'}} : {}),
    ...timeouts,
  }
}

function originOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}
