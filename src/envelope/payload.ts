import {isUtf8} from 'node:buffer'

/**
 * A payload is bytes shown the most readable way that still restores them exactly:
 * `{json}` when the bytes are UTF-8 text in canonical compact JSON (JSON.stringify(JSON.parse(t)) === t),
 * `{utf8}` when they are valid UTF-8, `{base64}` otherwise. Anything that would not re-serialise to
 * the same bytes (pretty-printed JSON, 1e5, big integers, duplicate keys) stays `{utf8}`.
 */
export type Payload = {json: unknown} | {utf8: string} | {base64: string}

/**
 * A payload that keeps the bytes it was made from (input about to be published), so sending it
 * does not re-encode: publishing a line costs one decode, not a decode and an encode. The bytes
 * are a private field: not serialised, not compared, not copied by a spread. (A WeakMap beside
 * the payloads cost ~0.25 s and much GC time per million lines.)
 */
class Kept {
  readonly #bytes: Uint8Array
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }
  static bytesOf(p: object): Uint8Array | undefined {
    return #bytes in p ? (p as Kept).#bytes : undefined
  }
}
class KeptUtf8 extends Kept {
  constructor(
    readonly utf8: string,
    bytes: Uint8Array,
  ) {
    super(bytes)
  }
}
class KeptBase64 extends Kept {
  constructor(
    readonly base64: string,
    bytes: Uint8Array,
  ) {
    super(bytes)
  }
}
class KeptJson extends Kept {
  constructor(
    readonly json: unknown,
    bytes: Uint8Array,
  ) {
    super(bytes)
  }
}

/**
 * `keepBytes`: remember the bytes beside the payload (for input about to be published). Off for
 * reads, where a million remembered payloads would only cost memory and GC time.
 */
export function toPayload(bytes: Uint8Array, opts: {json?: boolean; keepBytes?: boolean} = {}): Payload {
  const keep = opts.keepBytes === true
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // isUtf8 (simdutf) then toString: much faster than a fatal TextDecoder on the hot path.
  if (!isUtf8(buf)) {
    const base64 = buf.toString('base64')
    return keep ? new KeptBase64(base64, bytes) : {base64}
  }
  const text = buf.toString('utf8')
  if (opts.json !== false && looksLikeJson(text)) {
    try {
      const parsed: unknown = JSON.parse(text)
      if (JSON.stringify(parsed) === text) return keep ? new KeptJson(parsed, bytes) : {json: parsed}
    } catch {
      // not JSON: fall through to text
    }
  }
  return keep ? new KeptUtf8(text, bytes) : {utf8: text}
}

export function payloadFromString(text: string, opts: {json?: boolean} = {}): Payload {
  return toPayload(Buffer.from(text, 'utf8'), opts)
}

function looksLikeJson(text: string): boolean {
  const c = text.charCodeAt(0)
  // { [ " digit - t f n: cheap pre-check before JSON.parse
  return (
    c === 123 ||
    c === 91 ||
    c === 34 ||
    (c >= 48 && c <= 57) ||
    c === 45 ||
    c === 116 ||
    c === 102 ||
    c === 110
  )
}

export function payloadBytes(p: Payload): Buffer {
  const original = Kept.bytesOf(p)
  if (original) return Buffer.from(original.buffer, original.byteOffset, original.byteLength)
  if ('base64' in p) return Buffer.from(p.base64, 'base64')
  if ('utf8' in p) return Buffer.from(p.utf8, 'utf8')
  return Buffer.from(JSON.stringify(p.json), 'utf8')
}

/** Text for display and for filters: the JSON value, the text, or null for binary. */
export function payloadText(p: Payload): string {
  if ('utf8' in p) return p.utf8
  if ('json' in p) return JSON.stringify(p.json)
  return p.base64
}

/** The value a filter expression sees: parsed JSON, text, or {base64} for binary. */
export function payloadData(p: Payload | null | undefined): unknown {
  if (p == null) return null
  if ('json' in p) return p.json
  if ('utf8' in p) return p.utf8
  return p
}
