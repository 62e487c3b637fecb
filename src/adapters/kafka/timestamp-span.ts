/**
 * The widest timestamp span one produce request may carry: 2^31 − 1 ms (~24.8 days).
 *
 * A record stores its timestamp as a delta from the first record of its batch, a varlong in
 * Kafka's format. @platformatic/kafka 1.35 writes it with @platformatic/dynamic-buffer 0.3.1,
 * whose `writeVarInt64` is right only while |delta| < 2^31: its zigzag step shifts by 31 instead
 * of 63 and its varint loop looks at 32 bits only. A batch of 2026-01-01 and 2026-11-30 came back
 * with the second record at 2025-02-01 (issue 10). kafkajs and the Java client write it right.
 *
 * So the adapter ends a request before its timestamps would span more than this. Within one
 * request every per-partition batch then has deltas in −(2^31 − 1)…2^31 − 1, which that encoder
 * gets right; a record older than its batch's first (a negative delta) is fine in Kafka's format.
 * Real traffic seldom spans weeks within 500 messages, so this costs nothing in practice.
 */
export const MAX_TIMESTAMP_SPAN_MS = 2n ** 31n - 1n

/** Tracks a request's timestamp range; `fits` says whether one more timestamp keeps it in span. */
export class TimestampSpan {
  private min: bigint | undefined
  private max: bigint | undefined

  fits(ts: bigint): boolean {
    if (this.min === undefined || this.max === undefined) return true
    const lo = ts < this.min ? ts : this.min
    const hi = ts > this.max ? ts : this.max
    return hi - lo <= MAX_TIMESTAMP_SPAN_MS
  }

  add(ts: bigint): void {
    if (this.min === undefined || ts < this.min) this.min = ts
    if (this.max === undefined || ts > this.max) this.max = ts
  }

  reset(): void {
    this.min = undefined
    this.max = undefined
  }
}

/** Splits timestamps, in order, into consecutive runs that each fit the span (for tests and callers). */
export function timestampRuns<T>(items: T[], ts: (item: T) => bigint): T[][] {
  const runs: T[][] = []
  const span = new TimestampSpan()
  let run: T[] = []
  for (const item of items) {
    const t = ts(item)
    if (!span.fits(t)) {
      runs.push(run)
      run = []
      span.reset()
    }
    span.add(t)
    run.push(item)
  }
  if (run.length > 0) runs.push(run)
  return runs
}
