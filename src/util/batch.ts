/**
 * Groups an async iterable into arrays of at most `maxItems`, flushing early when a batch has
 * waited `maxWaitMs` since its first item — so a slow or rate-limited source is not held back
 * waiting for a full batch, and a fast one still gets big batches. One timer per batch, not per
 * item (a million timers cost seconds).
 */
export async function* batches<T>(
  source: AsyncIterable<T>,
  opts: {maxItems: number; maxWaitMs: number},
): AsyncGenerator<T[]> {
  const it = source[Symbol.asyncIterator]()
  let batch: T[] = []
  let pending: Promise<IteratorResult<T>> | undefined
  let timer: NodeJS.Timeout | undefined
  let deadline: Promise<'timeout'> | undefined
  const startClock = () => {
    deadline = new Promise((resolve) => {
      timer = setTimeout(resolve, opts.maxWaitMs, 'timeout')
    })
  }
  const stopClock = () => {
    clearTimeout(timer)
    deadline = undefined
  }
  try {
    for (;;) {
      pending ??= it.next()
      const result = deadline ? await Promise.race([pending, deadline]) : await pending
      if (result === 'timeout') {
        stopClock()
        yield batch
        batch = []
        continue
      }
      pending = undefined
      if (result.done) break
      batch.push(result.value)
      if (batch.length === 1) startClock()
      if (batch.length >= opts.maxItems) {
        stopClock()
        yield batch
        batch = []
      }
    }
    stopClock()
    if (batch.length > 0) yield batch
  } finally {
    stopClock()
    if (pending === undefined) await it.return?.()
  }
}
