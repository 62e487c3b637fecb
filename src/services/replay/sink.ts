import type {BrokerAdapter, PublishOptions, PublishOutcome} from '../../adapters/types.js'
import type {Target} from '../../config/targets.js'
import type {Envelope} from '../../envelope/envelope.js'
import {AsyncQueue} from '../../util/async-queue.js'

/**
 * One publish() kept open to a destination for a whole replay: each batch is pushed in and its
 * outcomes awaited, so the producer (Kafka: its connection, metadata and idempotent producer id;
 * SQS: its batches in flight) is set up once, not per batch. The publish is never aborted (a
 * batch under way is finished on Ctrl-C; the replay stops pushing).
 */
export class PublishSink {
  readonly #input = new AsyncQueue<Envelope>(Number.POSITIVE_INFINITY)
  readonly #waiting = new Map<number, (o: PublishOutcome) => void>()
  #next = 0
  #failure: unknown
  readonly #done: Promise<void>

  constructor(adapter: BrokerAdapter, dest: Target, opts: Omit<PublishOptions, 'signal' | 'onSettled'>) {
    this.#done = adapter
      .publish(dest, this.#input, {
        ...opts,
        signal: new AbortController().signal,
        onSettled: (i, o) => {
          const settle = this.#waiting.get(i)
          this.#waiting.delete(i)
          settle?.(o)
        },
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
    const outcomes = envs.map(() => {
      const i = this.#next++
      return new Promise<PublishOutcome>((resolve) => this.#waiting.set(i, resolve))
    })
    await this.#input.push(...envs)
    const all = await Promise.all(outcomes)
    if (this.#failure) throw this.#failure
    return all
  }

  /** Ends the publish once what was pushed is settled. */
  async close(): Promise<void> {
    this.#input.close()
    await this.#done
  }

  #settleRest(o: PublishOutcome): void {
    for (const settle of this.#waiting.values()) settle(o)
    this.#waiting.clear()
  }
}
