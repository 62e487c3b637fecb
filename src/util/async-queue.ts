/**
 * Bridges a push-style source (the Kafka fetch loop, Pub/Sub streaming pull) to a pull-style async
 * iterator with back-pressure: push() resolves only once the queue is below `highWater` items, so
 * the producer (and the broker fetch behind it) waits for a slow consumer.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = []
  private head = 0
  private closed = false
  private error: unknown
  private wakeReader?: () => void
  private readonly spaceWaiters: Array<() => void> = []

  constructor(private readonly highWater = 10_000) {}

  get size(): number {
    return this.items.length - this.head
  }

  /** Adds items; resolves when there is room again (or the queue was closed). */
  async push(...batch: T[]): Promise<void> {
    if (this.closed) return
    for (const item of batch) this.items.push(item)
    this.wake()
    while (this.size >= this.highWater && !this.closed) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve))
    }
  }

  /** Ends iteration after the queued items; with an error, iteration throws it instead. */
  close(error?: unknown): void {
    if (this.closed) return
    this.closed = true
    this.error = error
    this.wake()
    for (const w of this.spaceWaiters.splice(0)) w()
  }

  private wake(): void {
    const w = this.wakeReader
    this.wakeReader = undefined
    w?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.error !== undefined) throw this.error
      if (this.size > 0) {
        const item = this.items[this.head]!
        this.items[this.head] = undefined as T
        this.head++
        if (this.head > 4096 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head)
          this.head = 0
        }
        if (this.size < this.highWater) for (const w of this.spaceWaiters.splice(0)) w()
        yield item
        continue
      }
      if (this.closed) return
      await new Promise<void>((resolve) => {
        this.wakeReader = resolve
      })
    }
  }
}
