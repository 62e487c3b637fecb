import {describe, expect, test} from 'vitest'
import {parseDuration, parseFrom, parseUntil} from './flags.js'

const now = Date.parse('2026-11-23T12:00:00Z')

describe('parseFrom', () => {
  test.each([
    ['beginning', {kind: 'beginning'}],
    ['earliest', {kind: 'beginning'}],
    ['end', {kind: 'end'}],
    ['1842', {kind: 'offset', offset: 1842n}],
    ['9223372036854775807', {kind: 'offset', offset: 9223372036854775807n}],
    ['-100', {kind: 'last', count: 100}],
    ['-15m', {kind: 'time', time: new Date(now - 15 * 60_000)}],
    ['-2h', {kind: 'time', time: new Date(now - 2 * 3_600_000)}],
    ['2026-11-23T10:00:00Z', {kind: 'time', time: new Date('2026-11-23T10:00:00Z')}],
    ['2026-11-23', {kind: 'time', time: new Date('2026-11-23T00:00:00Z')}],
  ])('%s', (text, want) => {
    expect(parseFrom(text, now)).toEqual(want)
  })

  test.each(['yesterday', '-15x', '2026-13-45T00:00:00Z', '', '1.5'])('rejects %j with exit 2', (text) => {
    expect(() => parseFrom(text, now)).toThrow(expect.objectContaining({exitCode: 2}))
  })
})

describe('parseUntil', () => {
  test.each([
    ['end', {kind: 'end'}],
    ['30s', {kind: 'time', time: new Date(now + 30_000)}],
    ['+5m', {kind: 'time', time: new Date(now + 300_000)}],
    ['2026-11-23T11:00:00Z', {kind: 'time', time: new Date('2026-11-23T11:00:00Z')}],
  ])('%s', (text, want) => {
    expect(parseUntil(text, now)).toEqual(want)
  })

  test.each(['later', '30', '-5m'])('rejects %j with exit 2', (text) => {
    expect(() => parseUntil(text, now)).toThrow(
      expect.objectContaining({exitCode: 2, hint: expect.any(String)}),
    )
  })
})

describe('parseDuration', () => {
  test('units', () => {
    expect(parseDuration('500ms', 'x')).toBe(500)
    expect(parseDuration('1d', 'x')).toBe(86_400_000)
    expect(parseDuration('1w', 'x')).toBe(604_800_000)
  })
  test('names the flag and the fix', () => {
    expect(() => parseDuration('soon', '--until')).toThrow(/--until "soon" is not a duration/)
  })
})
