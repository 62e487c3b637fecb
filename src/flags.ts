import {Flags} from '@oclif/core'
import ms from 'ms'
import type {StartPosition, StopCondition} from './adapters/types.js'
import {UsageError} from './errors.js'

/** A duration such as 15m, 2h, 30s, 1d, 500ms. Returns milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const value = /^\d+(\.\d+)?\s*(ms|s|m|h|d|w)$/i.test(text) ? ms(text as ms.StringValue) : undefined
  if (value === undefined || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(
      `${flag} "${text}" is not a duration.`,
      'Use a number with a unit: 500ms, 30s, 15m, 2h, 1d, 1w.',
      'BAD_DURATION',
    )
  }
  return value
}

function parseTime(text: string, flag: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined
  const t = Date.parse(text)
  if (Number.isNaN(t)) {
    throw new UsageError(
      `${flag} "${text}" is not a valid time.`,
      'Use ISO 8601, e.g. 2026-11-23T10:00:00Z.',
      'BAD_TIME',
    )
  }
  return new Date(t)
}

/** --from beginning | end | <offset> | -<N> | <ISO time> | -<duration> */
export function parseFrom(text: string, now = Date.now()): StartPosition {
  const t = text.trim()
  if (/^(beginning|earliest|start)$/i.test(t)) return {kind: 'beginning'}
  if (/^(end|latest)$/i.test(t)) return {kind: 'end'}
  if (/^\d+$/.test(t)) return {kind: 'offset', offset: BigInt(t)}
  if (/^-\d+$/.test(t)) return {kind: 'last', count: Number(t.slice(1))}
  if (t.startsWith('-')) return {kind: 'time', time: new Date(now - parseDuration(t.slice(1), '--from'))}
  const time = parseTime(t, '--from')
  if (time) return {kind: 'time', time}
  throw new UsageError(
    `--from "${text}" is not a start position.`,
    'Use beginning, end, an offset (1842), the last N (-100), an ISO time (2026-11-23T10:00:00Z) or a time ago (-15m).',
    'BAD_POSITION',
  )
}

/** --until end | <ISO time> | <duration from now> */
export function parseUntil(text: string, now = Date.now()): StopCondition {
  const t = text.trim()
  if (/^end$/i.test(t)) return {kind: 'end'}
  const time = parseTime(t, '--until')
  if (time) return {kind: 'time', time}
  if (/^\+?\d/.test(t))
    return {kind: 'time', time: new Date(now + parseDuration(t.replace(/^\+/, ''), '--until'))}
  throw new UsageError(
    `--until "${text}" is not a stop condition.`,
    'Use end (the end as it is when tail starts), an ISO time (2026-11-23T11:00:00Z) or a duration (30s).',
    'BAD_POSITION',
  )
}

export const fromFlag = Flags.custom<StartPosition>({
  parse: async (input) => parseFrom(input),
})

export const untilFlag = Flags.custom<StopCondition>({
  parse: async (input) => parseUntil(input),
})

export const headerFlag = Flags.custom<{name: string; value: string}>({
  parse: async (input) => {
    const eq = input.indexOf('=')
    if (eq <= 0) {
      throw new UsageError(
        `--header "${input}" is not name=value.`,
        'Example: --header trace-id=abc123',
        'BAD_HEADER',
      )
    }
    return {name: input.slice(0, eq), value: input.slice(eq + 1)}
  },
})

/** A positive duration (30s, 2m) in milliseconds. */
export const durationFlag = Flags.custom<number>({
  parse: async (input, _ctx, opts) => parseDuration(input, `--${opts.name}`),
})

/** SQS visibility timeouts are whole seconds from 0 to 12 h; 0 would make a browse receive the same messages over and over. In seconds. */
export const holdFlag = Flags.custom<number>({
  parse: async (input) => {
    const range = 'Use a hold from 1s to 12h (default 60s; 30s on FIFO queues).'
    if (/^0+(\.0*)?\s*(ms|s|m|h|d|w)?$/i.test(input.trim())) {
      throw new UsageError(
        `--hold ${input} would make each message visible again at once, so the browse would receive the same messages over and over (raising their receive counts) and never list the others reliably.`,
        range,
        'BAD_DURATION',
      )
    }
    const seconds = Math.round(parseDuration(input, '--hold') / 1000)
    if (seconds < 1 || seconds > 12 * 60 * 60) {
      throw new UsageError(
        `--hold ${input} is out of range: SQS hides a received message for at most 12 h (and at least 1 s), in whole seconds.`,
        range,
        'BAD_DURATION',
      )
    }
    return seconds
  },
})
