/**
 * The length of the settled prefix of a sequence settled out of order: after mark(0), mark(2)
 * it is 1; after mark(1) too, 3. What a resume relies on: every index below `settled` is settled,
 * the one at `settled` is not. Memory is what is settled ahead of the prefix, not the whole run.
 */
export class Watermark {
  #settled = 0
  readonly #ahead = new Set<number>()

  get settled(): number {
    return this.#settled
  }

  mark(index: number): void {
    if (index < this.#settled) return
    if (index > this.#settled) {
      this.#ahead.add(index)
      return
    }
    this.#settled++
    while (this.#ahead.delete(this.#settled)) this.#settled++
  }
}
