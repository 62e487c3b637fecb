import {isUtf8} from 'node:buffer'

/**
 * A payload is bytes shown the most readable way that still restores them exactly:
 * `{json}` when the bytes are UTF-8 text in canonical compact JSON (JSON.stringify(JSON.parse(t)) === t),
 * `{utf8}` when they are valid UTF-8, `{base64}` otherwise. Anything that would not re-serialise to
 * the same bytes (pretty-printed JSON, 1e5, big integers, duplicate keys) stays `{utf8}`.
 */
export type Payload = {json: unknown} | {utf8: string} | {base64: string}

/**
 * Payloads made by toPayload remember, in private fields (not serialised, not compared, not
 * copied by a spread), what was already computed:
 * - the bytes they were made from, for input about to be published: sending does not re-encode
 *   (a WeakMap beside the payloads cost ~0.25 s and much GC time per million lines);
 * - for {json}, its canonical text, which the JSONL encoder writes as is instead of calling
 *   JSON.stringify a second time.
 */
class Known {
  readonly #bytes: Uint8Array | undefined
  readonly #jsonText: string | undefined
  constructor(bytes: Uint8Array | undefined, jsonText: string | undefined) {
    this.#bytes = bytes
    this.#jsonText = jsonText
  }
  static bytesOf(p: object): Uint8Array | undefined {
    return #bytes in p ? (p as Known).#bytes : undefined
  }
  static jsonTextOf(p: object): string | undefined {
    return #jsonText in p ? (p as Known).#jsonText : undefined
  }
}
class KnownUtf8 extends Known {
  constructor(
    readonly utf8: string,
    bytes: Uint8Array,
  ) {
    super(bytes, undefined)
  }
}
/**
 * A copy's text payload (`json: false` with `keepBytes`): what is sent is the bytes kept, so the
 * string is made only if something reads it (a filter, a destination that sends text). Made
 * always, it was ~0.3 s and 100 MB of garbage per 500k 200-byte values in a Kafka copy.
 */
class CopiedUtf8 extends Known {
  #text: string | undefined
  constructor(bytes: Uint8Array) {
    super(bytes, undefined)
  }
  get utf8(): string {
    const b = Known.bytesOf(this)!
    this.#text ??= Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')
    return this.#text
  }
  toJSON(): {utf8: string} {
    return {utf8: this.utf8}
  }
}
class KnownBase64 extends Known {
  constructor(
    readonly base64: string,
    bytes: Uint8Array,
  ) {
    super(bytes, undefined)
  }
}
class KnownJson extends Known {
  constructor(
    readonly json: unknown,
    text: string,
    bytes: Uint8Array | undefined,
  ) {
    super(bytes, text)
  }
}

/** The bytes a payload was made from, when toPayload kept them (`keepBytes`): the same object. */
export function keptBytes(p: Payload): Uint8Array | undefined {
  return Known.bytesOf(p)
}

/** The canonical JSON text of a {json} payload made by toPayload (undefined for others). */
export function knownJsonText(p: Payload): string | undefined {
  return Known.jsonTextOf(p)
}

/**
 * `keepBytes`: remember the bytes beside the payload (for input about to be published). Off for
 * reads, where a million remembered payloads would only cost memory and GC time.
 */
export function toPayload(bytes: Uint8Array, opts: {json?: boolean; keepBytes?: boolean} = {}): Payload {
  const keep = opts.keepBytes === true
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // isUtf8 (simdutf) then toString: much faster than a fatal TextDecoder on the hot path.
  if (!isUtf8(buf)) {
    const base64 = buf.toString('base64')
    return keep ? new KnownBase64(base64, bytes) : {base64}
  }
  if (keep && opts.json === false) return new CopiedUtf8(bytes)
  const text = buf.toString('utf8')
  if (opts.json !== false && looksLikeJson(text)) {
    try {
      const parsed: unknown = JSON.parse(text)
      if (JSON.stringify(parsed) === text) return new KnownJson(parsed, text, keep ? bytes : undefined)
    } catch {
      // not JSON: fall through to text
    }
  }
  return keep ? new KnownUtf8(text, bytes) : {utf8: text}
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
  const original = Known.bytesOf(p)
  if (original) return Buffer.from(original.buffer, original.byteOffset, original.byteLength)
  if ('base64' in p) return Buffer.from(p.base64, 'base64')
  if ('utf8' in p) return Buffer.from(p.utf8, 'utf8')
  return Buffer.from(JSON.stringify(p.json), 'utf8')
}

/** Text for display and for filters: the JSON value, the text, or null for binary. */
export function payloadText(p: Payload): string {
  if ('utf8' in p) return p.utf8
  if ('json' in p) return Known.jsonTextOf(p) ?? JSON.stringify(p.json)
  return p.base64
}
