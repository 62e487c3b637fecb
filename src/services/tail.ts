import type {BrokerAdapter, ReadOptions} from '../adapters/types.js'
import {addDecoded, decodeView, prepareView} from '../codecs/chain.js'
import type {Decoder} from '../codecs/types.js'
import type {Target} from '../config/targets.js'
import type {Envelope} from '../envelope/envelope.js'
import {isEvtctlError} from '../errors.js'
import type {EventFilter} from './filter.js'

export interface TailOptions {
  read: ReadOptions
  max?: number
  filter?: EventFilter
  /**
   * Decode keys and values with these decoder chains (schema decoding) before filtering and
   * writing; what was found is added to each envelope (schema, decoded, decodeError).
   */
  decoding?: {value: readonly Decoder[]; key: readonly Decoder[]}
  /**
   * With decoding: whether the decoded view is kept for viewOf() (filters, -o pretty,
   * --format). Off, only the envelope carries what was decoded (-o jsonl, -o raw). Default on.
   */
  keepViews?: boolean
  /** Hears each message whose key or value could not be decoded (with why). */
  onDecodeFailure?: (env: Envelope, error: string) => void
  signal: AbortSignal
  /** Acknowledge (delete) each message once written: SQS `--consume`. Off by default. */
  ackAfterWrite?: boolean
  /** Writes one event; its promise resolves when the output can take more (back-pressure). */
  write: (env: Envelope) => Promise<void> | void
  /**
   * With ackAfterWrite: resolves once everything written so far left the process (to the pipe,
   * file or terminal), false when the output is gone (its reader exited). Without it, a message is
   * acked once write() returned, which may be before its line went anywhere.
   */
  flushed?: () => Promise<boolean>
}

export interface TailReport {
  /** Messages read from the broker. */
  read: number
  /** Messages that passed the filters and were written. */
  written: number
  stoppedBy: 'end' | 'max' | 'aborted'
  /** With ackAfterWrite: messages written whose delete the broker did not confirm (they stay). */
  notAcked: number
  /** With decoding: messages read whose key or value could not be decoded (shown raw, with decodeError). */
  decodeFailed: number
}

/** Reads and writes events. Never acks, commits or deletes anything unless ackAfterWrite. */
export async function tailEvents(
  adapter: BrokerAdapter,
  target: Target,
  opts: TailOptions,
): Promise<TailReport> {
  let read = 0
  let written = 0
  let notAcked = 0
  let decodeFailed = 0
  if (opts.max === 0) return {read, written, stoppedBy: 'max', notAcked, decodeFailed}
  const decoding = opts.decoding
  const view = opts.keepViews === false ? decodeView : prepareView
  // The reader may fetch no more than it will be asked for (SQS: each receive has a cost).
  const readOpts = {...opts.read, max: opts.max, consume: opts.ackAfterWrite}
  const batches = adapter.readBatches
    ? adapter.readBatches(target, readOpts, opts.signal)
    : oneByOne(adapter.read(target, readOpts, opts.signal))
  for await (const batch of batches) {
    for (const delivery of batch) {
      read++
      if (decoding) {
        const env = delivery.envelope
        let made = view(env, decoding.value, decoding.key)
        // A promise only while a schema is being fetched: once per schema id.
        if (made instanceof Promise) made = await made
        if (addDecoded(env, made) > 0) {
          decodeFailed++
          opts.onDecodeFailure?.(env, env.decodeError ?? env.keyDecodeError ?? '')
        }
      }
      if (opts.filter && !(await opts.filter(delivery.envelope))) continue
      // Await only back-pressure: most writes are buffered and return nothing.
      const wrote = opts.write(delivery.envelope)
      if (wrote) await wrote
      if (opts.ackAfterWrite) {
        // One at a time, and only once its line left the process: when the reader has gone
        // (`| head -n 2` exited), this message and everything after it stay in the queue.
        if (opts.flushed && !(await opts.flushed())) break
        try {
          await delivery.ack()
        } catch (err) {
          // The adapter said which and why; the message stays, the read goes on.
          if (!(isEvtctlError(err) && err.code === 'NOT_ACKNOWLEDGED')) throw err
          notAcked++
        }
      }
      written++
      if (opts.max !== undefined && written >= opts.max)
        return {read, written, stoppedBy: 'max', notAcked, decodeFailed}
      if (opts.signal.aborted) break
    }
    if (opts.signal.aborted) break
  }
  return {read, written, stoppedBy: opts.signal.aborted ? 'aborted' : 'end', notAcked, decodeFailed}
}

async function* oneByOne<T>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  for await (const item of items) yield [item]
}
