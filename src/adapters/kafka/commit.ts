import {NotAcknowledgedError} from '../../errors.js'
import {type Emit, warning} from '../../events.js'
import {Watermark} from '../../util/watermark.js'
import {mapKafkaError} from './errors.js'
import type {KafkaFetcherPort} from './port.js'

/**
 * The acks of a consuming Kafka read, as commits of one consumer group. Kafka records progress as
 * one offset per partition, so acks become durable in order: a partition's commit covers every
 * message delivered before the first one not yet acked. ack() of a message resolves once a commit
 * at or past it was written by the group coordinator — so an ack out of order waits for the acks
 * before it. Acks that arrive together go in one OffsetCommit request.
 */
export class GroupCommitter {
  readonly #partitions = new Map<string, PartitionAcks>()
  #flushTimer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  /** Messages whose commit the coordinator confirmed. */
  committed = 0

  constructor(
    private readonly fetcher: KafkaFetcherPort,
    private readonly groupId: string,
    private readonly where: (topic?: string) => {brokers: string[]; topic?: string},
    private readonly emit?: Emit,
  ) {}

  /** Registers a delivered message; returns its ack(). Call in delivery order per partition. */
  delivered(topic: string, partition: number, offset: string): () => Promise<void> {
    const key = `${topic}\u0000${partition}`
    let p = this.#partitions.get(key)
    if (!p) {
      p = {topic, partition, marks: new Watermark(), offsets: [], base: 0, committedSeq: 0, waiting: []}
      this.#partitions.set(key, p)
    }
    const part = p
    const seq = part.base + part.offsets.length
    part.offsets.push(BigInt(offset))
    let acked: Promise<void> | undefined
    return () => {
      acked ??= new Promise<void>((resolve, reject) => {
        part.waiting.push({seq, resolve, reject})
        part.marks.mark(seq)
        this.#schedule()
      })
      return acked
    }
  }

  /** Waits for the commits under way (the read is ending). */
  async drain(): Promise<void> {
    while (this.#flushTimer || this.#flushing) {
      if (this.#flushTimer) {
        clearTimeout(this.#flushTimer)
        this.#flushTimer = undefined
        this.#startFlush()
      }
      await this.#flushing
    }
  }

  /** One commit request at a time; acks that come meanwhile go in the next. */
  #startFlush(): void {
    if (this.#flushing) return
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = undefined
      const more = [...this.#partitions.values()].some(
        (p) => p.waiting.length > 0 && p.marks.settled > p.committedSeq,
      )
      if (more) this.#schedule()
    })
  }

  /** drain(), for at most `ms`; then every ack still waiting is rejected (not acknowledged). */
  async drainWithin(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.drain().catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))])
    clearTimeout(timer)
    for (const p of this.#partitions.values()) {
      for (const w of p.waiting)
        w.reject(new NotAcknowledgedError(`Not committed for group "${this.groupId}": the read ended first.`))
      p.waiting = []
    }
  }

  #schedule(): void {
    if (this.#flushTimer) return
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined
      this.#startFlush()
    }, 5)
  }

  async #flush(): Promise<void> {
    const commits: Array<{p: PartitionAcks; upTo: number}> = []
    for (const p of this.#partitions.values()) {
      const upTo = p.marks.settled
      if (upTo > p.committedSeq) commits.push({p, upTo})
    }
    if (commits.length === 0) return
    const offsets = commits.map(({p, upTo}) => ({
      topic: p.topic,
      partition: p.partition,
      offset: String(p.offsets[upTo - 1 - p.base]! + 1n),
    }))
    let failure: unknown
    try {
      await this.fetcher.commitOffsets(this.groupId, offsets)
    } catch (err) {
      failure = err
    }
    for (const {p, upTo} of commits) {
      const done = p.waiting.filter((w) => w.seq < upTo)
      p.waiting = p.waiting.filter((w) => w.seq >= upTo)
      if (failure === undefined) {
        p.committedSeq = upTo
        // Offsets below the commit are no longer needed.
        p.offsets.splice(0, upTo - p.base)
        p.base = upTo
        for (const w of done) w.resolve()
      } else {
        const mapped = mapKafkaError(failure, this.where(p.topic))
        const message = `Could not commit ${p.topic}[${p.partition}] for group "${this.groupId}" (${mapped.message}); ${done.length} message(s) stay uncommitted. A consuming read records progress only while the group has no running consumers.`
        this.emit?.(warning('NOT_ACKNOWLEDGED', message))
        for (const w of done)
          w.reject(
            new NotAcknowledgedError(message, "Stop the group's consumers, or use another --group.", {
              cause: failure,
            }),
          )
        // Acks that failed to commit are marked again by the next ack's commit (it covers them).
      }
    }
  }
}

interface PartitionAcks {
  topic: string
  partition: number
  /** Acked delivery sequence numbers of this partition. */
  marks: Watermark
  /** Offsets of deliveries from `base` on (seq − base indexes them). */
  offsets: bigint[]
  base: number
  /** Deliveries below this seq are committed. */
  committedSeq: number
  waiting: Array<{seq: number; resolve(): void; reject(err: unknown): void}>
}
