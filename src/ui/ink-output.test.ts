import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {beforeAll, describe, expect, test} from 'vitest'
import {
  type InkOutput,
  type InkOutputClass,
  inkOwnGet,
  installPlainOutput,
  loadInkOutput,
  PATCHED_INK_VERSION,
  plainGet,
} from './ink-output.js'

/** A small seeded generator, so a failing case can be run again. */
function random(seed: number) {
  let s = seed >>> 0
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
  return {next, int, pick}
}

/** Pieces of text as the dashboard and other Ink apps write them: plain, styled, wide, joined. */
const PIECES = [
  'billing',
  'orders  ',
  '   1200',
  ' ',
  '▁▂▃▄▅▆▇█',
  '—',
  '…',
  '·',
  '↑↓',
  'café',
  'e\u0301',
  '日本',
  '👍🏽',
  '👨‍👩‍👧',
  '1\ufe0f\u20e3',
  '\x1b[7m>  billing\x1b[27m',
  '\x1b[33mSTALE\x1b[39m',
  '\x1b[1m\x1b[31mred bold\x1b[39m\x1b[22m',
  '\x1b[7m▁▂█\x1b[27m',
  '\t',
  '\x1b]8;;https://example.com\x07link\x1b]8;;\x07',
] as const

const TRANSFORMERS: Array<(line: string, index: number) => string> = [
  (l) => l,
  (l) => l.toUpperCase(),
  (l) => `\x1b[7m${l}\x1b[27m`,
  (l, i) => (i % 2 ? l : `${l}!`),
]

function frame(Output: InkOutputClass, seed: number): InkOutput {
  const r = random(seed)
  const width = 1 + r.int(40)
  const height = r.int(8)
  const out = new Output({width, height})
  const writes = r.int(10)
  for (let w = 0; w < writes; w++) {
    const lines = Array.from({length: 1 + r.int(3)}, () =>
      Array.from({length: r.int(5)}, () => r.pick(PIECES)).join(''),
    )
    const transformers = r.next() < 0.5 ? [] : Array.from({length: 1 + r.int(2)}, () => r.pick(TRANSFORMERS))
    out.write(r.int(width + 4) - 2, r.int(height + 3) - 1, lines.join('\n'), {transformers})
  }
  return out
}

describe('plainGet (Ink Output.get)', () => {
  let Output: InkOutputClass
  let own: InkOutput['get']
  beforeAll(async () => {
    ;({Output} = await loadInkOutput())
    own = inkOwnGet(Output)
  })

  test(`the installed Ink is ${PATCHED_INK_VERSION}, the release the patch was checked on (upgrading: check it again, then change PATCHED_INK_VERSION)`, () => {
    const inkDir = dirname(dirname(createRequire(import.meta.url).resolve('ink')))
    expect(JSON.parse(readFileSync(join(inkDir, 'package.json'), 'utf8')).version).toBe(PATCHED_INK_VERSION)
  })

  test('gives the same screen as Ink’s own get() on 3,000 frames of mixed text', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const expected = own.call(frame(Output, seed))
      expect({seed, ...plainGet.call(frame(Output, seed))}).toEqual({seed, ...expected})
    }
  })

  test('gives the same screen for a dashboard frame: strips side by side, one row in inverse', () => {
    const out = () => {
      const o = new Output({width: 60, height: 4})
      o.write(0, 0, 'evtctl lag kafka://x:9092 ', {transformers: []})
      o.write(26, 0, '·', {transformers: []})
      o.write(0, 1, '>  billing   orders  \n   shipping  orders  \n   audit     orders  ', {transformers: []})
      o.write(21, 1, '\x1b[7m▁▂▃\x1b[27m\n▃▂▁\n███', {transformers: []})
      o.write(24, 1, '  12  stopped \n  40  ok\n   0  stalled ', {
        transformers: [(l, i) => (i === 0 ? `\x1b[7m${l}\x1b[27m` : l)],
      })
      o.write(38, 1, '—\n\n—', {transformers: []})
      return o
    }
    expect(plainGet.call(out())).toEqual(own.call(out()))
  })

  test('leaves a frame with clipping to Ink’s own get()', () => {
    const o = new Output({width: 10, height: 2})
    o.clip({x1: 0, x2: 4, y1: undefined, y2: undefined})
    o.write(0, 0, 'abcdefgh', {transformers: []})
    o.unclip()
    const p = new Output({width: 10, height: 2})
    p.clip({x1: 0, x2: 4, y1: undefined, y2: undefined})
    p.write(0, 0, 'abcdefgh', {transformers: []})
    p.unclip()
    expect(plainGet.call(o)).toEqual(own.call(p))
    expect(plainGet.call(o).output).toBe('abcd\n')
  })

  test('is put in place once, and Ink’s own get() stays reachable', async () => {
    expect(await installPlainOutput()).toBe(true)
    expect(await installPlainOutput()).toBe(true)
    expect(Output.prototype.get).toBe(plainGet)
    expect(inkOwnGet(Output)).toBe(own)
  })
})
