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
  return {
    type,
    decode(bytes) {
      checkAvro(type, bytes)
      return toJson(type.fromBuffer(bytes))
    },
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
 * A converter from what avsc's fromBuffer returns to what JSON.parse(type.toString(value))
 * gives — Avro's JSON encoding as plain objects — made once per schema: no JSON text is written
 * and parsed again per message (that round trip was a third of a decoded tail's time). Records
 * become plain objects in field order, a wrapped union {"branch": value} (null stays null), bytes
 * and fixed strings of code points 0–255, a float or double that JSON cannot hold (NaN, ±Infinity)
 * null and -0 0, as JSON.stringify writes them. Types it does not know fall back to the round trip.
 */
export function jsonForm(root: Type): ToJson {
  const made = new Map<Type, ToJson>()
  const roundTrip: ToJson = (v) => JSON.parse(root.toString(v))
  let unknown = false
  const of = (type: Type): ToJson => {
    const known = made.get(type)
    if (known) return known
    // Recursive schemas: a forward reference, filled in below.
    let inner: ToJson = same
    const forward: ToJson = (v) => inner(v)
    made.set(type, forward)
    inner = build(type)
    made.set(type, inner)
    return inner
  }
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
