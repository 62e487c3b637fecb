/**
 * Groups an async iterable into arrays of at most `maxItems`, flushing early when the source has
 * nothing ready for `maxWaitMs` — so a slow or rate-limited source is not held back waiting for a
 * full batch, and a fast one still gets big batches.
 */
export async function* batches<T>(
  source: AsyncIterable<T>,
  opts: {maxItems: number; maxWaitMs: number},
): AsyncGenerator<T[]> {
  const it = source[Symbol.asyncIterator]()
  let batch: T[] = []
  let pending: Promise<IteratorResult<T>> | undefined
  try {
    for (;;) {
      pending ??= it.next()
      let result: IteratorResult<T> | 'timeout'
      if (batch.length === 0) {
        result = await pending
      } else {
        let timer: NodeJS.Timeout | undefined
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(resolve, opts.maxWaitMs, 'timeout')
        })
        result = await Promise.race([pending, timeout])
        clearTimeout(timer)
      }
      if (result === 'timeout') {
        yield batch
        batch = []
        continue
      }
      pending = undefined
      if (result.done) break
      batch.push(result.value)
      if (batch.length >= opts.maxItems) {
        yield batch
        batch = []
      }
    }
    if (batch.length > 0) yield batch
  } finally {
    if (pending === undefined) await it.return?.()
  }
}
