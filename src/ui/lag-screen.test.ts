import {describe, expect, test} from 'vitest'
import type {KafkaLagRaw} from '../adapters/lag-source.js'
import {LagTracker} from '../services/lag/view.js'
import {
  asciiRuns,
  asciiStandIns,
  initialScreenState,
  restoreLine,
  screenBlocks,
  screenLines,
  verticalStrips,
} from './lag-screen.js'

function raw(groups: number, at = '2026-01-01T00:00:10.000Z'): KafkaLagRaw {
  return {
    kind: 'kafka',
    at,
    groups: Array.from({length: groups}, (_, i) => ({
      group: i === 0 ? 'evil\x1b[2J\x1b]0;pwned\x07' : `group-${i}`,
      state: 'STABLE',
      members: 1,
      topics: [
        {
          topic: 'orders',
          partitions: [
            {
              partition: 0,
              committed: String(i),
              end: '40',
              low: '0',
              oldestUnconsumedMs: Date.parse(at) - 60_000,
            },
          ],
        },
      ],
    })),
  }
}
const state = initialScreenState()

describe('screenLines', () => {
  test('never taller or wider than the terminal, whatever its size', () => {
    const view = new LagTracker().update(raw(36))
    for (const [columns, rows] of [
      [120, 40],
      [80, 24],
      [50, 10],
      [200, 60],
    ] as const) {
      const s = screenLines({view, pollMs: 5}, state, {columns, rows}, 'kafka://x:9092', 1000, Date.now())
      expect(s.lines.length).toBeLessThanOrEqual(rows - 1)
      for (const l of s.lines) expect([...l].length).toBeLessThanOrEqual(columns - 1)
      expect(s.lines.at(-1)).toContain('q quit')
    }
  })

  test('control sequences in names are shown escaped, not sent to the terminal', () => {
    const view = new LagTracker().update(raw(2))
    const s = screenLines(
      {view, pollMs: 5},
      state,
      {columns: 200, rows: 20},
      'kafka://x:9092',
      1000,
      Date.now(),
    )
    const text = s.lines.join('\n')
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/)
    expect(text).toContain('evil\\x1b[2J')
  })

  test('the selected row stays in view, and a failed poll is in the header', () => {
    const view = new LagTracker().update(raw(36))
    const s = screenLines(
      {view, pollMs: 5, failed: {reason: 'Cannot reach the broker', at: '2026-01-01T00:00:12.000Z'}},
      {...state, selected: 30},
      {columns: 120, rows: 12},
      'kafka://x:9092',
      1000,
      Date.parse('2026-01-01T00:00:13.000Z'),
    )
    expect(s.lines[0]).toContain('STALE: poll failed')
    expect(s.lines[0]).toContain('(3 s ago)')
    expect(s.selectedLine).toBeGreaterThan(1)
    expect(s.lines[s.selectedLine]!.startsWith('>')).toBe(true)
  })
})

describe('asciiRuns', () => {
  test('cuts a line into runs of printable ASCII and of anything else, losing nothing', () => {
    const line = '>  billing   orders   582  ▁▃█   falling behind  stopped — no members · 5/5'
    const runs = asciiRuns(line)
    expect(runs.join('')).toBe(line)
    expect(runs).toEqual([
      '>  billing   orders   582  ',
      '▁▃█',
      '   falling behind  stopped ',
      '—',
      ' no members ',
      '·',
      ' 5/5',
    ])
    for (const [i, r] of runs.entries()) expect(/^[\x20-\x7e]+$/.test(r)).toBe(i % 2 === 0)
  })

  test('keeps a letter with the combining mark or joiner after it (one grapheme, one run)', () => {
    expect(asciiRuns('cafe\u0301 ok')).toEqual(['caf', 'e\u0301', ' ok'])
    expect(asciiRuns('1\ufe0f\u20e3 x')).toEqual(['1\ufe0f\u20e3', ' x'])
    expect(asciiRuns('')).toEqual([])
    expect(asciiRuns('plain')).toEqual(['plain'])
  })
})

describe('verticalStrips', () => {
  test('side by side, the strips give back the lines; each is all ASCII or holds what is not', () => {
    const view = new LagTracker().update(raw(36))
    const s = screenLines(
      {view, pollMs: 5},
      state,
      {columns: 160, rows: 45},
      'kafka://x:9092',
      1000,
      Date.now(),
    )
    const body = s.lines.slice(s.body[0], s.body[1])
    expect(body).toHaveLength(36)
    const strips = verticalStrips(body)
    expect(strips.length).toBeLessThanOrEqual(8)
    for (const [j, line] of body.entries()) expect(strips.map((st) => st[j]).join('')).toBe(line)
    // A strip is as wide as its widest line, and a line is shorter in it only where it ends: so
    // each strip starts in the column of its characters.
    for (const [k, st] of strips.entries()) {
      const width = Math.max(...st.map((l) => l.length))
      for (const [j, l] of st.entries())
        if (strips.slice(k + 1).some((later) => later[j] !== '')) expect(l.length).toBe(width)
    }
    expect(strips.filter((st) => st.some((l) => /[^\x20-\x7e]/.test(l))).length).toBeGreaterThan(0)
  })

  test('cuts at the columns where some line leaves ASCII; a gap of a few ASCII columns stays in', () => {
    expect(verticalStrips(['ab▁c▁defgh', 'abcdefghij'])).toEqual([
      ['ab', 'ab'],
      ['▁c▁', 'cde'],
      ['defgh', 'fghij'],
    ])
    expect(verticalStrips(['plain', 'text'])).toEqual([['plain', 'text']])
    expect(verticalStrips(['ab—', 'a'])).toEqual([
      ['ab', 'a'],
      ['—', ''],
    ])
  })
})

describe('screenBlocks', () => {
  test('rows as one block of strips; the header, the key line and a row of wide characters alone', () => {
    const lines = ['head · er', 'TITLES', 'row one  ▁▂', '日本 row', 'row three▃▄', 'q quit  ↑↓ move']
    const blocks = screenBlocks(lines, [2, 5])
    expect(blocks.map((b) => b.start)).toEqual([0, 1, 2, 3, 4, 5])
    expect(blocks[0]!.strips).toEqual([['head '], ['·'], [' er']])
    expect(blocks[3]!.strips).toEqual([['日本'], [' row']])
    const rows = screenBlocks(['row one  ▁▂', 'row two  ▃▄', 'row three▅▆'], [0, 3])
    expect(rows).toHaveLength(1)
    expect(rows[0]!.strips).toEqual([
      ['row one  ', 'row two  ', 'row three'],
      ['▁▂', '▃▄', '▅▆'],
    ])
    // The selected row (drawn in inverse) is a block and a strip of its own.
    const sel = screenBlocks(['row one  ▁▂', 'row two  ▃▄', 'row three▅▆'], [0, 3], 1)
    expect(sel.map((b) => b.start)).toEqual([0, 1, 2])
    expect(sel[1]!.strips).toEqual([['row two  ▃▄']])
    expect(sel[2]!.strips).toEqual([['row three'], ['▅▆']])
  })
})

describe('asciiStandIns and restoreLine', () => {
  test('Ink measures ? for each non-ASCII character, and gets the line back as it writes it', () => {
    const lines = ['▁▂▃ ok', 'stopped — no members', 'plain']
    const standIns = asciiStandIns(lines)!
    expect(standIns).toEqual(['??? ok', 'stopped ? no members', 'plain'])
    for (const [i, l] of lines.entries()) {
      expect(standIns[i]!.length).toBe(l.length)
      expect(restoreLine(standIns[i]!, i, standIns, lines)).toBe(l)
    }
    // The selected row, in inverse: the characters go back inside the escape sequence.
    expect(restoreLine(`\x1b[7m${standIns[0]}\x1b[27m`, 0, standIns, lines)).toBe(
      `\x1b[7m${lines[0]}\x1b[27m`,
    )
    // A line that is not the stand-in (Ink cut or wrapped it) is left alone.
    expect(restoreLine('??', 0, standIns, lines)).toBe('??')
  })

  test('nothing to stand in for: all ASCII, or a character whose width is left to Ink', () => {
    expect(asciiStandIns(['plain', 'text'])).toBeUndefined()
    expect(asciiStandIns(['日本', '▁'])).toBeUndefined()
    expect(asciiStandIns(['cafe\u0301'])).toBeUndefined()
  })
})
