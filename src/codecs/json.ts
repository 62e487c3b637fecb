import type {Payload} from '../envelope/payload.js'
import {type Decoder, NOT_DECODED} from './types.js'

/** What jsonOf returns for a payload that is not JSON. */
export const NOT_JSON: unique symbol = Symbol('not JSON')

/**
 * The JSON value of a payload, whatever its storage class: `{json}` as stored, and `{utf8}` text
 * that parses as JSON too — pretty-printed JSON, Python's `json.dumps` (", " and ": "), `1e5` —
 * which the envelope keeps as text only because re-serialising would change its bytes. Filters,
 * templates and pretty output look at the data, not at how the envelope stores it.
 */
export function jsonOf(p: Payload | null | undefined): unknown {
  if (p == null) return NOT_JSON
  if ('json' in p) return p.json
  if (!('utf8' in p) || !mayBeJson(p.utf8)) return NOT_JSON
  try {
    return JSON.parse(p.utf8)
  } catch {
    return NOT_JSON
  }
}

/** Cheap pre-check: the first non-blank character could start JSON. */
function mayBeJson(text: string): boolean {
  return /^\s*[{["\dtfn-]/.test(text)
}

/** JSON, stored as {json} or as text that parses. */
export const jsonDecoder: Decoder = {
  name: 'json',
  structured: true,
  canDecode: (p) => 'json' in p || ('utf8' in p && mayBeJson(p.utf8)),
  decode: (p) => {
    const v = jsonOf(p)
    return v === NOT_JSON ? NOT_DECODED : v
  },
}
