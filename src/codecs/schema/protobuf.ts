import type * as Pb from 'protobufjs'

type PbModule = typeof import('protobufjs')
let pbModule: PbModule | undefined
async function protobufjs(): Promise<PbModule> {
  if (!pbModule) {
    const m = (await import('protobufjs')) as unknown as {default?: PbModule} & PbModule
    pbModule = m.default ?? m
  }
  return pbModule
}

/** Protobuf JSON mapping, as far as protobufjs goes: lowerCamelCase names, 64-bit ints and enums as strings, bytes as base64. */
const TO_JSON: Pb.IConversionOptions = {longs: String, enums: String, bytes: String, json: true}

export interface ProtoFile {
  /** The import path others use for it (Confluent reference name), or the file name. */
  name: string
  text: string
}

/**
 * Compiled .proto files: the main file's messages addressable by Confluent's message indexes
 * (top-level message i, then nested message j of it, …) and by full name.
 */
export interface ProtobufCodec {
  /** The message type at Confluent's index path in the main file. */
  messageAt(indexes: readonly number[]): Pb.Type
  /** The index path of a message type of the main file (for framing on publish). */
  indexesOf(type: Pb.Type): number[]
  lookup(fullName: string): Pb.Type
  decode(type: Pb.Type, bytes: Uint8Array): unknown
  /** JSON (Protobuf JSON mapping) → binary; throws ProtoInputError naming the field. */
  encode(type: Pb.Type, value: unknown): Buffer
}

export class ProtoInputError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message)
  }
}

/** Compiles `main` with `deps` (the files it imports, in any order). */
export async function compileProtobuf(
  main: ProtoFile,
  deps: readonly ProtoFile[] = [],
): Promise<ProtobufCodec> {
  const pb = await protobufjs()
  const root = new pb.Root()
  const wellKnown = new Set<string>()
  const addFile = (f: ProtoFile) => {
    const parsed = pb.parse(f.text, root, {keepCase: false, alternateCommentMode: true})
    for (const imp of parsed.imports ?? []) {
      const common = (pb.common as unknown as Record<string, {nested?: object}>)[imp]
      if (imp.startsWith('google/protobuf/') && common?.nested && !wellKnown.has(imp)) {
        wellKnown.add(imp)
        root.addJSON(common.nested as Record<string, Pb.AnyNestedObject>)
      }
    }
    return parsed
  }
  for (const d of deps) addFile(d)
  addFile(main)
  root.resolveAll()
  // The main file's own messages, in declaration order (what Confluent's indexes count).
  const own = pb.parse(main.text, new pb.Root(), {keepCase: false, alternateCommentMode: true})
  const ns = own.package ? own.root.lookup(own.package) : own.root
  const topLevel = messagesOf(ns as Pb.Namespace, pb)
  const byName = new Map<string, number[]>()
  const index = (list: Pb.Type[], path: number[]) => {
    list.forEach((t, i) => {
      byName.set(t.fullName, [...path, i])
      index(messagesOf(t, pb), [...path, i])
    })
  }
  index(topLevel, [])
  return {
    messageAt(indexes) {
      let list = topLevel
      let t: Pb.Type | undefined
      for (const i of indexes) {
        t = list[i]
        if (!t) throw new Error(`no message at index path [${indexes.join(', ')}] in the schema`)
        list = messagesOf(t, pb)
      }
      if (!t) throw new Error('the schema defines no message')
      return root.lookupType(t.fullName)
    },
    indexesOf(type) {
      const path = byName.get(type.fullName)
      if (!path)
        throw new Error(`${type.fullName.replace(/^\./, '')} is not defined in the schema's own file`)
      return path
    },
    lookup(fullName) {
      return root.lookupType(fullName)
    },
    decode(type, bytes) {
      return type.toObject(type.decode(bytes), TO_JSON)
    },
    encode(type, value) {
      const problem = checkJson(type, value, '', 0)
      if (problem) throw new ProtoInputError(problem.message, problem.path)
      return Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish())
    },
  }
}

function messagesOf(ns: Pb.Namespace, pb: PbModule): Pb.Type[] {
  return ns.nestedArray.filter((n): n is Pb.Type => n instanceof pb.Type)
}

const INT32 = new Set(['int32', 'sint32', 'sfixed32', 'uint32', 'fixed32'])
const INT64 = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64'])

/** The first place where `value` does not fit `type` under the Protobuf JSON mapping. */
function checkJson(
  type: Pb.Type,
  value: unknown,
  path: string,
  depth: number,
): {path: string; message: string} | undefined {
  const at = (p: string, message: string) => ({path: p, message: `field "${p || '(top level)'}": ${message}`})
  if (depth > 100) return at(path, 'nested too deep')
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return at(path, `expected an object for message ${type.name}, got ${JSON.stringify(value)}`)
  for (const [k, v] of Object.entries(value)) {
    const field =
      type.fields[k] ?? type.fieldsArray.find((f) => f.name === k || (f.options?.json_name as string) === k)
    const p = path ? `${path}.${k}` : k
    if (!field) {
      const names = type.fieldsArray.map((f) => f.name).join(', ')
      return at(p, `message ${type.name} has no such field (fields: ${names})`)
    }
    if (v === null) continue
    field.resolve()
    const m = field as unknown as Pb.MapField
    if (m.map) {
      if (typeof v !== 'object' || Array.isArray(v)) return at(p, 'expected an object (a map)')
      for (const [mk, mv] of Object.entries(v as object)) {
        const bad = checkScalar(field, mv, `${p}.${mk}`, depth)
        if (bad) return bad
      }
      continue
    }
    if (field.repeated) {
      if (!Array.isArray(v)) return at(p, `expected an array (repeated ${field.type})`)
      for (let i = 0; i < v.length; i++) {
        const bad = checkScalar(field, v[i], `${p}[${i}]`, depth)
        if (bad) return bad
      }
      continue
    }
    const bad = checkScalar(field, v, p, depth)
    if (bad) return bad
  }
  return undefined
}

function checkScalar(
  field: Pb.Field,
  v: unknown,
  p: string,
  depth: number,
): {path: string; message: string} | undefined {
  const at = (message: string) => ({path: p, message: `field "${p}": ${message}, got ${JSON.stringify(v)}`})
  const t = field.type
  const rt = field.resolvedType
  if (rt && 'fieldsArray' in rt) return checkJson(rt as Pb.Type, v, p, depth + 1)
  if (rt && 'values' in rt) {
    const values = (rt as Pb.Enum).values
    if (typeof v === 'string' ? !(v in values) : !Number.isInteger(v))
      return at(`expected one of ${Object.keys(values).join(', ')}`)
    return undefined
  }
  if (INT32.has(t)) {
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v
    if (!Number.isInteger(n)) return at(`expected a 32-bit integer (${t})`)
    return undefined
  }
  if (INT64.has(t)) {
    if (!(Number.isInteger(v) || (typeof v === 'string' && /^-?\d+$/.test(v))))
      return at(`expected a 64-bit integer (${t}; a number or a string of digits)`)
    return undefined
  }
  if (t === 'double' || t === 'float') {
    if (typeof v !== 'number' && !(typeof v === 'string' && /^(-?Infinity|NaN|-?[\d.eE+-]+)$/.test(v)))
      return at(`expected a number (${t})`)
    return undefined
  }
  if (t === 'bool') return typeof v === 'boolean' ? undefined : at('expected true or false')
  if (t === 'string') return typeof v === 'string' ? undefined : at('expected a string')
  if (t === 'bytes')
    return typeof v === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(v)
      ? undefined
      : at('expected base64 text (bytes)')
  return undefined
}
