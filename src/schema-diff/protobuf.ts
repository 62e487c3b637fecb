/**
 * Protobuf compatibility with Confluent Schema Registry's difference types and paths
 * (`FIELD_KIND_CHANGED #/TestMessage/2`), on files parsed by protobufjs (never a hand-written
 * parser). `compareProtobuf(old, new)` is Confluent's `SchemaDiff.compare(original, update)`.
 *
 * What Confluent checks: the package; messages and enums by name (added, removed, moved among
 * the top-level messages); fields by number: removed, added, required, renamed, kind (scalar,
 * message, map), scalar wire group (varint, zigzag, string/bytes, fixed32, fixed64, float, double;
 * enums are varints), labels, oneofs (added, removed, members moved in or out); enum constants;
 * messages from imports compared when the imported file differs. Beyond Confluent, a field that
 * takes a number or name the old schema reserved is breaking (RESERVED_FIELD_REUSED).
 *
 * Imports resolve from the importing file's folder, then each --proto-path, then the folders
 * above the file up to the repository root; google/protobuf/*
 * may be absent (well-known types are then compared by name).
 */
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {dirname, isAbsolute, resolve} from 'node:path'
import type * as Pb from 'protobufjs'
import {oldToNew} from './json-schema.js'
import {
  consequence,
  type Direction,
  type Engine,
  type EngineOptions,
  type RawChange,
  SchemaInputError,
  type SchemaSource,
} from './types.js'

type PbModule = typeof Pb
let pbModule: PbModule | undefined
async function protobuf(): Promise<PbModule> {
  if (!pbModule) {
    const m = (await import('protobufjs')) as unknown as {default?: PbModule}
    pbModule = m.default ?? (m as unknown as PbModule)
  }
  return pbModule
}

export const COMPATIBLE: ReadonlySet<string> = new Set([
  'MESSAGE_ADDED',
  'MESSAGE_MOVED',
  'ENUM_ADDED',
  'ENUM_REMOVED',
  'ENUM_CONST_ADDED',
  'ENUM_CONST_CHANGED',
  'ENUM_CONST_REMOVED',
  'FIELD_ADDED',
  'FIELD_REMOVED',
  'FIELD_NAME_CHANGED',
  'FIELD_STRING_OR_BYTES_LABEL_CHANGED',
  'ONEOF_ADDED',
  'ONEOF_REMOVED',
  'ONEOF_FIELD_ADDED',
  'ONEOF_FIELD_MOVED_TO_TOP_LEVEL',
])

// ---------------------------------------------------------------------------------------------
// A file as Confluent's diff sees it (wire's ProtoFileElement), built from protobufjs.

type Label = 'optional' | 'required' | 'repeated' | null

interface FieldEl {
  name: string
  tag: number
  /** As written: `int32`, `.pkg.Msg`, `Msg`, `map<string, Msg>`. */
  type: string
  label: Label
}
interface OneOfEl {
  name: string
  fields: FieldEl[]
}
interface MessageEl {
  kind: 'message'
  name: string
  /** Fields outside oneofs, in order. */
  fields: FieldEl[]
  oneofs: OneOfEl[]
  nested: TypeEl[]
  reservedNumbers: Array<[number, number]>
  reservedNames: string[]
}
interface EnumEl {
  kind: 'enum'
  name: string
  constants: Array<{name: string; tag: number}>
  nested: TypeEl[]
}
type TypeEl = MessageEl | EnumEl

interface FileEl {
  name: string
  packageName: string
  types: TypeEl[]
  imports: string[]
  /** '' for the schema itself; the import name and a hash of its text for a dependency. */
  ref: string
}

const SCALARS = new Set([
  'double',
  'float',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
  'bool',
  'string',
  'bytes',
])

function syntaxOf(text: string): 'proto2' | 'proto3' | 'editions' {
  const stripped = text.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '')
  const m = /^\s*(syntax|edition)\s*=\s*["']([^"']+)["']/m.exec(stripped)
  if (!m) return 'proto2'
  if (m[1] === 'edition') return 'editions'
  return m[2] === 'proto3' ? 'proto3' : 'proto2'
}

function parseFile(pb: PbModule, name: string, text: string, ref: string): FileEl {
  let parsed: Pb.IParserResult
  try {
    parsed = pb.parse(text, {keepCase: true, alternateCommentMode: true})
  } catch (err) {
    const message = (err as Error).message
    const m = /line (\d+)/.exec(message)
    throw new SchemaInputError(
      `not valid Protobuf: ${message.replace(/\s*\((?:[^()]*, )?line \d+\)$/, '')}`,
      name,
      m ? Number(m[1]) : undefined,
      undefined,
      'SCHEMA_PARSE',
    )
  }
  const syntax = syntaxOf(text)
  const packageName = parsed.package ?? ''
  const ns = packageName ? (parsed.root.lookup(packageName) as Pb.Namespace | null) : parsed.root
  const label = (f: Pb.Field): Label => {
    if (f.rule === 'repeated') return 'repeated'
    if (f.rule === 'required') return 'required'
    if (f.partOf && !f.options?.proto3_optional) return null
    if (syntax === 'proto2') return 'optional'
    if (syntax === 'proto3' && f.options?.proto3_optional) return 'optional'
    return null
  }
  const field = (f: Pb.Field): FieldEl => ({
    name: f.name,
    tag: f.id,
    type: f instanceof pb.MapField ? `map<${(f as Pb.MapField).keyType}, ${f.type}>` : f.type,
    label: label(f),
  })
  const convert = (obj: Pb.ReflectionObject): TypeEl | undefined => {
    if (obj instanceof pb.Type) {
      const t = obj as Pb.Type
      const synthetic = (o: Pb.OneOf) =>
        o.fieldsArray.length === 1 && Boolean(o.fieldsArray[0]!.options?.proto3_optional)
      const oneofs = t.oneofsArray.filter((o) => !synthetic(o))
      const inOneof = new Set(oneofs.flatMap((o) => o.fieldsArray.map((f) => f.name)))
      const reserved = t.reserved ?? []
      return {
        kind: 'message',
        name: t.name,
        fields: t.fieldsArray.filter((f) => !inOneof.has(f.name)).map(field),
        oneofs: oneofs.map((o) => ({name: o.name, fields: o.fieldsArray.map(field)})),
        nested: (t.nestedArray ?? []).map(convert).filter((x): x is TypeEl => x !== undefined),
        reservedNumbers: reserved.filter((r): r is number[] => Array.isArray(r)).map((r) => [r[0]!, r[1]!]),
        reservedNames: reserved.filter((r): r is string => typeof r === 'string'),
      }
    }
    if (obj instanceof pb.Enum) {
      const e = obj as Pb.Enum
      return {
        kind: 'enum',
        name: e.name,
        constants: Object.entries(e.values).map(([n, tag]) => ({name: n, tag})),
        nested: [],
      }
    }
    return undefined
  }
  const types =
    ns && 'nestedArray' in ns ? ns.nestedArray.map(convert).filter((x): x is TypeEl => x !== undefined) : []
  return {
    name,
    packageName,
    types,
    imports: [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])],
    ref,
  }
}

const parsedImports = new Map<string, FileEl>()

/** The schema and every file it imports, transitively. */
async function loadWithImports(
  source: SchemaSource,
  opts: EngineOptions,
): Promise<{main: FileEl; deps: FileEl[]}> {
  const pb = await protobuf()
  const main = parseFile(pb, source.name, source.text, '')
  const deps: FileEl[] = []
  const seen = new Set<string>()
  const queue: Array<{imp: string; from: FileEl; dir: string}> = main.imports.map((imp) => ({
    imp,
    from: main,
    dir: source.path ? dirname(source.path) : opts.root,
  }))
  while (queue.length) {
    const {imp, from, dir} = queue.shift()!
    if (seen.has(imp)) continue
    seen.add(imp)
    if (seen.size > 2000)
      throw new SchemaInputError(
        'imports more than 2000 files',
        source.name,
        undefined,
        undefined,
        'SCHEMA_TOO_COMPLEX',
      )
    if (isAbsolute(imp) || imp.split('/').includes('..')) {
      throw new SchemaInputError(
        `import "${imp}" must be a relative path inside the import roots`,
        from.name,
        undefined,
        undefined,
        'IMPORT_OUTSIDE_ROOT',
      )
    }
    const found = readImport(imp, dir, source, opts)
    if (!found) {
      if (imp.startsWith('google/protobuf/')) continue // well-known types, compared by name
      throw new SchemaInputError(
        `import "${imp}" not found next to the file or in --proto-path (${[dir, ...opts.protoPaths].join(', ')})`,
        from.name,
        undefined,
        undefined,
        'IMPORT_NOT_FOUND',
      )
    }
    const hash = createHash('sha256').update(found.text).digest('hex').slice(0, 16)
    const key = `${found.path}\0${imp}@${hash}`
    // The same import (a common.proto) is parsed once per run, not once per importing file.
    const file = parsedImports.get(key) ?? parseFile(pb, found.path, found.text, `${imp}@${hash}`)
    parsedImports.set(key, file)
    deps.push(file)
    for (const next of file.imports) queue.push({imp: next, from: file, dir})
  }
  return {main, deps}
}

function readImport(
  imp: string,
  dir: string,
  source: SchemaSource,
  opts: EngineOptions,
): {path: string; text: string} | undefined {
  // The file's folder, each --proto-path, then the folders above the file up to the root (so
  // `import "bench/v1/common.proto"` works from schemas/proto without -I, as buf's module root does).
  const ancestors: string[] = []
  for (let d = dirname(dir); d.startsWith(`${opts.root}/`) || d === opts.root; d = dirname(d)) {
    ancestors.push(d)
    if (d === opts.root) break
  }
  const candidates = [
    resolve(dir, imp),
    ...opts.protoPaths.map((p) => resolve(p, imp)),
    ...ancestors.map((a) => resolve(a, imp)),
  ]
  for (const path of candidates) {
    const insideRoot = path.startsWith(`${opts.root}/`)
    let text: string | undefined
    if (insideRoot && source.readFile) text = source.readFile(path)
    else if (!insideRoot && opts.protoPaths.some((p) => path.startsWith(`${resolve(p)}/`))) {
      // A --proto-path outside the repository was named by the user: read it as it is.
      try {
        text = readFileSync(path, 'utf8')
      } catch {
        text = undefined
      }
    }
    if (text !== undefined) return {path, text}
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// The comparison (Confluent's MessageSchemaDiff, FieldSchemaDiff, EnumSchemaDiff).

interface TypeInfo {
  packageName: string
  ref: string
  type: TypeEl
}

interface Diff {
  type: string
  path: string
  detail?: string
}

class Ctx {
  diffs: Diff[] = []
  path: string[] = []
  fullName: string[] = []
  inProgress: Set<MessageEl>
  constructor(
    readonly types: {original: Map<string, TypeInfo>; update: Map<string, TypeInfo>},
    public pkg: {original: string; update: string},
    inProgress?: Set<MessageEl>,
  ) {
    this.inProgress = inProgress ?? new Set()
  }
  sub(): Ctx {
    const c = new Ctx(this.types, {...this.pkg}, this.inProgress)
    c.path = [...this.path]
    c.fullName = [...this.fullName]
    return c
  }
  add(type: string, detail?: string): void {
    this.diffs.push({type, path: `#/${this.path.join('/')}`, ...(detail ? {detail} : {})})
  }
  at<T>(segment: string, fn: () => T, named = false): T {
    this.path.push(segment)
    if (named) this.fullName.push(segment)
    try {
      return fn()
    } finally {
      this.path.pop()
      if (named) this.fullName.pop()
    }
  }
  compatible(): boolean {
    return this.diffs.every((d) => COMPATIBLE.has(d.type))
  }
  /** Confluent's scoping: `.a.B` is absolute; `B` is looked up from the innermost scope out. */
  resolve(name: string, original: boolean): string | undefined {
    const table = original ? this.types.original : this.types.update
    if (table.size === 0) return undefined
    if (name.startsWith('.')) return table.has(name.slice(1)) ? name.slice(1) : undefined
    const pkg = original ? this.pkg.original : this.pkg.update
    const prefix = [...(pkg ? pkg.split('.') : []), ...this.fullName]
    while (prefix.length) {
      const n = `${prefix.join('.')}.${name}`
      if (table.has(n)) return n
      prefix.pop()
    }
    return table.has(name) ? name : undefined
  }
  type(name: string, original: boolean): TypeInfo | undefined {
    const full = this.resolve(name, original)
    return full ? (original ? this.types.original : this.types.update).get(full) : undefined
  }
}

function collectTypes(files: FileEl[]): Map<string, TypeInfo> {
  const table = new Map<string, TypeInfo>()
  const visit = (file: FileEl, types: TypeEl[], prefix: string[]) => {
    for (const t of types) {
      const path = [...prefix, t.name]
      const name = file.packageName ? `${file.packageName}.${path.join('.')}` : path.join('.')
      table.set(name, {packageName: file.packageName, ref: file.ref, type: t})
      visit(file, t.nested, path)
    }
  }
  for (const f of files) visit(f, f.types, [])
  return table
}

function compareTypeElements(ctx: Ctx, original: TypeEl[], update: TypeEl[]): void {
  const index = (list: TypeEl[]) => {
    const messages = new Map<string, MessageEl>()
    const positions = new Map<string, number>()
    const enums = new Map<string, EnumEl>()
    let i = 0
    for (const t of list) {
      if (t.kind === 'message') {
        messages.set(t.name, t)
        positions.set(t.name, i++)
      } else enums.set(t.name, t)
    }
    return {messages, positions, enums}
  }
  const o = index(original)
  const u = index(update)
  for (const name of new Set([...o.messages.keys(), ...u.messages.keys()])) {
    ctx.at(
      name,
      () => {
        const a = o.messages.get(name)
        const b = u.messages.get(name)
        if (!b) ctx.add('MESSAGE_REMOVED')
        else if (!a) ctx.add('MESSAGE_ADDED')
        else {
          compareMessages(ctx, a, b)
          if (o.positions.get(name) !== u.positions.get(name)) ctx.add('MESSAGE_MOVED')
        }
      },
      true,
    )
  }
  for (const name of new Set([...o.enums.keys(), ...u.enums.keys()])) {
    ctx.at(
      name,
      () => {
        const a = o.enums.get(name)
        const b = u.enums.get(name)
        if (!b) ctx.add('ENUM_REMOVED')
        else if (!a) ctx.add('ENUM_ADDED')
        else compareEnums(ctx, a, b)
      },
      true,
    )
  }
}

function compareEnums(ctx: Ctx, a: EnumEl, b: EnumEl): void {
  const byTag = (e: EnumEl) => new Map(e.constants.map((c) => [c.tag, c.name]))
  const o = byTag(a)
  const u = byTag(b)
  for (const tag of new Set([...o.keys(), ...u.keys()])) {
    ctx.at(String(tag), () => {
      if (!u.has(tag)) ctx.add('ENUM_CONST_REMOVED', `${o.get(tag)} = ${tag}`)
      else if (!o.has(tag)) ctx.add('ENUM_CONST_ADDED', `${u.get(tag)} = ${tag}`)
      else if (o.get(tag) !== u.get(tag)) ctx.add('ENUM_CONST_CHANGED', `${o.get(tag)} → ${u.get(tag)}`)
    })
  }
}

function collectFields(m: MessageEl) {
  const byTag = new Map<number, FieldEl>()
  const tagToOneOf = new Map<number, string>()
  const oneofs = new Map<string, OneOfEl>()
  for (const f of m.fields) byTag.set(f.tag, f)
  for (const o of m.oneofs) {
    oneofs.set(o.name, o)
    for (const f of o.fields) {
      byTag.set(f.tag, f)
      tagToOneOf.set(f.tag, o.name)
    }
  }
  return {byTag, tagToOneOf, oneofs}
}

function compareMessages(ctx: Ctx, original: MessageEl, update: MessageEl): void {
  if (!ctx.inProgress.has(original)) {
    ctx.inProgress.add(original)
    try {
      compareMessageBody(ctx, original, update)
    } finally {
      ctx.inProgress.delete(original)
    }
  }
  compareTypeElements(ctx, original.nested, update.nested)
}

function compareMessageBody(ctx: Ctx, original: MessageEl, update: MessageEl): void {
  const o = collectFields(original)
  const u = collectFields(update)
  const deleted = new Set<string>()
  for (const [name, oneof] of o.oneofs) {
    if (!u.oneofs.has(name) && !oneof.fields.some((f) => u.byTag.has(f.tag))) deleted.add(name)
  }
  for (const oneof of update.oneofs) {
    ctx.at(oneof.name, () => {
      const groups = new Set<string>()
      let topLevelMovedIn = 0
      for (const f of oneof.fields) {
        if (o.tagToOneOf.has(f.tag)) groups.add(`oneof:${o.tagToOneOf.get(f.tag)}`)
        else if (o.byTag.has(f.tag)) {
          groups.add(`field:${f.tag}`)
          topLevelMovedIn++
        }
      }
      if (groups.size > 1)
        ctx.add(topLevelMovedIn > 1 ? 'MULTIPLE_FIELDS_MOVED_TO_ONEOF' : 'FIELD_MOVED_TO_EXISTING_ONEOF')
    })
  }
  for (const name of [...new Set([...o.oneofs.keys(), ...u.oneofs.keys()])].sort()) {
    ctx.at(name, () => {
      if (!u.oneofs.has(name)) ctx.add('ONEOF_REMOVED')
      else if (!o.oneofs.has(name)) ctx.add('ONEOF_ADDED')
    })
  }
  const reservedNumber = (tag: number) => original.reservedNumbers.some(([lo, hi]) => tag >= lo && tag <= hi)
  for (const tag of [...new Set([...o.byTag.keys(), ...u.byTag.keys()])].sort((x, y) => x - y)) {
    const a = o.byTag.get(tag)
    const b = u.byTag.get(tag)
    const ao = o.tagToOneOf.get(tag)
    const bo = u.tagToOneOf.get(tag)
    if (!b) {
      if (ao !== undefined) {
        if (!deleted.has(ao))
          ctx.at(ao, () => ctx.at(String(tag), () => ctx.add('ONEOF_FIELD_REMOVED', a!.name)))
      } else
        ctx.at(String(tag), () =>
          ctx.add(a!.label === 'required' ? 'REQUIRED_FIELD_REMOVED' : 'FIELD_REMOVED', a!.name),
        )
    } else if (!a) {
      const reused = reservedNumber(tag) || original.reservedNames.includes(b.name)
      const at = (fn: () => void) =>
        bo !== undefined ? ctx.at(bo, () => ctx.at(String(tag), fn)) : ctx.at(String(tag), fn)
      at(() => {
        if (bo !== undefined) ctx.add('ONEOF_FIELD_ADDED', b.name)
        else ctx.add(b.label === 'required' ? 'REQUIRED_FIELD_ADDED' : 'FIELD_ADDED', b.name)
        if (reused) ctx.add('RESERVED_FIELD_REUSED', `${b.name} = ${tag}`)
      })
    } else {
      if (ao !== undefined && bo === undefined)
        ctx.at(String(tag), () => ctx.add('ONEOF_FIELD_MOVED_TO_TOP_LEVEL', a.name))
      if (bo !== undefined) ctx.at(bo, () => ctx.at(String(tag), () => compareField(ctx, a, b)))
      else ctx.at(String(tag), () => compareField(ctx, a, b))
    }
  }
}

function compareField(ctx: Ctx, a: FieldEl, b: FieldEl): void {
  if (a.name !== b.name) ctx.add('FIELD_NAME_CHANGED', `${a.name} → ${b.name}`)
  compareLabelsAndTypes(ctx, a.label, b.label, a.type, b.type, b.name)
}

function isMap(t: string): boolean {
  return /^map\s*</.test(t)
}
function mapParts(t: string): [string, string] {
  const m = /^map\s*<\s*([^,\s]+)\s*,\s*([^>\s]+)\s*>$/.exec(t)
  return m ? [m[1]!, m[2]!] : ['', '']
}

type Kind = 'SCALAR' | 'MAP' | 'MESSAGE'
function kind(ctx: Ctx, t: string, original: boolean): Kind {
  if (SCALARS.has(t)) return 'SCALAR'
  if (isMap(t)) return 'MAP'
  return ctx.type(t, original)?.type.kind === 'enum' ? 'SCALAR' : 'MESSAGE'
}

function scalarKind(ctx: Ctx, t: string, original: boolean): string {
  if (ctx.type(t, original)?.type.kind === 'enum') return 'GENERAL_NUMBER'
  switch (t) {
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
    case 'bool':
      return 'GENERAL_NUMBER'
    case 'sint32':
    case 'sint64':
      return 'SIGNED_NUMBER'
    case 'string':
    case 'bytes':
      return 'STRING_OR_BYTES'
    case 'fixed32':
    case 'sfixed32':
      return 'FIXED32'
    case 'fixed64':
    case 'sfixed64':
      return 'FIXED64'
    case 'float':
      return 'FLOAT'
    case 'double':
      return 'DOUBLE'
    default:
      return `UNKNOWN:${t}`
  }
}

function compareLabelsAndTypes(
  ctx: Ctx,
  la: Label,
  lb: Label,
  ta: string,
  tb: string,
  fieldName?: string,
): void {
  const ka = kind(ctx, ta, true)
  const kb = kind(ctx, tb, false)
  const named = fieldName ? `${fieldName}: ` : ''
  if (ka !== kb) {
    ctx.add('FIELD_KIND_CHANGED', `${named}from ${ta} to ${tb}`)
    return
  }
  if (ka === 'SCALAR') {
    const sa = scalarKind(ctx, ta, true)
    const sb = scalarKind(ctx, tb, false)
    if (sa !== sb) ctx.add('FIELD_SCALAR_KIND_CHANGED', `${named}from ${ta} to ${tb}`)
    else if (la !== null && lb !== null && la !== lb) {
      if (sa === 'STRING_OR_BYTES')
        ctx.add('FIELD_STRING_OR_BYTES_LABEL_CHANGED', `${named}from ${la} to ${lb}`)
      else ctx.add('FIELD_NUMERIC_LABEL_CHANGED', `${named}from ${la} to ${lb}`)
    }
  } else if (ka === 'MESSAGE') compareMessageTypes(ctx, ta, tb)
  else {
    const [akey, aval] = mapParts(ta)
    const [bkey, bval] = mapParts(tb)
    compareLabelsAndTypes(ctx, null, null, akey, bkey)
    compareLabelsAndTypes(ctx, null, null, aval, bval)
  }
}

function compareMessageTypes(ctx: Ctx, ta: string, tb: string): void {
  const fa = ctx.resolve(ta, true)
  const fb = ctx.resolve(tb, false)
  if (!fa || !fb) {
    if (ta !== tb) ctx.add('FIELD_NAMED_TYPE_CHANGED', `from ${ta} to ${tb}`)
    return
  }
  const ia = ctx.types.original.get(fa)!
  const ib = ctx.types.update.get(fb)!
  const local = (full: string, pkg: string) =>
    pkg && full.startsWith(`${pkg}.`) ? full.slice(pkg.length + 1) : full
  const la = local(fa, ia.packageName)
  const lb = local(fb, ib.packageName)
  if (la !== lb) {
    ctx.add('FIELD_NAMED_TYPE_CHANGED', `from ${ta} to ${tb}`)
    return
  }
  // Types of the schema itself are compared where they are declared; imported ones here, when
  // the imported file differs.
  if (ia.ref === ib.ref || ia.type.kind !== 'message' || ib.type.kind !== 'message') return
  const sub = ctx.sub()
  sub.pkg = {original: ia.packageName, update: ib.packageName}
  sub.fullName = [la]
  sub.path = [...la.split('.')]
  compareMessages(sub, ia.type, ib.type)
  ctx.diffs.push(...sub.diffs)
  if (!sub.compatible()) ctx.add('FIELD_NAMED_TYPE_CHANGED', `the imported ${la} changed incompatibly`)
}

export interface ProtoDiff {
  type: string
  path: string
  detail?: string
}

/** Confluent's `SchemaDiff.compare(original, update)` for two loaded files. */
function compareFiles(
  original: {main: FileEl; deps: FileEl[]},
  update: {main: FileEl; deps: FileEl[]},
): ProtoDiff[] {
  const ctx = new Ctx(
    {
      original: collectTypes([...original.deps, original.main]),
      update: collectTypes([...update.deps, update.main]),
    },
    {original: original.main.packageName, update: update.main.packageName},
  )
  if (original.main.packageName !== update.main.packageName)
    ctx.add('PACKAGE_CHANGED', `from "${original.main.packageName}" to "${update.main.packageName}"`)
  compareTypeElements(ctx, original.main.types, update.main.types)
  return ctx.diffs
}

/** Compares two .proto sources (OLD, NEW), imports resolved per side. */
export async function compareProtobuf(
  original: SchemaSource,
  update: SchemaSource,
  opts: EngineOptions,
): Promise<ProtoDiff[]> {
  const a = await loadWithImports(original, opts)
  const b = await loadWithImports(update, opts)
  return compareFiles(a, b)
}

const SENTENCES: Record<string, string> = {
  PACKAGE_CHANGED: 'the package changed',
  MESSAGE_REMOVED: 'the message was removed',
  MESSAGE_ADDED: 'a message was added',
  MESSAGE_MOVED: 'the message moved among the top-level messages (its index changed)',
  ENUM_ADDED: 'an enum was added',
  ENUM_REMOVED: 'an enum was removed',
  FIELD_ADDED: 'a field was added',
  FIELD_REMOVED: 'a field was removed',
  REQUIRED_FIELD_ADDED: 'a required field was added',
  REQUIRED_FIELD_REMOVED: 'a required field was removed',
  FIELD_KIND_CHANGED: 'the field changed kind (scalar, message or map)',
  FIELD_SCALAR_KIND_CHANGED: 'the field changed to a type with another wire encoding',
  FIELD_NAMED_TYPE_CHANGED: 'the field now has another message type',
  FIELD_NUMERIC_LABEL_CHANGED: 'the label of a numeric field changed',
  FIELD_STRING_OR_BYTES_LABEL_CHANGED: 'the label of a string or bytes field changed',
  FIELD_NAME_CHANGED: 'the field was renamed (the wire format keeps numbers, not names)',
  ONEOF_FIELD_REMOVED: 'a field was removed from a oneof',
  MULTIPLE_FIELDS_MOVED_TO_ONEOF: 'several existing fields were moved into one oneof',
  FIELD_MOVED_TO_EXISTING_ONEOF: 'a field was moved into a oneof that already had other fields',
  RESERVED_FIELD_REUSED: 'a field reuses a number or name the old schema reserved',
}

export const protobufEngine: Engine = {
  async check(source, opts) {
    await loadWithImports(source, opts)
  },
  async compare(writer, reader, opts, direction: Direction): Promise<RawChange[]> {
    const diffs = await compareProtobuf(writer, reader, opts)
    return diffs.map((d) => {
      const breaking = !COMPATIBLE.has(d.type)
      const base = SENTENCES[d.type] ?? d.type.toLowerCase().replaceAll('_', ' ')
      const what = direction === 'forward' ? oldToNew(base) : base
      const where = d.path === '#/' ? 'the file' : `\`${d.path.slice(2).replaceAll('/', '.')}\``
      const detail = d.detail ? ` (${direction === 'forward' ? reverseDetail(d.detail) : d.detail})` : ''
      return {
        type: d.type,
        path: d.path,
        breaking,
        message: `${where}: ${what}${detail}${consequence(breaking, direction)}`,
        pointer: d.path,
      }
    })
  },
}

/** Details read old → new; a forward comparison ran new → old. */
function reverseDetail(detail: string): string {
  const m = /^(.*?)from (.+) to (.+)$/.exec(detail)
  if (m) return `${m[1]}from ${m[3]} to ${m[2]}`
  const arrow = /^(.+) → (.+)$/.exec(detail)
  return arrow ? `${arrow[2]} → ${arrow[1]}` : detail
}
