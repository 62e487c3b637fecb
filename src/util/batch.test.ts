import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {batches} from './batch.js'
import {splitLines} from './lines.js'

async function* gen<T>(items: T[], delayMs = 0): AsyncGenerator<T> {
  for (const i of items) {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs))
    yield i
  }
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

describe('batches', () => {
  test('fills batches up to maxItems from a fast source', async () => {
    expect(await all(batches(gen([1, 2, 3, 4, 5]), {maxItems: 2, maxWaitMs: 1000}))).toEqual([
      [1, 2],
      [3, 4],
      [5],
    ])
  })

  test('flushes early when a slow source has nothing ready', async () => {
    const got = await all(batches(gen([1, 2, 3], 60), {maxItems: 100, maxWaitMs: 10}))
    expect(got).toEqual([[1], [2], [3]])
  })

  test('an empty source yields nothing', async () => {
    expect(await all(batches(gen([]), {maxItems: 5, maxWaitMs: 5}))).toEqual([])
  })
})

describe('splitLines', () => {
  test('splits across chunk boundaries, byte-exact, keeping \\r and a last line without newline', async () => {
    const chunks = [Buffer.from('a\r\nb'), Buffer.from([0xff, 0x0a]), Buffer.from('\nlast')]
    const lines = await all(splitLines(gen(chunks)))
    expect(lines.map((l) => l.toString('hex'))).toEqual([
      '610d',
      Buffer.from([0x62, 0xff]).toString('hex'),
      '',
      Buffer.from('last').toString('hex'),
    ])
  })

  test('any bytes cut into any chunks give the same lines as one split on \\n', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({maxLength: 200}).map((b) => b.map((x) => (x % 4 === 0 ? 10 : x))),
        fc.array(fc.nat(200), {maxLength: 8}),
        async (bytes, cuts) => {
          const buf = Buffer.from(bytes)
          const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b)
          const chunks = [0, ...at].map((from, i, all) => buf.subarray(from, all[i + 1] ?? buf.length))
          const want = buf.toString('latin1').split('\n')
          if (want.at(-1) === '') want.pop()
          const got = (await all(splitLines(gen(chunks.filter((c) => c.length > 0))))).map((l) =>
            l.toString('latin1'),
          )
          expect(got).toEqual(want)
        },
      ),
    )
  })
})
