import {describe, expect, test} from 'vitest'
import {humanDuration, lagStatus, type Sample, sparkline} from './status.js'

const s = (
  at: number,
  committed: number | null,
  end: number,
  offsets: Record<string, number> = {},
): Sample => ({
  at: at * 1000,
  committed,
  end,
  lag: committed === null ? null : end - committed,
  offsets: committed === null ? {} : {'0': committed, ...offsets},
})
const status = (samples: Sample[], members: number | null = 1) =>
  lagStatus({samples, members, stallMs: 60_000, windowMs: 60_000})

describe('lagStatus', () => {
  test('never committed, caught up, and one poll without a trend', () => {
    expect(status([s(0, null, 10)]).status).toBe('never committed')
    expect(status([s(0, 10, 10)]).status).toBe('ok')
    expect(status([s(0, 5, 10)]).status).toBe('behind — one poll, no trend yet')
  })

  test('no members while behind is stopped, whatever the trend', () => {
    expect(status([s(0, 5, 10), s(2, 5, 12)], 0).status).toBe('stopped — no members')
    expect(status([s(0, 10, 10), s(2, 10, 10)], 0).status).toBe('ok')
  })

  test('rates, falling behind and catching up with the time to drain', () => {
    const behind = status([s(0, 100, 110), s(10, 150, 200)])
    expect(behind).toMatchObject({status: 'falling behind', consumeRate: 5, produceRate: 9, drainMs: null})
    const catching = status([s(0, 100, 200), s(10, 200, 250)])
    expect(catching.status).toBe('catching up')
    // lag 50, consuming 10/s, producing 5/s: 10 s to drain.
    expect(catching.drainMs).toBe(10_000)
  })

  test('commits that stop while lag grows are a stall, named with how long', () => {
    const samples = [s(0, 100, 110), s(30, 100, 140), s(61, 100, 171)]
    expect(status(samples).status).toBe('stalled — no commits for 1 m while lag grows')
    // Not yet long enough: only the trend speaks.
    expect(status(samples.slice(0, 2)).status).toBe('falling behind')
    // Nothing new and no commits: behind, with how long, until it is a stall.
    expect(status([s(0, 100, 110), s(20, 100, 110)]).status).toBe('behind — no commits for 20 s')
    expect(status([s(0, 100, 110), s(20, 100, 110), s(70, 100, 110)]).status).toBe(
      'stalled — no commits for 1 m',
    )
  })

  test('rates come from the last minute of polls with commits', () => {
    // The first poll is older than the window; the one before the last has no commits.
    const r = status([s(0, 0, 1000), s(40, 100, 300), s(90, null, 400), s(100, 400, 500)])
    expect(r).toMatchObject({consumeRate: 5, produceRate: 10 / 3})
    // Only one poll with commits in the window: no rates yet.
    expect(status([s(0, 0, 1000), s(90, null, 400), s(100, 400, 500)])).toMatchObject({
      consumeRate: null,
      produceRate: null,
    })
  })

  test('a committed offset that goes back is a rewind, shown for 30 s', () => {
    expect(status([s(0, 100, 110), s(2, 40, 110)]).status).toBe('rewound')
    // Another partition's offset going back is a rewind too; one that appears is not.
    expect(status([s(0, 100, 110, {'1': 50}), s(2, 100, 110, {'1': 20})]).status).toBe('rewound')
    expect(status([s(0, 100, 110), s(2, 100, 110, {'1': 20})]).status).not.toBe('rewound')
    expect(status([s(0, 100, 110), s(2, 40, 110), s(40, 40, 110)]).status).not.toBe('rewound')
  })
})

test('humanDuration and sparkline', () => {
  expect(humanDuration(45_000)).toBe('45 s')
  expect(humanDuration(12 * 60_000)).toBe('12 m')
  expect(humanDuration(185 * 60_000)).toBe('3 h 5 m')
  expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█')
  expect(sparkline([null, 5, 5], 8)).toBe(' ▄▄')
  expect(sparkline([1, 2, 3], 2)).toBe('▁█')
})
