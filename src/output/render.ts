import {createColors} from 'picocolors'
import {viewOf} from '../codecs/chain.js'
import type {Decoded} from '../codecs/types.js'
import {type Envelope, encodeEnvelope} from '../envelope/envelope.js'
import {type Payload, payloadBytes, payloadText} from '../envelope/payload.js'
import {UsageError} from '../errors.js'
import {safeText} from './safe-text.js'

/** Turns an event into what goes on stdout: a string, or bytes for -o raw. */
export type Renderer = (env: Envelope) => string | Uint8Array

export const jsonlRenderer: Renderer = (env) => `${encodeEnvelope(env)}\n`

const NEWLINE = Buffer.from('\n')
/** The value's bytes exactly, then a newline; a tombstone is an empty line. */
export const rawRenderer: Renderer = (env) =>
  env.value === null ? NEWLINE : Buffer.concat([payloadBytes(env.value), NEWLINE])

/**
 * -o raw on a terminal: the value as text with control characters shown, not obeyed. Message data
 * must never drive the terminal (clear the screen, set the title, hide what follows).
 */
export {safeText}

export const rawTerminalRenderer: Renderer = (env) =>
  env.value === null ? '\n' : `${safeText(payloadBytes(env.value).toString('utf8'), true)}\n`

/**
 * Readable output for a terminal:
 *
 *   #12  2026-11-23T10:04:05.123Z  p0  key=order-17
 *     trace-id: abc
 *   {"id":17,"total":42.5}
 */
export function prettyRenderer(opts: {color: boolean; showSource?: boolean}): Renderer {
  const c = createColors(opts.color)
  return (env) => {
    const head = [
      opts.showSource && env.source ? c.green(safeText(sourceName(env.source))) : undefined,
      c.bold(`#${safeText(env.offset ?? '?')}`),
      env.timestamp ? c.dim(safeText(env.timestamp)) : undefined,
      env.partition !== undefined ? c.dim(`p${env.partition}`) : undefined,
      env.key != null ? c.cyan(`key=${showKey(env)}`) : undefined,
      schemaLabel(env) ? c.green(safeText(schemaLabel(env)!)) : undefined,
      env.meta?.orderingKey ? c.cyan(`ordering-key=${safeText(env.meta.orderingKey)}`) : undefined,
      env.meta?.groupId ? c.cyan(`group=${safeText(env.meta.groupId)}`) : undefined,
    ].filter(Boolean)
    const headers = (env.headers ?? []).map(
      ([n, v]) => `  ${c.yellow(safeText(n))}: ${v === null ? c.dim('(null)') : showInline(v)}`,
    )
    const errors = [
      env.keyDecodeError !== undefined
        ? c.red(`key not decoded: ${safeText(env.keyDecodeError)}`)
        : undefined,
      env.decodeError !== undefined ? c.red(`not decoded: ${safeText(env.decodeError)}`) : undefined,
    ].filter((x): x is string => x !== undefined)
    return `${[head.join('  '), ...headers, ...errors, showValue(env, c)].join('\n')}\n`
  }
}

/** "avro id=3 orders-value" for a value read with a schema (pretty output's head line). */
function schemaLabel(env: Envelope): string | undefined {
  const s = viewOf(env).value?.schema
  if (!s || viewOf(env).value?.error !== undefined) return undefined
  const kind = s.type === 'AVRO' ? 'avro' : s.type === 'PROTOBUF' ? 'protobuf' : 'json-schema'
  return [`${kind}`, s.id !== undefined ? `id=${s.id}` : undefined, s.subject, s.message]
    .filter(Boolean)
    .join(' ')
}

/** The key, read with a schema when one read it. */
function showKey(env: Envelope): string {
  const k = viewOf(env).key
  if (k?.schema && k.error === undefined) return safeText(JSON.stringify(k.data))
  return showInline(env.key!)
}

/** The topic/queue/subscription a source URL names (its last path segment). */
function sourceName(source: string): string {
  return source.replace(/\/+$/, '').replace(/^.*\//, '')
}

/** One line, safe for a terminal. */
function showInline(p: Payload): string {
  return 'base64' in p ? `base64:${p.base64}` : safeText(payloadText(p))
}

function showValue(env: Envelope, c: ReturnType<typeof createColors>): string {
  const p = env.value
  if (p === null) return c.dim('(null value: tombstone)')
  const read = viewOf(env).value
  // Read with a schema: the decoded value, indented.
  if (read?.schema && read.error === undefined)
    return safeText(JSON.stringify(read.data, null, 2) ?? 'null', true)
  if ('base64' in p)
    return c.magenta(`(binary, ${Buffer.from(p.base64, 'base64').length} bytes) base64:${p.base64}`)
  // JSON is shown indented when that changes only whitespace: text kept as {utf8} because it
  // does not re-serialise (20-digit numbers, 1.0, repeated keys) is shown as it is.
  const d = viewOf(env).value
  if (d?.structured && typeof d.data === 'object' && d.data !== null) {
    const faithful = d.codec !== 'json' || 'json' in p || JSON.stringify(d.data) === minifyJson(p.utf8)
    if (faithful) return safeText(JSON.stringify(d.data, null, 2), true)
  }
  return safeText(payloadText(p), true)
}

/** JSON text without the whitespace between tokens (strings untouched). */
export function minifyJson(text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (inString) {
      out += ch
      if (ch === '\\') out += text[++i] ?? ''
      else if (ch === '"') inString = false
    } else if (ch === '"') {
      inString = true
      out += ch
    } else if (ch !== ' ' && ch !== '\n' && ch !== '\r' && ch !== '\t') out += ch
  }
  return out
}

/**
 * -o jsonl on a terminal: the same JSON, with the characters a terminal would act on that
 * JSON.stringify leaves as they are (DEL, C1, bidirectional controls) written as \u escapes —
 * still valid JSON with the same meaning. Into a pipe, jsonl stays exactly as encoded.
 */
export const jsonlTerminalRenderer: Renderer = (env) => {
  const line = encodeEnvelope(env)
  TERMINAL_IN_JSON.lastIndex = 0
  const safe = TERMINAL_IN_JSON.test(line)
    ? line.replace(TERMINAL_IN_JSON, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : line
  return `${safe}\n`
}
const TERMINAL_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const FIELDS = [
  'offset',
  'partition',
  'timestamp',
  'source',
  'key',
  'value',
  'headers',
  'meta',
  'schema',
  'decodeError',
] as const

/**
 * --format templates: {offset} {partition} {timestamp} {source} {key} {value} {headers},
 * {headers.NAME}, {value.a.b} (JSON values, values read with a schema), {meta.messageId},
 * {schema.id} {schema.subject} {schema.type}, {decodeError}. \n and \t are escapes.
 */
export function templateRenderer(template: string, opts: {terminal?: boolean} = {}): Renderer {
  const parts: Array<string | string[]> = []
  const re = /\{([^{}]+)\}/g
  let last = 0
  for (let m = re.exec(template); m; m = re.exec(template)) {
    parts.push(unescapeTemplate(template.slice(last, m.index)))
    const path = m[1]!.trim().split('.')
    if (!(FIELDS as readonly string[]).includes(path[0]!)) {
      throw new UsageError(
        `--format has an unknown field {${m[1]}}.`,
        `Fields: ${FIELDS.map((f) => `{${f}}`).join(' ')}, and paths such as {value.id} or {headers.trace-id}.`,
        'BAD_FORMAT',
      )
    }
    parts.push(path)
    last = m.index + m[0].length
  }
  parts.push(`${unescapeTemplate(template.slice(last))}\n`)
  // On a terminal the fields are made safe; into a pipe they stay as they are.
  const field = opts.terminal ? (env: Envelope, p: string[]) => safeText(lookup(env, p)) : lookup
  return (env) => parts.map((p) => (typeof p === 'string' ? p : field(env, p))).join('')
}

const NO_FIELDS: unique symbol = Symbol('no fields')
/** Data a path such as {value.a.b} can walk into: only a structured decoding has fields. */
function fieldsOf(d: Decoded | null): unknown {
  return d?.structured ? d.data : NO_FIELDS
}

/** A field as it is (the caller makes it safe for a terminal). */
function inline(p: Payload): string {
  return 'base64' in p ? `base64:${p.base64}` : payloadText(p)
}

function unescapeTemplate(s: string): string {
  return s.replace(/\\n/g, '\n').replace(/\\t/g, '\t')
}

function lookup(env: Envelope, path: string[]): string {
  const [head, ...rest] = path
  let v: unknown
  switch (head) {
    case 'key': {
      const k = viewOf(env).key
      if (rest.length === 0)
        return k?.schema && k.error === undefined
          ? JSON.stringify(k.data)
          : env.key == null
            ? ''
            : inline(env.key)
      v = fieldsOf(k)
      break
    }
    case 'value': {
      const d = viewOf(env).value
      if (rest.length === 0)
        return d?.schema && d.error === undefined
          ? JSON.stringify(d.data)
          : env.value === null
            ? ''
            : inline(env.value)
      v = fieldsOf(d)
      break
    }
    case 'schema': {
      const d = viewOf(env).value
      v = d?.schema && d.error === undefined ? d.schema : undefined
      break
    }
    case 'decodeError':
      return env.decodeError ?? ''
    case 'headers': {
      const hs = env.headers ?? []
      if (rest.length === 0) return hs.map(([n, h]) => `${n}=${h === null ? '' : inline(h)}`).join(',')
      const name = rest.join('.')
      const found = hs.find(([n]) => n === name)
      return found?.[1] ? inline(found[1]) : ''
    }
    default:
      v = (env as unknown as Record<string, unknown>)[head!]
  }
  if (v === NO_FIELDS) return ''
  for (const k of rest) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined
  if (v === undefined || v === null) return ''
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}
