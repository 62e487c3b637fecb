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
  try {
    return await fn(both)
  } catch (err) {
    if (timer.aborted && !signal.aborted) throw TIMED_OUT
    throw err
  }
}

/** The first line of an error's message, at most 200 characters. */
export function brief(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0]!.trim()
  return text.length > 200 ? `${text.slice(0, 199)}…` : text
}
