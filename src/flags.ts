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

/**
 * Reading with schemas (tail, dlq list --scan, replay): --decode and where schemas come from.
 * Only the flag definitions: the codecs load when a command decodes.
 */
export const decodeFlags = {
  decode: Flags.option({
    env: 'EVTCTL_DECODE',
    options: ['auto', 'none', 'avro', 'protobuf', 'json-schema'] as const,
    summary:
      'Decode schema data: auto (registry-framed data, or with a local schema) [default when a registry or schema is given], none, or one format.',
  })(),
  'key-schema': Flags.string({
    summary: 'Local schema for keys: an .avsc, a JSON Schema .json, or a .proto (with --key-type).',
  }),
  'key-type': Flags.string({
    summary: 'Protobuf message type of keys, e.g. acme.OrderKey (with --proto-path or --key-schema).',
  }),
  'proto-path': Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    summary: 'Folder of .proto files for --value-type / --key-type (repeatable).',
  }),
  registry: Flags.string({
    env: 'EVTCTL_SCHEMA_REGISTRY',
    summary: "Schema registry URL (Confluent API) [default: the context's schema-registry url].",
  }),
  // No env twin, no default: replay refuses schema flags given without --where.
  'schema-cache': Flags.boolean({
    allowNo: true,
    summary:
      "Keep schemas fetched by id on disk ($XDG_CACHE_HOME/evtctl/schemas) for later runs [default: on, or the context's schema-registry cache].",
  }),
  'strict-decode': Flags.boolean({
    summary: 'Exit 7 when any message could not be decoded (they are still printed, with decodeError).',
  }),
  'value-schema': Flags.string({
    summary: 'Local schema for values: an .avsc, a JSON Schema .json, or a .proto (with --value-type).',
  }),
  'value-type': Flags.string({
    summary: 'Protobuf message type of values, e.g. acme.Order (with --proto-path or --value-schema).',
  }),
}

/** The parsed decodeFlags, as the codecs take them. */
export function schemaFlagsOf(flags: {
  decode?: 'auto' | 'none' | 'avro' | 'protobuf' | 'json-schema'
  registry?: string
  'value-schema'?: string
  'key-schema'?: string
  'proto-path'?: string[]
  'value-type'?: string
  'key-type'?: string
  'schema-cache'?: boolean
}) {
  return {
    mode: flags.decode,
    registry: flags.registry,
    valueSchema: flags['value-schema'],
    keySchema: flags['key-schema'],
    protoPath: flags['proto-path'],
    valueType: flags['value-type'],
    keyType: flags['key-type'],
    cache: flags['schema-cache'],
  }
}
