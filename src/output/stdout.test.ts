import {PassThrough, Writable} from 'node:stream'
import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {BrokenPipe, dataWriter} from './stdout.js'

/** A stream that takes `bytesPerTick` at a time, like a slow pipe. */
function slowSink(bytesPerTick: number) {
  const parts: Buffer[] = []
  let writes = 0
  const stream = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, done) {
      writes++
      parts.push(Buffer.from(chunk))
      setTimeout(done, Math.ceil(chunk.length / bytesPerTick))
    },
  })
  return {stream, bytes: () => Buffer.concat(parts), writes: () => writes}
}

describe('dataWriter', () => {
  test('any mix of text (any Unicode) and bytes, of any size, arrives whole and in order', async () => {
    const piece = fc.oneof(
      fc.string({unit: 'binary', maxLength: 300}),
      fc.uint8Array({maxLength: 300}).map((b) => Buffer.from(b)),
      fc.constantFrom('x'.repeat(70_000), Buffer.alloc(200_000, 7), 'é'.repeat(30_000)),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(piece, {maxLength: 40}), async (pieces) => {
        const sink = slowSink(1_000_000)
        const out = dataWriter(sink.stream, new AbortController())
        for (const p of pieces) await out.write(p)
        await out.end()
        const want = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)))
        expect(sink.bytes().equals(want)).toBe(true)
      }),
      {numRuns: 60},
    )
  }, 30_000) // 100 runs of a property: seconds on a loaded 2-core machine

  test('coalesces many small lines into few writes, and a lone line is written without end()', async () => {
    const sink = slowSink(10_000_000)
    const out = dataWriter(sink.stream, new AbortController())
    for (let i = 0; i < 10_000; i++) await out.write(`{"i":${i}}\n`)
    await out.end()
    expect(sink.writes()).toBeLessThan(20)
    const lone = new PassThrough()
    dataWriter(lone, new AbortController()).write('live\n')
    await new Promise((r) => setImmediate(r))
    expect(lone.read()?.toString()).toBe('live\n')
  })

  test('waits for a slow reader (back-pressure) instead of buffering everything', async () => {
    const sink = slowSink(200_000) // 200 KB per ms
    const out = dataWriter(sink.stream, new AbortController())
    let waited = 0
    for (let i = 0; i < 20_000; i++) {
      const w = out.write(`${'y'.repeat(100)}\n`)
      if (w) {
        waited++
        await w
      }
    }
    await out.end()
    expect(waited).toBeGreaterThan(0)
    expect(sink.stream.writableLength).toBe(0)
  })

  test('a reader that goes away (EPIPE) aborts the read with BrokenPipe', async () => {
    const stream = new Writable({
      write: (_c, _e, done) => done(Object.assign(new Error('EPIPE'), {code: 'EPIPE'})),
    })
    const controller = new AbortController()
    const out = dataWriter(stream, controller)
    await out.write('a\n')
    await out.end().catch(() => {})
    await new Promise((r) => setImmediate(r))
    expect(controller.signal.reason).toBeInstanceOf(BrokenPipe)
    expect(out.broken).toBe(true)
  })
})
