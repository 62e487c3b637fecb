import type {BrokerAdapter, ReadOptions} from '../adapters/types.js'
import type {Target} from '../config/targets.js'
import type {Envelope} from '../envelope/envelope.js'
import type {EventFilter} from './filter.js'

export interface TailOptions {
  read: ReadOptions
  max?: number
  filter?: EventFilter
  signal: AbortSignal
  /** Acknowledge (delete) each message once written: SQS `--consume`. Off by default. */
  ackAfterWrite?: boolean
  /** Writes one event; its promise resolves when the output can take more (back-pressure). */
  write: (env: Envelope) => Promise<void> | void
}

export interface TailReport {
  /** Messages read from the broker. */
  read: number
  /** Messages that passed the filters and were written. */
  written: number
  stoppedBy: 'end' | 'max' | 'aborted'
}

/** Reads and writes events. Never acks, commits or deletes anything unless ackAfterWrite. */
export async function tailEvents(
  adapter: BrokerAdapter,
  target: Target,
  opts: TailOptions,
): Promise<TailReport> {
  let read = 0
  let written = 0
  if (opts.max === 0) return {read, written, stoppedBy: 'max'}
  for await (const delivery of adapter.read(target, opts.read, opts.signal)) {
    read++
    if (opts.filter && !(await opts.filter(delivery.envelope))) continue
    await opts.write(delivery.envelope)
    // Only after the copy is out: nothing is deleted before it was written.
    if (opts.ackAfterWrite) await delivery.ack()
    written++
    if (opts.max !== undefined && written >= opts.max) return {read, written, stoppedBy: 'max'}
    if (opts.signal.aborted) break
  }
  return {read, written, stoppedBy: opts.signal.aborted ? 'aborted' : 'end'}
}
