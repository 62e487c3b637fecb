import pThrottle from 'p-throttle'

/**
 * Passes items through at most `perSecond` per second (p-throttle does the timing). Windows are
 * 1/50 s wide so the flow is smooth rather than one burst per second.
 */
export async function* throttled<T>(
  source: AsyncIterable<T>,
  perSecond: number,
  signal: AbortSignal,
): AsyncGenerator<T> {
  const tick = rateLimiter(perSecond, signal)
  for await (const item of source) {
    if (signal.aborted) return
    try {
      await tick()
    } catch {
      return // aborted while waiting
    }
    yield item
  }
}

/**
 * A tick to await before each item: resolves at most `perSecond` times per second, in windows
 * 1/50 s wide; rejects once `signal` aborts.
 */
export function rateLimiter(perSecond: number, signal: AbortSignal): () => Promise<void> {
  const limit = Math.max(1, Math.ceil(perSecond / 50))
  const tick = pThrottle({limit, interval: Math.round((1000 * limit) / perSecond), signal})(() => {})
  return async () => {
    await tick()
  }
}
