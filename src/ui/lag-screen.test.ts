import {describe, expect, test} from 'vitest'
import type {KafkaLagRaw} from '../adapters/lag-source.js'
import {LagTracker} from '../services/lag/view.js'
import {asciiRuns, initialScreenState, screenLines} from './lag-screen.js'

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
