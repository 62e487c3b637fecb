import type {BatchSender, BrokerAdapter, PublishOptions, PublishOutcome} from '../../adapters/types.js'
import type {Target} from '../../config/targets.js'
import type {Envelope} from '../../envelope/envelope.js'
import {AsyncQueue} from '../../util/async-queue.js'

/** A batch pushed in: its outcomes, filled in as the publish settles them. */
interface Pending {
  /** The publish's index of the batch's first message. */
  first: number
  outcomes: PublishOutcome[]
  left: number
  resolve(): void
}

/** A sender to `dest`: the adapter's own where it has one, else a publish() fed batch by batch. */
export async function openSender(
  adapter: BrokerAdapter,
  dest: Target,
  opts: Omit<PublishOptions, 'signal' | 'onSettled' | 'onProgress'>,
): Promise<BatchSender> {
  return adapter.openSender
    ? adapter.openSender(dest, {...opts, signal: new AbortController().signal})
    : new PublishSink(adapter, dest, opts)
}

/**
 * One publish() kept open to a destination for a whole replay: each batch is pushed in and its
 * outcomes awaited, so the producer (Kafka: its connection, metadata and idempotent producer id;
 * SQS: its batches in flight) is set up once, not per batch. The publish is never aborted (a
 * batch under way is finished on Ctrl-C; the replay stops pushing).
 */
export class PublishSink implements BatchSender {
  readonly #input = new AsyncQueue<Envelope>(Number.POSITIVE_INFINITY)
  /** Batches not fully settled, oldest first (the publish settles its input in about that order). */
  readonly #pending: Pending[] = []
  #next = 0
  #failure: unknown
  readonly #done: Promise<void>

  constructor(
    adapter: BrokerAdapter,
    dest: Target,
    opts: Omit<PublishOptions, 'signal' | 'onSettled' | 'onProgress'>,
  ) {
    this.#done = adapter
      .publish(dest, this.#input, {
        ...opts,
        signal: new AbortController().signal,
        onSettled: (i, o) => this.#settle(i, o),
      })
      .then(
        () => this.#settleRest({status: 'failed', error: 'no answer from the destination'}),
        (err) => {
          this.#failure = err
          this.#settleRest({status: 'failed', error: (err as Error).message})
        },
      )
  }

  /**
   * Sends `envs` and resolves with each one's outcome, in order. Rejects with the publish's error
   * when the destination failed as a whole (missing, unreachable): nothing more goes there.
   */
  async send(envs: Envelope[]): Promise<PublishOutcome[]> {
    if (this.#failure) throw this.#failure
    if (envs.length === 0) return []
    const outcomes: PublishOutcome[] = new Array(envs.length)
    const settled = new Promise<void>((resolve) =>
      this.#pending.push({first: this.#next, outcomes, left: envs.length, resolve}),
    )
    this.#next += envs.length
    await this.#input.push(...envs)
    await settled
    if (this.#failure) throw this.#failure
    return outcomes
  }

  /** Ends the publish once what was pushed is settled. */
  async close(): Promise<void> {
    this.#input.close()
    await this.#done
  }

  #settle(i: number, o: PublishOutcome): void {
    const p = this.#pending.find((b) => i >= b.first && i < b.first + b.outcomes.length)
    if (!p || p.outcomes[i - p.first] !== undefined) return
    p.outcomes[i - p.first] = o
    if (--p.left === 0) {
      this.#pending.splice(this.#pending.indexOf(p), 1)
      p.resolve()
    }
  }

  #settleRest(o: PublishOutcome): void {
    for (const p of this.#pending.splice(0)) {
      for (let i = 0; i < p.outcomes.length; i++) p.outcomes[i] ??= o
      p.resolve()
    }
  }
}
