import {setMaxListeners} from 'node:events'
import type {Target} from '../../config/targets.js'
import {type Emit, type UserEvent, warning} from '../../events.js'
import type {DeadLetterQueue, DeadLetterSource} from '../types.js'
import type {CallOptions, SqsPort} from './port.js'

type SqsTarget = Extract<Target, {kind: 'sqs'}>

/** What the adapter lends: its port, its bounded call, and where warnings go. */
export interface DeadLetterDeps {
  sqs: SqsPort
  call<T>(
    what: string,
    fn: (o: CallOptions) => Promise<T>,
    b?: {signal?: AbortSignal; queue?: string},
  ): Promise<T>
  /** The queue's URL (GetQueueUrl), for a target named by name. */
  urlOf(target: SqsTarget, signal: AbortSignal): Promise<string>
  emit?: Emit
}

/**
 * GetQueueAttributes calls at once: SQS has no batch form, so 2,000 queues are 2,000 calls. They
 * go in waves (see inWaves), not as a sliding window.
 */
const CONCURRENCY = 16

interface Queue {
  url: string
  name: string
  arn: string
  attributes: Record<string, string>
}

/**
 * SQS dead-letter queues: queues named in another queue's RedrivePolicy.deadLetterTargetArn.
 * A whole region (or endpoint): every queue's attributes (ListQueues pages followed, the
 * attribute calls CONCURRENCY at a time), the DLQs and their sources from the redrive policies.
 * One queue: it, with the sources ListDeadLetterSourceQueues names. Read-only.
 */
export async function listSqsDeadLetters(
  deps: DeadLetterDeps,
  scope: SqsTarget,
  signal: AbortSignal,
): Promise<DeadLetterQueue[]> {
  // Each call in flight listens to the signal (Ctrl-C); CONCURRENCY of them at once is no leak.
  setMaxListeners(CONCURRENCY * 4, signal)
  if (scope.queueName === '') return wholeRegion(deps, scope, signal)
  const url = await deps.urlOf(scope, signal)
  const q = await attributesOf(deps, url, signal)
  if (!q) return []
  const sourceUrls: string[] = []
  let token: string | undefined
  do {
    const page = await deps.call(
      'ListDeadLetterSourceQueues',
      (o) =>
        deps.sqs.listDeadLetterSourceQueues(
          {QueueUrl: url, MaxResults: 1000, ...(token ? {NextToken: token} : {})},
          o,
        ),
      {signal, queue: scope.queueName},
    )
    sourceUrls.push(...(page.queueUrls ?? []))
    token = page.NextToken
  } while (token)
  const sources = (await inWaves(sourceUrls, (u) => attributesOf(deps, u, signal))).filter(
    (x): x is Queue => x !== undefined,
  )
  const warnings: UserEvent[] = []
  if (sources.length === 0)
    warnings.push(
      warning(
        'NOT_A_DLQ',
        `no queue names ${q.name} as its dead-letter queue (no redrive policy points here).`,
      ),
    )
  return [await describe(deps, scope, q, sources, warnings, signal)]
}

async function wholeRegion(
  deps: DeadLetterDeps,
  scope: SqsTarget,
  signal: AbortSignal,
): Promise<DeadLetterQueue[]> {
  const urls: string[] = []
  let token: string | undefined
  try {
    do {
      const page = await deps.call(
        'ListQueues',
        (o) => deps.sqs.listQueues({MaxResults: 1000, ...(token ? {NextToken: token} : {})}, o),
        {signal},
      )
      urls.push(...(page.QueueUrls ?? []))
      token = page.NextToken
    } while (token)
  } catch (err) {
    if (!notPermitted(err)) throw err
    deps.emit?.(
      warning(
        'NOT_PERMITTED',
        `sqs:ListQueues is not permitted for these credentials, so no queue can be found${urls.length ? ` beyond the first ${urls.length}` : ''}. Grant sqs:ListQueues and sqs:GetQueueAttributes, or name a DLQ: evtctl dlq list sqs://REGION/QUEUE.`,
      ),
    )
    if (urls.length === 0) return []
  }
  let denied = 0
  const queues = (
    await inWaves(urls, async (u) => {
      try {
        return await attributesOf(deps, u, signal)
      } catch (err) {
        if (!notPermitted(err)) throw err
        denied++
        return undefined
      }
    })
  ).filter((x): x is Queue => x !== undefined)
  if (denied > 0)
    deps.emit?.(
      warning(
        'NOT_PERMITTED',
        `sqs:GetQueueAttributes is not permitted on ${denied} of ${urls.length} queue(s); their redrive policies (and any DLQ only they name) are not listed.`,
      ),
    )
  const byArn = new Map(queues.map((q) => [q.arn, q]))
  const sourcesOf = new Map<string, Queue[]>()
  for (const q of queues) {
    const dlqArn = redrive(q)?.deadLetterTargetArn
    if (!dlqArn) continue
    sourcesOf.set(dlqArn, [...(sourcesOf.get(dlqArn) ?? []), q])
  }
  const elsewhere = [...sourcesOf.keys()].filter((arn) => !byArn.has(arn))
  for (const arn of elsewhere)
    deps.emit?.(
      warning(
        'DLQ_ELSEWHERE',
        `${sourcesOf
          .get(arn)!
          .map((q) => q.name)
          .join(
            ', ',
          )} dead-letter(s) to ${arn}, which is not among the queues listed here (another account or region, or deleted).`,
      ),
    )
  const dlqs = [...sourcesOf.keys()].filter((arn) => byArn.has(arn)).sort()
  return inWaves(dlqs, (arn) => describe(deps, scope, byArn.get(arn)!, sourcesOf.get(arn)!, [], signal))
}

/**
 * `fn` of every item, CONCURRENCY at a time, in waves: the next wave starts once the whole last
 * one answered. Not a sliding window (p-map), which refills a slot as soon as any call answers:
 * same calls, same most in flight, yet over 500 queues on ElasticMQ it cost 0.3–0.4 s more CPU
 * and was slower (bench/dlq-list.sh; a lone refill per answer keeps client and server running
 * side by side on the two cores instead of in turns, and every SDK call got slower for it). A
 * failure (Ctrl-C is CallAborted) rejects at once, as p-map did; later waves are not started.
 */
async function inWaves<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += CONCURRENCY)
    out.push(...(await Promise.all(items.slice(i, i + CONCURRENCY).map(fn))))
  return out
}

async function describe(
  deps: DeadLetterDeps,
  scope: SqsTarget,
  q: Queue,
  sources: Queue[],
  warnings: UserEvent[],
  signal: AbortSignal,
): Promise<DeadLetterQueue> {
  const a = q.attributes
  // A move task takes messages out of the DLQ: with none in it (visible or in flight), nothing is
  // being moved, so the call is spared (most DLQs of a large estate are empty).
  const busy =
    Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) > 0
  const moveTask = busy ? await runningMoveTask(deps, q, signal) : undefined
  if (moveTask)
    warnings.push(
      warning(
        'MOVE_TASK_RUNNING',
        `a message move task is ${moveTask.status.toLowerCase()}: ${moveTask.moved ?? 0} of ${moveTask.toMove ?? '?'} moved${moveTask.destination ? ` to ${moveTask.destination}` : ' back to the sources'}.`,
      ),
    )
  const own = redrive(q)
  return {
    target: queueTarget(scope, q),
    depth: Number(a.ApproximateNumberOfMessages ?? 0),
    depthExact: false,
    depthNote: 'SQS counts are approximate',
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    sources: sources
      .map(
        (s): DeadLetterSource => ({
          target: queueTarget(scope, s).url,
          ...(redrive(s)?.maxReceiveCount !== undefined
            ? {maxReceiveCount: Number(redrive(s)!.maxReceiveCount)}
            : {}),
          by: 'redrive-policy',
        }),
      )
      .sort((x, y) => (x.target < y.target ? -1 : 1)),
    ...(moveTask ? {moveTask} : {}),
    ...(own
      ? {
          unscannable: `${q.name} has a redrive policy of its own (maxReceiveCount ${own.maxReceiveCount}): a receive would count toward it, so --scan does not read it. Use evtctl tail --allow-receive-count to browse it anyway.`,
        }
      : {}),
    warnings,
  }
}

/** A move task started or running on the DLQ; undefined when none, or when the server has no such call. */
async function runningMoveTask(
  deps: DeadLetterDeps,
  q: Queue,
  signal: AbortSignal,
): Promise<DeadLetterQueue['moveTask'] | undefined> {
  try {
    const res = await deps.call(
      'ListMessageMoveTasks',
      (o) => lean(deps.sqs.listMessageMoveTasks({SourceArn: q.arn, MaxResults: 1}), o),
      {signal, queue: q.name},
    )
    const t = res.Results?.[0]
    if (!t || (t.Status !== 'RUNNING' && t.Status !== 'CANCELLING')) return undefined
    return {
      status: t.Status,
      ...(t.ApproximateNumberOfMessagesMoved !== undefined
        ? {moved: Number(t.ApproximateNumberOfMessagesMoved)}
        : {}),
      ...(t.ApproximateNumberOfMessagesToMove !== undefined
        ? {toMove: Number(t.ApproximateNumberOfMessagesToMove)}
        : {}),
      ...(t.DestinationArn ? {destination: t.DestinationArn} : {}),
    }
  } catch (err) {
    if (signal.aborted) throw err
    // Not offered (an older ElasticMQ) or not permitted: nothing to say about moves.
    return undefined
  }
}

async function attributesOf(
  deps: DeadLetterDeps,
  url: string,
  signal: AbortSignal,
): Promise<Queue | undefined> {
  const name = url.slice(url.lastIndexOf('/') + 1)
  try {
    const res = await deps.call(
      'GetQueueAttributes',
      (o) => lean(deps.sqs.getQueueAttributes({QueueUrl: url, AttributeNames: ['All']}), o),
      {signal, queue: name},
    )
    const attributes = (res.Attributes ?? {}) as Record<string, string>
    return {url, name, arn: attributes.QueueArn ?? '', attributes}
  } catch (err) {
    // Deleted between the listing and this call: not there any more.
    if ((err as {exitCode?: number}).exitCode === 5) return undefined
    throw err
  }
}

function redrive(q: Queue): {deadLetterTargetArn?: string; maxReceiveCount?: number | string} | undefined {
  const text = q.attributes.RedrivePolicy
  if (!text) return undefined
  try {
    return JSON.parse(text) as {deadLetterTargetArn?: string; maxReceiveCount?: number | string}
  } catch {
    return undefined
  }
}

/** The queue as a target of the scope's endpoint: sqs://REGION/NAME on AWS, its URL elsewhere. */
function queueTarget(scope: SqsTarget, q: Queue): SqsTarget {
  const url = scope.endpoint ? q.url : `sqs://${scope.region}/${q.name}`
  return {...scope, url, queueName: q.name, queueUrl: q.url}
}

/** An identity without the permission (not bad credentials, which stay exit 3). */
function notPermitted(err: unknown): boolean {
  const cause = (err as {cause?: unknown}).cause ?? err
  const e = cause as {name?: string; Code?: string; code?: string}
  return /AccessDenied|NotAuthorized|Forbidden/i.test(`${e.name ?? ''} ${e.Code ?? ''} ${e.code ?? ''}`)
}

/**
 * One of the many small listing calls, made without call options and given up (not cancelled)
 * when `o.abortSignal` fires: Ctrl-C or the adapter's time-out (`call` maps the reason). Any call
 * options, even an abort signal alone, make the SDK resolve its middleware stack anew for the
 * call; without them it serves the stack it cached (sqsClientConfig sets cacheMiddleware), which
 * saved ~0.2 s of CPU over 500 queues. (A per-call requestTimeout cost more still: it clones the
 * handler configuration, about a third of the CPU of listing 1,100 queues.) A call given up stays
 * bounded by the client's own per-attempt time-out, and close() (client.destroy) ends it. These
 * calls only read, so giving one up changes nothing at the server.
 */
function lean<T>(call: Promise<T>, o: CallOptions): Promise<T> {
  const signal = o.abortSignal
  if (!signal) return call
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, {once: true})
    call.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
