/**
 * Splits a byte stream into lines on \n, byte-exact (no decoding, so binary and invalid UTF-8
 * survive; \r is kept). The last line is yielded even without a trailing newline.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let carry: Buffer | undefined
  for await (const chunk of chunks) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (carry) {
      buf = Buffer.concat([carry, buf])
      carry = undefined
    }
    let start = 0
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      yield buf.subarray(start, nl)
      start = nl + 1
    }
    if (start < buf.length) carry = Buffer.from(buf.subarray(start))
  }
  if (carry && carry.length > 0) yield carry
}
