/** How long one metrics request may take (all its pages), whatever the caller's signal allows. */
export const METRICS_CALL_MS = 5_000

/** The window asked for: datapoints arrive minutes late, and the latest one in it is taken. */
export const WINDOW_MS = 10 * 60_000

export const TIMED_OUT = Symbol('metrics call timed out')

/**
 * Runs `fn` with a signal that aborts on the caller's signal or after `ms`. A time-out rejects
 * with TIMED_OUT (so the caller can say "no answer within 5 s" without guessing from the error).
 */
export async function withinMs<T>(
  ms: number,
  signal: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timer = AbortSignal.timeout(ms)
  const both = AbortSignal.any([signal, timer])
  // Raced, not only signalled: a step that ignores the signal (loading a client, resolving
  // credentials through a process or SSO) must not hold the poll past `ms` either.
  let stop = () => {}
  const timedOut = new Promise<never>((_, reject) => {
    const onAbort = () => reject(timer.aborted && !signal.aborted ? TIMED_OUT : signal.reason)
    both.addEventListener('abort', onAbort, {once: true})
    stop = () => both.removeEventListener('abort', onAbort)
  })
  timedOut.catch(() => {})
  try {
    return await Promise.race([fn(both), timedOut])
  } catch (err) {
    if (timer.aborted && !signal.aborted) throw TIMED_OUT
    throw err
  } finally {
    stop()
  }
}

/** The first line of an error's message, at most 200 characters. */
export function brief(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0]!.trim()
  return text.length > 200 ? `${text.slice(0, 199)}…` : text
}

/**
 * Both services keep these metrics at one-minute resolution, so asking more often than once a
 * minute shows nothing new — and CloudWatch bills GetMetricData per metric asked. A reading is
 * reused for this long when it covered every name asked now.
 */
export const REUSE_MS = 60_000

/** Remembers the last full reading; `fresh` says whether it still answers for `names`. */
export function readingCache<T>(reuseMs: number, now: () => number) {
  let last: {at: number; names: Set<string>; values: Map<string, T>} | undefined
  return {
    fresh(names: string[]): Map<string, T> | undefined {
      if (!last || now() - last.at >= reuseMs || !names.every((n) => last!.names.has(n))) return undefined
      return new Map(names.flatMap((n) => (last!.values.has(n) ? [[n, last!.values.get(n)!] as const] : [])))
    },
    keep(names: string[], values: Map<string, T>): void {
      last = {at: now(), names: new Set(names), values}
    },
  }
}
