import type {BrokerAdapter, PublishFailure, PublishOptions} from '../adapters/types.js'
import type {Target} from '../config/targets.js'
import type {Envelope} from '../envelope/envelope.js'
import {throttled} from '../util/rate.js'
import {Watermark} from '../util/watermark.js'

export interface PublishEventsOptions {
  dryRun: boolean
  /** Broker-specific settings passed through to the adapter (partitioning, acks, compression). */
  broker?: Omit<PublishOptions, 'signal' | 'onProgress'>
  /** Messages per second; undefined = as fast as the broker takes them. */
  rate?: number
  signal: AbortSignal
  onProgress?: (sent: number) => void
  /** Dry run: receives each event that would be sent. */
  onDryRun?: (env: Envelope) => Promise<void> | void
}

export interface PublishEventsReport {
  target: string
  dryRun: boolean
  sent: number
  failed: PublishFailure[]
  /** SQS FIFO: accepted but dropped as duplicates (not counted in `sent`). */
  deduplicated?: Array<{index: number; messageId: string}>
  /** Dry run: how many would be sent. */
  wouldSend?: number
  /**
   * Messages 1..settled are settled (sent, failed or dropped as duplicates) and message
   * settled + 1 is not: where a resume starts. Out-of-order sends (SQS) make this smaller than
   * sent + failed while a batch before them is still unconfirmed.
   */
  settled?: number
  durationMs: number
}

/** Sends events to one target. In a dry run, nothing is sent and no adapter is needed. */
export async function publishEvents(
  adapter: BrokerAdapter | undefined,
  target: Target,
  events: AsyncIterable<Envelope>,
  opts: PublishEventsOptions,
): Promise<PublishEventsReport> {
  const started = performance.now()
  const source = opts.rate ? throttled(events, opts.rate, opts.signal) : events
  if (opts.dryRun || !adapter) {
    let count = 0
    for await (const env of source) {
      count++
      await opts.onDryRun?.(env)
    }
    return {
      target: target.url,
      dryRun: true,
      sent: 0,
      failed: [],
      wouldSend: count,
      durationMs: elapsed(started),
    }
  }
  const settled = new Watermark()
  let perMessage = false
  const report = await adapter.publish(target, source, {
    ...opts.broker,
    signal: opts.signal,
    onProgress: opts.onProgress,
    onSettled: (index, outcome) => {
      perMessage = true
      settled.mark(index)
      opts.broker?.onSettled?.(index, outcome)
    },
  })
  return {
    target: target.url,
    dryRun: false,
    ...report,
    // Only from an adapter that reports per message (else the command falls back to counts).
    ...(perMessage ? {settled: settled.settled} : {}),
    durationMs: elapsed(started),
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started)
}
