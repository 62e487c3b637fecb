import type {Type} from 'avsc'

type Avsc = typeof import('avsc')
let avscModule: Avsc | undefined
/** avsc is CommonJS: its namespace arrives as `default` in ESM. Loaded on first use only. */
async function avsc(): Promise<Avsc> {
  if (!avscModule) {
    const m = (await import('avsc')) as unknown as {default?: Avsc} & Avsc
    avscModule = m.default ?? m
  }
  return avscModule
}

/**
 * A compiled Avro schema. Values use Avro's JSON encoding: a union value is wrapped with its
 * branch ({"string": "x"}, null stays null), bytes and fixed are strings of code points 0–255 —
 * so what tail shows, publish --encode takes back.
 */
export interface AvroCodec {
  readonly type: Type
  /** Decodes the whole of `bytes` (no trailing data); throws a message naming what is wrong. */
  decode(bytes: Buffer): unknown
  /**
   * The same as JSON text — exactly JSON.stringify(decode(bytes)) — read straight from the bytes
   * with no value built: for output that only writes it (tail -o jsonl). Undefined for schemas
   * with maps (whose duplicate and "__proto__" keys avsc resolves as an object does).
   */
  readonly decodeJson?: (bytes: Buffer) => string
  /** JSON (Avro JSON encoding) → binary; throws AvroInputError naming the field. */
  encode(value: unknown): Buffer
}

export class AvroInputError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message)
  }
}

/**
 * Compiles `schema` (JSON text); `references` are the texts of schemas it names (Confluent schema
 * references), compiled first into the same namespace.
 */
export async function compileAvro(schema: string, references: readonly string[] = []): Promise<AvroCodec> {
  const {Type} = await avsc()
  const registry = {}
  const opts = {wrapUnions: true, registry}
  for (const ref of references) Type.forSchema(JSON.parse(ref), opts)
  const type = Type.forSchema(JSON.parse(schema), opts)
  const toJson = jsonForm(type)
  const text = jsonTextReader(type)
  return {
    type,
    decode(bytes) {
      checkAvro(type, bytes)
      return toJson(type.fromBuffer(bytes))
    },
    ...(text
      ? {
          decodeJson(bytes: Buffer) {
            checkAvro(type, bytes)
            const s = {pos: 0}
            return text(bytes, s)
          },
        }
      : {}),
    encode(value) {
      let native: unknown
      try {
        native = type.fromString(JSON.stringify(value))
      } catch (err) {
        throw new AvroInputError(
          explainInvalid(type, value) ?? (err as Error).message,
          firstInvalidPath(type, value),
        )
      }
      const problem = explainInvalid(type, native)
      if (problem) throw new AvroInputError(problem, firstInvalidPath(type, native))
      return type.toBuffer(native)
    },
  }
}

/** avsc's value → its Avro JSON encoding as plain data. */
type ToJson = (v: unknown) => unknown
const same: ToJson = (v) => v

/**
 * `build` made once per Avro type and remembered. A recursive schema meets its own type while it
 * is being built: that use gets a forward reference to what the build returns.
 */
function perType<F extends (...args: never[]) => unknown>(build: (type: Type) => F): (type: Type) => F {
  const made = new Map<Type, F>()
  return (type) => {
    const known = made.get(type)
    if (known) return known
    let inner: F | undefined
    made.set(type, ((...args: Parameters<F>) => inner!(...args)) as F)
    inner = build(type)
    made.set(type, inner)
    return inner
  }
}

/**
 * A converter from what avsc's fromBuffer returns to what JSON.parse(type.toString(value))
 * gives — Avro's JSON encoding as plain objects — made once per schema: no JSON text is written
 * and parsed again per message (that round trip was a third of a decoded tail's time). Records
 * become plain objects in field order, a wrapped union {"branch": value} (null stays null), bytes
 * and fixed strings of code points 0–255, a float or double that JSON cannot hold (NaN, ±Infinity)
 * null and -0 0, as JSON.stringify writes them. Types it does not know fall back to the round trip.
 */
export function jsonForm(root: Type): ToJson {
  const roundTrip: ToJson = (v) => JSON.parse(root.toString(v))
  let unknown = false
  const of = perType<ToJson>((type) => build(type))
  const build = (type: Type): ToJson => {
    const t = type as unknown as {
      typeName: string
      types?: Type[]
      itemsType?: Type
      valuesType?: Type
      fields?: Array<{name: string; type: Type}>
      branchName?: string
      _branchConstructor?: unknown
    }
    switch (t.typeName) {
      case 'null':
      case 'boolean':
      case 'int':
      case 'long':
      case 'string':
      case 'enum':
        return same
      case 'float':
      case 'double':
        return (v) => (Number.isFinite(v) ? (v as number) + 0 : null)
      case 'bytes':
      case 'fixed':
        return (v) => (v as Buffer).toString('latin1')
      case 'array': {
        const item = of(t.itemsType!)
        if (item === same) return same
        return (v) => {
          const a = v as unknown[]
          const out = new Array(a.length)
          for (let i = 0; i < a.length; i++) out[i] = item(a[i])
          return out
        }
      }
      case 'map': {
        const value = of(t.valuesType!)
        return (v) => {
          const m = v as Record<string, unknown>
          const out: Record<string, unknown> = {}
          for (const k of Object.keys(m)) out[k] = value(m[k])
          return out
        }
      }
      case 'record':
      case 'error': {
        const fields = t.fields!
        if (fields.some((f) => f.name === '__proto__')) {
          unknown = true
          return same
        }
        const names = fields.map((f) => f.name)
        const convs = fields.map((f) => of(f.type))
        return (v) => {
          const r = v as Record<string, unknown>
          const out: Record<string, unknown> = {}
          for (let i = 0; i < names.length; i++) {
            const name = names[i]!
            out[name] = convs[i]!(r[name])
          }
          return out
        }
      }
      case 'union:wrapped': {
        // avsc reads a branch as `new Branch(value)`, one constructor per branch type.
        const branches = t.types!.map((b) => {
          const bt = b as unknown as {branchName: string; _branchConstructor: unknown}
          return {ctor: bt._branchConstructor, name: bt.branchName, conv: of(b)}
        })
        return (v) => {
          if (v === null) return null
          const ctor = (v as object).constructor
          for (const b of branches) {
            if (b.ctor === ctor) return {[b.name]: b.conv((v as Record<string, unknown>)[b.name])}
          }
          return roundTrip(v)
        }
      }
      default:
        unknown = true
        return same
    }
  }
  const conv = of(root)
  return unknown ? roundTrip : conv
}

type ReadText = (buf: Buffer, s: {pos: number}) => string
/** Buffer's own decoders, as avsc calls them: toString(enc, start, end) costs twice as much. */
type SliceBuffer = Buffer & {
  utf8Slice(start: number, end: number): string
  latin1Slice(start: number, end: number): string
}

/** Characters JSON.stringify escapes (and lone surrogates): most strings need none. */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`
}

/** avsc's Tap.readLong, to the bit: the same numbers for the same (checked) bytes. */
function readVarint(buf: Buffer, s: {pos: number}): number {
  let n = 0
  let k = 0
  let b: number
  let h: number
  do {
    b = buf[s.pos++]!
    h = b & 0x80
    n |= (b & 0x7f) << k
    k += 7
  } while (h && k < 28)
  if (h) {
    let f = n
    let fk = 268435456
    do {
      b = buf[s.pos++]!
      f += (b & 0x7f) * fk
      fk *= 128
    } while (b & 0x80)
    return (f % 2 ? -(f + 1) : f) / 2
  }
  return (n >> 1) ^ -(n & 1)
}

/** A float or double as JSON.stringify writes it: NaN and ±Infinity are null, -0 is 0. */
function numberText(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null'
}

/**
 * Bytes already passed by checkAvro → the JSON text of their Avro JSON encoding, exactly what
 * JSON.stringify(jsonForm(type)(type.fromBuffer(bytes))) gives, without building either value:
 * for a decoded tail into JSONL, which writes the value and never looks at it. Numbers are read
 * as avsc reads them (a long beyond ±2^53 is avsc's "potential precision loss"), strings with
 * Buffer's UTF-8 decoding as avsc does. Undefined for a schema with a map (or an odd field name):
 * those keep the object path.
 */
export function jsonTextReader(root: Type): ((buf: Buffer, s: {pos: number}) => string) | undefined {
  let unsupported = false
  const of = perType<ReadText>((type) => build(type))
  const build = (type: Type): ReadText => {
    const t = type as unknown as {
      typeName: string
      size?: number
      symbols?: string[]
      types?: Type[]
      itemsType?: Type
      fields?: Array<{name: string; type: Type}>
    }
    switch (t.typeName) {
      case 'null':
        return () => 'null'
      case 'boolean':
        return (buf, s) => (buf[s.pos++] ? 'true' : 'false')
      case 'int':
        return (buf, s) => String(readVarint(buf, s))
      case 'long':
        return (buf, s) => {
          const n = readVarint(buf, s)
          if (!(n >= -9007199254740990 && n <= 9007199254740990)) throw new Error('potential precision loss')
          return String(n)
        }
      case 'float':
        return (buf, s) => {
          const n = buf.readFloatLE(s.pos)
          s.pos += 4
          return numberText(n)
        }
      case 'double':
        return (buf, s) => {
          const n = buf.readDoubleLE(s.pos)
          s.pos += 8
          return numberText(n)
        }
      case 'string':
        return (buf, s) => {
          const n = readVarint(buf, s)
          const start = s.pos
          s.pos += n
          return quote((buf as SliceBuffer).utf8Slice(start, s.pos))
        }
      case 'bytes':
        return (buf, s) => {
          const n = readVarint(buf, s)
          const start = s.pos
          s.pos += n
          return quote((buf as SliceBuffer).latin1Slice(start, s.pos))
        }
      case 'fixed': {
        const size = t.size!
        return (buf, s) => {
          const start = s.pos
          s.pos += size
          return quote((buf as SliceBuffer).latin1Slice(start, s.pos))
        }
      }
      case 'enum': {
        const symbols = t.symbols!.map((x) => JSON.stringify(x))
        return (buf, s) => symbols[readVarint(buf, s)]!
      }
      case 'array': {
        const item = of(t.itemsType!)
        return (buf, s) => {
          let out = '['
          let first = true
          for (;;) {
            let n = readVarint(buf, s)
            if (n === 0) break
            if (n < 0) {
              n = -n
              readVarint(buf, s) // the block's size in bytes
            }
            for (let i = 0; i < n; i++) {
              out += first ? item(buf, s) : `,${item(buf, s)}`
              first = false
            }
          }
          return `${out}]`
        }
      }
      case 'union:wrapped': {
        const branches = t.types!.map((b) => {
          const bt = b as unknown as {typeName: string; branchName: string}
          return bt.typeName === 'null'
            ? undefined
            : {head: `{${JSON.stringify(bt.branchName)}:`, read: of(b)}
        })
        return (buf, s) => {
          const b = branches[readVarint(buf, s)]
          return b ? `${b.head}${b.read(buf, s)}}` : 'null'
        }
      }
      case 'record':
      case 'error': {
        const fields = t.fields!
        if (fields.some((f) => f.name === '__proto__')) {
          unsupported = true
          return () => ''
        }
        const heads = fields.map((f, i) => `${i === 0 ? '{' : ','}${JSON.stringify(f.name)}:`)
        const reads = fields.map((f) => of(f.type))
        if (fields.length === 0) return () => '{}'
        return (buf, s) => {
          let out = ''
          for (let i = 0; i < reads.length; i++) out += heads[i]! + reads[i]!(buf, s)
          return `${out}}`
        }
      }
      default:
        // map (avsc resolves duplicate and "__proto__" keys as an object does), unwrapped unions…
        unsupported = true
        return () => ''
    }
  }
  const read = of(root)
  return unsupported ? undefined : read
}

function invalidPaths(type: Type, value: unknown): Array<{path: string; expected: string; got: unknown}> {
  const found: Array<{path: string; expected: string; got: unknown}> = []
  type.isValid(value, {
    errorHook: (path: string[], got: unknown, t: Type) => {
      found.push({path: path.join('.'), expected: typeLabel(t), got})
    },
  })
  return found
}

function firstInvalidPath(type: Type, value: unknown): string {
  return invalidPaths(type, value)[0]?.path ?? ''
}

function explainInvalid(type: Type, value: unknown): string | undefined {
  const bad = invalidPaths(type, value)
  if (bad.length === 0) return undefined
  return bad
    .slice(0, 3)
    .map((b) => `field "${b.path || '(top level)'}": expected ${b.expected}, got ${shortJson(b.got)}`)
    .join('; ')
}

function typeLabel(t: Type): string {
  const name = (t as unknown as {name?: string}).name
  const kind = t.typeName
  if (kind.startsWith('union')) {
    const branches = (t as unknown as {types: Type[]}).types.map((b) => b.branchName ?? b.typeName)
    return `one of ${branches.join(', ')} (a union value is written {"branch": value}, or null)`
  }
  return name ? `${kind} ${name}` : kind
}

function shortJson(v: unknown): string {
  if (v === undefined) return 'nothing (missing)'
  let text: string
  try {
    text = JSON.stringify(v) ?? String(v)
  } catch {
    text = String(v)
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** Nesting deeper than this is refused (recursive schemas could otherwise exhaust the stack). */
const MAX_DEPTH = 500
/** Items of all arrays and maps of one message, for items that take no bytes (null, empty records). */
const MAX_ITEMS = 1_000_000

/**
 * Walks Avro binary data against `type` without building values, and throws on anything a
 * conformant decoder must reject (Apache Avro's binary-rejections vectors, AVRO-4304): varints
 * longer than 10 bytes (int: 5), negative lengths, lengths or block counts beyond the bytes left,
 * union and enum indexes out of range, trailing bytes. avsc itself trusts counts (a count of 2^31
 * for null items loops that often), so this runs first: bounded time and memory for any input.
 */
export function checkAvro(type: Type, buf: Buffer): void {
  const s = {pos: 0, items: 0}
  walk(type, buf, s, 0)
  if (s.pos !== buf.length) {
    throw new Error(
      s.pos > buf.length ? 'truncated data' : `${buf.length - s.pos} trailing byte(s) after the value`,
    )
  }
}

function varint(buf: Buffer, s: {pos: number}, maxBytes: number): number {
  let result = 0
  let mul = 1
  for (let i = 0; i < maxBytes; i++) {
    const b = buf[s.pos++]
    if (b === undefined) throw new Error('truncated data')
    result += (b & 0x7f) * mul
    if ((b & 0x80) === 0) {
      // zig-zag: even = positive, odd = negative
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2
    }
    mul *= 128
  }
  throw new Error(`a varint longer than ${maxBytes} bytes`)
}

function length(buf: Buffer, s: {pos: number}): number {
  const n = varint(buf, s, 10)
  if (n < 0) throw new Error(`negative length ${n}`)
  if (n > buf.length - s.pos) throw new Error(`length ${n} is beyond the ${buf.length - s.pos} byte(s) left`)
  return n
}

function walk(type: Type, buf: Buffer, s: {pos: number; items: number}, depth: number): void {
  if (depth > MAX_DEPTH) throw new Error(`nested deeper than ${MAX_DEPTH}`)
  const t = type as unknown as {
    typeName: string
    size?: number
    symbols?: string[]
    types?: Type[]
    itemsType?: Type
    valuesType?: Type
    fields?: Array<{type: Type}>
    underlyingType?: Type
  }
  switch (t.typeName) {
    case 'null':
      return
    case 'boolean':
      if (s.pos >= buf.length) throw new Error('truncated data')
      s.pos++
      return
    case 'int':
      varint(buf, s, 5)
      return
    case 'long':
      varint(buf, s, 10)
      return
    case 'float':
      s.pos += 4
      if (s.pos > buf.length) throw new Error('truncated data')
      return
    case 'double':
      s.pos += 8
      if (s.pos > buf.length) throw new Error('truncated data')
      return
    case 'bytes':
    case 'string': {
      const n = length(buf, s)
      s.pos += n
      return
    }
    case 'fixed':
      s.pos += t.size!
      if (s.pos > buf.length) throw new Error('truncated data')
      return
    case 'enum': {
      const i = varint(buf, s, 5)
      if (i < 0 || i >= t.symbols!.length)
        throw new Error(`enum index ${i} is out of range (${t.symbols!.length} symbols)`)
      return
    }
    case 'union:wrapped':
    case 'union:unwrapped': {
      const i = varint(buf, s, 10)
      if (i < 0 || i >= t.types!.length)
        throw new Error(`union branch ${i} is out of range (${t.types!.length} branches)`)
      walk(t.types![i]!, buf, s, depth + 1)
      return
    }
    case 'array':
    case 'map': {
      const item = t.typeName === 'array' ? t.itemsType! : t.valuesType!
      const minBytes = (t.typeName === 'map' ? 1 : 0) + minSize(item, 0)
      for (;;) {
        let n = varint(buf, s, 10)
        if (n === 0) return
        if (n < 0) {
          n = -n
          // A negative count is followed by the block's size in bytes.
          length(buf, s)
        }
        if (!Number.isSafeInteger(n)) throw new Error(`block count ${n} is too large`)
        if (minBytes > 0 && n * minBytes > buf.length - s.pos)
          throw new Error(`block count ${n} is beyond the ${buf.length - s.pos} byte(s) left`)
        s.items += n
        if (s.items > MAX_ITEMS) throw new Error(`more than ${MAX_ITEMS} array or map items`)
        for (let i = 0; i < n; i++) {
          if (t.typeName === 'map') {
            const keyBytes = length(buf, s)
            s.pos += keyBytes
          }
          walk(item, buf, s, depth + 1)
        }
      }
    }
    case 'record':
    case 'error':
      for (const f of t.fields!) walk(f.type, buf, s, depth + 1)
      return
    default:
      if (t.underlyingType) {
        walk(t.underlyingType, buf, s, depth)
        return
      }
      throw new Error(`Avro type ${t.typeName} is not supported`)
  }
}

/** The fewest bytes a value of `type` takes (0 for null and records of nulls). */
function minSize(type: Type, depth: number): number {
  if (depth > 20) return 0
  const t = type as unknown as {
    typeName: string
    size?: number
    fields?: Array<{type: Type}>
    underlyingType?: Type
  }
  switch (t.typeName) {
    case 'null':
      return 0
    case 'float':
      return 4
    case 'double':
      return 8
    case 'fixed':
      return t.size!
    case 'record':
    case 'error':
      return t.fields!.reduce((sum, f) => sum + minSize(f.type, depth + 1), 0)
    default:
      return t.underlyingType ? minSize(t.underlyingType, depth + 1) : 1
  }
}
