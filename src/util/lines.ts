/**
 * Splits a byte stream into lines on \n, byte-exact (no decoding, so binary and invalid UTF-8
 * survive; \r is kept). The last line is yielded even without a trailing newline.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  for await (const lines of splitLineBatches(chunks)) yield* lines
}

/**
 * The same lines, all those that end in one chunk at a time: a reader that handles a batch
 * without awaiting saves an await per line (1M lines: ~0.5 s).
 */
export async function* splitLineBatches(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer[]> {
  let carry: Buffer[] = []
  for await (const chunk of chunks) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    const lines: Buffer[] = []
    let start = 0
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      if (carry.length > 0) {
        // A line across chunks: joined once, when its end arrives (not once per chunk).
        carry.push(buf.subarray(0, nl))
        lines.push(Buffer.concat(carry))
        carry = []
      } else {
        lines.push(buf.subarray(start, nl))
      }
      start = nl + 1
    }
    if (start < buf.length) carry.push(start === 0 ? buf : buf.subarray(start))
    if (lines.length > 0) yield lines
  }
  if (carry.length > 0) yield [Buffer.concat(carry)]
}
