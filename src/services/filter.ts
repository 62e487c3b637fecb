import jsonata from 'jsonata'
import picomatch from 'picomatch'
import {viewOf} from '../codecs/chain.js'
import type {Envelope} from '../envelope/envelope.js'
import {payloadText} from '../envelope/payload.js'
import {UsageError} from '../errors.js'

export interface FilterSpec {
  /** Glob on the key text. */
  key?: string
  /** name=glob pairs; all must match (a header matches when any header of that name does). */
  headers?: Array<[name: string, glob: string]>
  /** A JSONata expression over {key, value, schema, headers, timestamp, partition, offset, meta}; truthy = keep. */
  where?: string
}

export type EventFilter = (env: Envelope) => Promise<boolean> | boolean

/** The object a --where expression sees. Header values are text; repeated headers become arrays. */
export function filterView(env: Envelope): Record<string, unknown> {
  const headers: Record<string, unknown> = {}
  for (const [name, value] of env.headers ?? []) {
    const text = value === null ? null : payloadText(value)
    const prev = headers[name]
    headers[name] = prev === undefined ? text : Array.isArray(prev) ? [...prev, text] : [prev, text]
  }
  const view = viewOf(env)
  const k = view.key
  return {
    // A key read with a schema (--key-schema, a framed key) is its decoded value; else its text.
    key: k?.schema && k.error === undefined ? k.data : env.key == null ? null : payloadText(env.key),
    // The decoded value (read with a schema, parsed JSON however stored, text, or {base64}): one view per event.
    value: view.value?.data ?? null,
    // The schema that read the value ({id, subject, type}), null when none did.
    schema: view.value?.error === undefined ? (view.value?.schema ?? null) : null,
    headers,
    timestamp: env.timestamp,
    partition: env.partition,
    offset: env.offset,
    meta: env.meta ?? {},
  }
}

/**
 * Compiles every filter up front, so a bad expression is exit 2 before connecting.
 * Returns undefined when there is nothing to filter.
 */
export function buildFilter(spec: FilterSpec): EventFilter | undefined {
  const checks: Array<(env: Envelope) => boolean> = []
  if (spec.key !== undefined) {
    const match = glob(spec.key)
    checks.push((env) => env.key != null && match(payloadText(env.key)))
  }
  for (const [name, pattern] of spec.headers ?? []) {
    const match = glob(pattern)
    checks.push((env) =>
      (env.headers ?? []).some(([n, v]) => n === name && v !== null && match(payloadText(v))),
    )
  }
  let where: ReturnType<typeof jsonata> | undefined
  if (spec.where !== undefined) {
    try {
      where = jsonata(spec.where)
    } catch (err) {
      const e = err as {message?: string; position?: number}
      throw new UsageError(
        `--where is not a valid JSONata expression: ${e.message ?? String(err)}${e.position !== undefined ? ` (at character ${e.position})` : ''}.`,
        `Example: --where 'value.total > 40 and headers."trace-id" != null'. See https://docs.jsonata.org.`,
        'BAD_EXPRESSION',
      )
    }
  }
  if (checks.length === 0 && !where) return undefined
  const expr = where
  return async (env) => {
    for (const check of checks) if (!check(env)) return false
    if (!expr) return true
    try {
      return truthy(await expr.evaluate(filterView(env)))
    } catch (err) {
      throw new UsageError(
        `--where failed on the message at offset ${env.offset ?? '?'}: ${(err as Error).message}.`,
        'Guard the expression, e.g. $exists(value.total) and value.total > 40.',
        'BAD_EXPRESSION',
      )
    }
  }
}

/** A glob matcher; the empty glob matches the empty text (picomatch refuses an empty pattern). */
function glob(pattern: string): (text: string) => boolean {
  if (pattern === '') return (text) => text === ''
  return picomatch(pattern, {dot: true})
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false
  if (Array.isArray(v)) return v.length > 0
  return true
}
