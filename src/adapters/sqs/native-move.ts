import {setTimeout as delay} from 'node:timers/promises'
import type {Target} from '../../config/targets.js'
import {UsageError} from '../../errors.js'
import type {NativeMoveOptions, NativeMoveResult} from '../types.js'
import type {DeadLetterDeps} from './dead-letters.js'

type SqsTarget = Extract<Target, {kind: 'sqs'}>

/** How often the task's progress is read (ListMessageMoveTasks). */
const POLL_MS = 1_000
/** SQS's cap on MaxNumberOfMessagesPerSecond. */
export const NATIVE_MAX_RATE = 500

/**
 * SQS's own redrive (StartMessageMoveTask): SQS moves every message of the DLQ to `dest`, or
 * to the queue each came from. Progress from ListMessageMoveTasks; Ctrl-C cancels the task
 * (CancelMessageMoveTask) — what was moved by then stays moved.
 */
export async function nativeMove(
  deps: DeadLetterDeps & {arnOf(t: SqsTarget, signal: AbortSignal): Promise<string>},
  source: SqsTarget,
  dest: SqsTarget | undefined,
  opts: NativeMoveOptions,
): Promise<NativeMoveResult> {
  const signal = opts.signal
  const sourceArn = await deps.arnOf(source, signal)
  const destArn = dest ? await deps.arnOf(dest, signal) : undefined
  if (opts.rate !== undefined && opts.rate > NATIVE_MAX_RATE)
    throw new UsageError(
      `--rate ${opts.rate} is above what SQS's move task allows (${NATIVE_MAX_RATE} messages per second).`,
      `Give --rate ${NATIVE_MAX_RATE} or less, or drop --native (evtctl's own replay has no such cap).`,
      'RATE_TOO_HIGH',
    )
  const started = await deps.call(
    'StartMessageMoveTask',
    (o) =>
      deps.sqs.startMessageMoveTask(
        {
          SourceArn: sourceArn,
          ...(destArn ? {DestinationArn: destArn} : {}),
          ...(opts.rate !== undefined ? {MaxNumberOfMessagesPerSecond: opts.rate} : {}),
        },
        o,
      ),
    {queue: source.queueName},
  )
  const handle = started.TaskHandle!
  const t0 = Date.now()
  let moved = 0
  let toMove: number | undefined
  for (;;) {
    await delay(POLL_MS, undefined, {signal}).catch(() => {})
    if (signal.aborted) {
      // The task goes on at SQS unless cancelled; cancelling stops it where it is.
      const c = await deps
        .call('CancelMessageMoveTask', (o) => deps.sqs.cancelMessageMoveTask({TaskHandle: handle}, o), {
          queue: source.queueName,
        })
        .catch(() => undefined)
      return {
        status: 'CANCELLED',
        moved: Number(c?.ApproximateNumberOfMessagesMoved ?? moved),
        ...(toMove !== undefined ? {toMove} : {}),
        durationMs: Date.now() - t0,
        task: handle,
      }
    }
    const res = await deps.call(
      'ListMessageMoveTasks',
      (o) => deps.sqs.listMessageMoveTasks({SourceArn: sourceArn, MaxResults: 10}, o),
      {queue: source.queueName},
    )
    const t = res.Results?.find((r) => r.TaskHandle === handle) ?? res.Results?.[0]
    moved = Number(t?.ApproximateNumberOfMessagesMoved ?? moved)
    if (t?.ApproximateNumberOfMessagesToMove !== undefined)
      toMove = Number(t.ApproximateNumberOfMessagesToMove)
    opts.onProgress?.({moved, ...(toMove !== undefined ? {toMove} : {})})
    const status = t?.Status ?? 'RUNNING'
    if (status === 'RUNNING' || status === 'CANCELLING') continue
    return {
      status: status === 'COMPLETED' ? 'COMPLETED' : status === 'CANCELLED' ? 'CANCELLED' : 'FAILED',
      moved,
      ...(toMove !== undefined ? {toMove} : {}),
      ...(t?.FailureReason ? {failureReason: t.FailureReason} : {}),
      durationMs: Date.now() - t0,
      task: handle,
    }
  }
}
