import {createColors} from 'picocolors'
import {type Envelope, encodeEnvelope} from '../envelope/envelope.js'
import {type Payload, payloadBytes, payloadText} from '../envelope/payload.js'
import {UsageError} from '../errors.js'

/** Turns an event into what goes on stdout: a string, or bytes for -o raw. */
export type Renderer = (env: Envelope) => string | Uint8Array

export const jsonlRenderer: Renderer = (env) => `${encodeEnvelope(env)}\n`

const NEWLINE = Buffer.from('\n')
/** The value's bytes exactly, then a newline; a tombstone is an empty line. */
export const rawRenderer: Renderer = (env) =>
  env.value === null ? NEWLINE : Buffer.concat([payloadBytes(env.value), NEWLINE])

/**
 * Readable output for a terminal:
 *
 *   #12  2026-11-23T10:04:05.123Z  p0  key=order-17
 *     trace-id: abc
 *   {"id":17,"total":42.5}
 */
export function prettyRenderer(opts: {color: boolean}): Renderer {
  const c = createColors(opts.color)
  return (env) => {
    const head = [
      c.bold(`#${env.offset ?? '?'}`),
      env.timestamp ? c.dim(env.timestamp) : undefined,
      env.partition !== undefined ? c.dim(`p${env.partition}`) : undefined,
      env.key != null ? c.cyan(`key=${showInline(env.key)}`) : undefined,
      env.meta?.orderingKey ? c.cyan(`ordering-key=${env.meta.orderingKey}`) : undefined,
      env.meta?.groupId ? c.cyan(`group=${env.meta.groupId}`) : undefined,
    ].filter(Boolean)
    const headers = (env.headers ?? []).map(
      ([n, v]) => `  ${c.yellow(n)}: ${v === null ? c.dim('(null)') : showInline(v)}`,
    )
    return `${[head.join('  '), ...headers, showValue(env.value, c)].join('\n')}\n`
  }
}

function showInline(p: Payload): string {
  return 'base64' in p ? `base64:${p.base64}` : payloadText(p)
}

function showValue(p: Payload | null, c: ReturnType<typeof createColors>): string {
  if (p === null) return c.dim('(null value: tombstone)')
  if ('json' in p) return JSON.stringify(p.json, null, 2)
  if ('utf8' in p) return p.utf8
  return c.magenta(`(binary, ${Buffer.from(p.base64, 'base64').length} bytes) base64:${p.base64}`)
}

const FIELDS = ['offset', 'partition', 'timestamp', 'source', 'key', 'value', 'headers', 'meta'] as const

/**
 * --format templates: {offset} {partition} {timestamp} {source} {key} {value} {headers},
 * {headers.NAME}, {value.a.b} (JSON values), {meta.messageId}. \n and \t are escapes.
 */
export function templateRenderer(template: string): Renderer {
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
  return (env) => parts.map((p) => (typeof p === 'string' ? p : lookup(env, p))).join('')
}

function unescapeTemplate(s: string): string {
  return s.replace(/\\n/g, '\n').replace(/\\t/g, '\t')
}

function lookup(env: Envelope, path: string[]): string {
  const [head, ...rest] = path
  let v: unknown
  switch (head) {
    case 'key':
      v = env.key == null ? '' : showInline(env.key)
      if (rest.length === 0) return String(v)
      v = env.key && 'json' in env.key ? env.key.json : undefined
      break
    case 'value':
      if (rest.length === 0) return env.value === null ? '' : showInline(env.value)
      v = env.value && 'json' in env.value ? env.value.json : undefined
      break
    case 'headers': {
      const hs = env.headers ?? []
      if (rest.length === 0) return hs.map(([n, h]) => `${n}=${h === null ? '' : showInline(h)}`).join(',')
      const name = rest.join('.')
      const found = hs.find(([n]) => n === name)
      return found?.[1] ? showInline(found[1]) : ''
    }
    default:
      v = (env as unknown as Record<string, unknown>)[head!]
  }
  for (const k of rest) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined
  if (v === undefined || v === null) return ''
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}
