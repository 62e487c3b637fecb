/**
 * Avro compatibility by the specification's schema-resolution rules (a reader schema reading data
 * written with a writer schema), enumerating every incompatibility rather than stopping at the
 * first. avsc parses and validates both schemas (names, defaults, unions) and its resolver
 * (`reader.createResolver(writer)`) cross-checks the verdict: if avsc refuses a pair we found no
 * fault in, its reason is reported as a breaking change too.
 *
 * Breaking type names are those of Avro's own `SchemaCompatibility` (Java): NAME_MISMATCH,
 * FIXED_SIZE_MISMATCH, MISSING_ENUM_SYMBOLS, READER_FIELD_MISSING_DEFAULT_VALUE, TYPE_MISMATCH,
 * MISSING_UNION_BRANCH. Paths are JSON pointers into the newer schema (`#/fields/2/type`).
 */
import type {Type} from 'avsc'
import {
  consequence,
  type Direction,
  type Engine,
  type RawChange,
  SchemaInputError,
  type SchemaSource,
} from './types.js'

type AvscModule = typeof import('avsc')

let avscModule: AvscModule | undefined
async function avsc(): Promise<AvscModule> {
  avscModule ??=
    ((await import('avsc')) as unknown as {default?: AvscModule}).default ?? (await import('avsc'))
  return avscModule
}

function parseAvro(a: AvscModule, source: SchemaSource): {type: Type; json: unknown} {
  let json: unknown
  try {
    json = JSON.parse(source.text)
  } catch (err) {
    // Avro allows a bare primitive name as a schema file: "string".
    const bare = source.text.trim()
    if (/^[A-Za-z_][\w.]*$/.test(bare)) json = bare
    else {
      const m = /position (\d+)/.exec((err as Error).message)
      const pos = m ? Number(m[1]) : source.text.length
      const before = source.text.slice(0, pos)
      throw new SchemaInputError(
        `not valid JSON: ${(err as Error).message.replace(/ in JSON at position \d+.*$/, '')}`,
        source.name,
        before.split('\n').length,
        pos - before.lastIndexOf('\n'),
        'SCHEMA_PARSE',
      )
    }
  }
  try {
    // No logical types registered: resolution follows the underlying types, as the spec says.
    return {type: a.Type.forSchema(json as never, {noAnonymousTypes: false, wrapUnions: true}), json}
  } catch (err) {
    throw new SchemaInputError(
      `not a valid Avro schema: ${(err as Error).message}`,
      source.name,
      undefined,
      undefined,
      'SCHEMA_INVALID',
    )
  }
}

const PROMOTIONS: Record<string, string[]> = {
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  string: ['bytes'],
  bytes: ['string'],
}

interface Walk {
  direction: Direction
  out: RawChange[]
  seen: Set<string>
  ids: Map<Type, number>
  tick: () => void
}

const kind = (t: Type): string => (t.typeName.startsWith('union') ? 'union' : t.typeName)

function describeType(t: Type): string {
  const k = kind(t)
  if (t.name && (k === 'record' || k === 'enum' || k === 'fixed' || k === 'error')) return `${k} ${t.name}`
  if (k === 'array') return `array<${describeType((t as unknown as {itemsType: Type}).itemsType)}>`
  if (k === 'map') return `map<${describeType((t as unknown as {valuesType: Type}).valuesType)}>`
  if (k === 'union') return `union [${(t as unknown as {types: Type[]}).types.map(describeType).join(', ')}]`
  return k
}

/** Full names a reader named type answers to: its own and its aliases. */
function namesOf(t: Type): Set<string> {
  return new Set([t.name, ...(t.aliases ?? [])].filter((x): x is string => Boolean(x)))
}

function sameName(w: Type, r: Type): boolean {
  if (!w.name || !r.name) return true
  // The spec compares unqualified names; the reader's aliases count too.
  const short = (n: string) => n.split('.').pop()!
  return [...namesOf(r)].some((n) => n === w.name || short(n) === short(w.name!))
}

/** Whether writer type w can be read as reader type r at all (for picking union branches). */
function matches(w: Type, r: Type): boolean {
  const kw = kind(w)
  const kr = kind(r)
  if (kw === kr) {
    if (kw === 'record' || kw === 'error' || kw === 'enum' || kw === 'fixed') return sameName(w, r)
    return true
  }
  return PROMOTIONS[kw]?.includes(kr) ?? false
}

function add(
  ctx: Walk,
  type: string,
  breaking: boolean,
  ptr: {w: string; r: string},
  subject: string,
  what: string,
): void {
  const path = ctx.direction === 'backward' ? ptr.r : ptr.w
  // Sentences are written reader-side (backward: the reader is NEW). Forward, NEW is the writer:
  // say what happened from OLD to NEW all the same.
  if (ctx.direction === 'forward') what = fromOldToNew(what)
  ctx.out.push({
    type,
    path,
    breaking,
    message: `${subject}: ${what}${consequence(breaking, ctx.direction)}`,
    pointer: path,
  })
}

function fromOldToNew(what: string): string {
  return what
    .replace(/changed from (.+?) to (.+?)(:|$)/, 'changed from $2 to $1$3')
    .replace(/renamed to (\S+)/, 'renamed (from $1)')
    .replace(/\b(was|were) (added|removed)\b/g, (_, v, w) => `${v} ${w === 'added' ? 'removed' : 'added'}`)
    .replace(/^promoted from (\w+) to (\w+)/, 'narrowed from $2 to $1 (old readers promote it)')
}

function idOf(ctx: Walk, t: Type): number {
  let id = ctx.ids.get(t)
  if (id === undefined) {
    id = ctx.ids.size
    ctx.ids.set(t, id)
  }
  return id
}

/** Checks writer w against reader r; `label` names the place for people (`Order.total`). */
function resolve(ctx: Walk, w: Type, r: Type, ptr: {w: string; r: string}, label: string): void {
  ctx.tick()
  const key = `${idOf(ctx, w)}:${idOf(ctx, r)}`
  if (ctx.seen.has(key)) return // a recursive type already being checked
  ctx.seen.add(key)
  const kw = kind(w)
  const kr = kind(r)
  const subject = label ? `\`${label}\`` : 'the schema'

  if (kw === 'union' || kr === 'union') {
    const wBranches = kw === 'union' ? (w as unknown as {types: Type[]}).types : [w]
    const rBranches = kr === 'union' ? (r as unknown as {types: Type[]}).types : [r]
    wBranches.forEach((wb, i) => {
      const wp = kw === 'union' ? `${ptr.w}/${i}` : ptr.w
      // The spec: the first reader branch that matches (same type or name), else the first promotable one.
      const exact = rBranches.findIndex((rb) => kind(rb) === kind(wb) && matches(wb, rb))
      const j = exact >= 0 ? exact : rBranches.findIndex((rb) => matches(wb, rb))
      if (j < 0) {
        add(
          ctx,
          kr === 'union' ? 'MISSING_UNION_BRANCH' : 'TYPE_MISMATCH',
          true,
          {w: wp, r: ptr.r},
          subject,
          kr === 'union'
            ? `the union has no branch for ${describeType(wb)}`
            : `changed from ${describeType(w)} to ${describeType(r)}`,
        )
        return
      }
      const rp = kr === 'union' ? `${ptr.r}/${j}` : ptr.r
      resolve(ctx, wb, rBranches[j]!, {w: wp, r: rp}, label)
    })
    if (kr === 'union' && kw === 'union' && rBranches.length > wBranches.length)
      add(ctx, 'UNION_BRANCH_ADDED', false, ptr, subject, 'branches were added to the union')
    else if (kr === 'union' && kw !== 'union')
      add(ctx, 'TYPE_WIDENED_TO_UNION', false, ptr, subject, `${describeType(w)} became ${describeType(r)}`)
    return
  }

  if (kw !== kr) {
    if (PROMOTIONS[kw]?.includes(kr)) {
      add(ctx, 'TYPE_PROMOTED', false, ptr, subject, `promoted from ${kw} to ${kr}`)
      return
    }
    add(ctx, 'TYPE_MISMATCH', true, ptr, subject, `changed from ${describeType(w)} to ${describeType(r)}`)
    return
  }

  switch (kw) {
    case 'record':
    case 'error': {
      if (!sameName(w, r)) {
        add(
          ctx,
          'NAME_MISMATCH',
          true,
          ptr,
          subject,
          `record ${w.name} was renamed to ${r.name} without an alias`,
        )
        return
      }
      const wf = (
        w as unknown as {
          fields: Array<{name: string; type: Type; aliases?: string[]; defaultValue(): unknown}>
        }
      ).fields
      const rf = (
        r as unknown as {
          fields: Array<{name: string; type: Type; aliases?: string[]; defaultValue(): unknown}>
        }
      ).fields
      const name = r.name ?? w.name ?? ''
      const short = name.split('.').pop()
      const used = new Set<number>()
      rf.forEach((f, j) => {
        const names = new Set([f.name, ...(f.aliases ?? [])])
        const i = wf.findIndex((x) => names.has(x.name))
        const fieldLabel = label ? `${label}.${f.name}` : `${short}.${f.name}`
        const rp = `${ptr.r}/fields/${j}`
        if (i < 0) {
          if (f.defaultValue() === undefined) {
            add(
              ctx,
              'READER_FIELD_MISSING_DEFAULT_VALUE',
              true,
              {w: ptr.w, r: rp},
              `field \`${fieldLabel}\``,
              'was added without a default',
            )
          } else {
            add(
              ctx,
              'FIELD_ADDED_WITH_DEFAULT',
              false,
              {w: ptr.w, r: rp},
              `field \`${fieldLabel}\``,
              'was added with a default',
            )
          }
          return
        }
        used.add(i)
        const wp = `${ptr.w}/fields/${i}`
        if (wf[i]!.name !== f.name)
          add(
            ctx,
            'FIELD_RENAMED_WITH_ALIAS',
            false,
            {w: wp, r: rp},
            `field \`${fieldLabel}\``,
            `was renamed from ${wf[i]!.name} (kept as an alias)`,
          )
        resolve(ctx, wf[i]!.type, f.type, {w: `${wp}/type`, r: `${rp}/type`}, fieldLabel)
      })
      wf.forEach((f, i) => {
        if (used.has(i)) return
        const fieldLabel = label ? `${label}.${f.name}` : `${short}.${f.name}`
        add(
          ctx,
          'FIELD_REMOVED',
          false,
          {w: `${ptr.w}/fields/${i}`, r: ptr.r},
          `field \`${fieldLabel}\``,
          'was removed (readers skip it)',
        )
      })
      return
    }
    case 'enum': {
      if (!sameName(w, r)) {
        add(
          ctx,
          'NAME_MISMATCH',
          true,
          ptr,
          subject,
          `enum ${w.name} was renamed to ${r.name} without an alias`,
        )
        return
      }
      const ws = (w as unknown as {symbols: string[]}).symbols
      const rs = new Set((r as unknown as {symbols: string[]}).symbols)
      const missing = ws.filter((s) => !rs.has(s))
      const readerDefault = (r as unknown as {default?: string}).default
      if (missing.length > 0) {
        if (readerDefault === undefined)
          add(
            ctx,
            'MISSING_ENUM_SYMBOLS',
            true,
            ptr,
            subject,
            `enum symbols ${missing.join(', ')} were removed and the enum has no default`,
          )
        else
          add(
            ctx,
            'ENUM_SYMBOLS_REMOVED_WITH_DEFAULT',
            false,
            ptr,
            subject,
            `enum symbols ${missing.join(', ')} were removed; readers use the default ${readerDefault}`,
          )
      }
      const wset = new Set(ws)
      const added = [...rs].filter((s) => !wset.has(s))
      if (added.length)
        add(ctx, 'ENUM_SYMBOLS_ADDED', false, ptr, subject, `enum symbols ${added.join(', ')} were added`)
      return
    }
    case 'fixed': {
      if (!sameName(w, r)) {
        add(
          ctx,
          'NAME_MISMATCH',
          true,
          ptr,
          subject,
          `fixed ${w.name} was renamed to ${r.name} without an alias`,
        )
        return
      }
      const a = (w as unknown as {size: number}).size
      const b = (r as unknown as {size: number}).size
      if (a !== b) add(ctx, 'FIXED_SIZE_MISMATCH', true, ptr, subject, `fixed size changed from ${a} to ${b}`)
      return
    }
    case 'array':
      resolve(
        ctx,
        (w as unknown as {itemsType: Type}).itemsType,
        (r as unknown as {itemsType: Type}).itemsType,
        {w: `${ptr.w}/items`, r: `${ptr.r}/items`},
        label ? `${label}[]` : '[]',
      )
      return
    case 'map':
      resolve(
        ctx,
        (w as unknown as {valuesType: Type}).valuesType,
        (r as unknown as {valuesType: Type}).valuesType,
        {w: `${ptr.w}/values`, r: `${ptr.r}/values`},
        label ? `${label}{}` : '{}',
      )
      return
    default:
      return
  }
}

/** Logical types (not used in resolution) whose change alters meaning: decimal scale and precision. */
function logicalChanges(ctx: Walk, w: unknown, r: unknown, path: string): void {
  if (typeof w !== 'object' || w === null || typeof r !== 'object' || r === null) return
  const a = w as Record<string, unknown>
  const b = r as Record<string, unknown>
  if (a.logicalType !== b.logicalType && (a.logicalType || b.logicalType) && a.type === b.type) {
    const breaking = a.logicalType === 'decimal' || b.logicalType === 'decimal'
    add(
      ctx,
      'LOGICAL_TYPE_CHANGED',
      breaking,
      {w: path, r: path},
      `\`${path}\``,
      `logical type changed from ${a.logicalType ?? 'none'} to ${b.logicalType ?? 'none'}`,
    )
  } else if (
    a.logicalType === 'decimal' &&
    b.logicalType === 'decimal' &&
    (a.scale ?? 0) !== (b.scale ?? 0)
  ) {
    add(
      ctx,
      'DECIMAL_SCALE_CHANGED',
      true,
      {w: path, r: path},
      `\`${path}\``,
      `decimal scale changed from ${a.scale ?? 0} to ${b.scale ?? 0}: the same bytes mean another number`,
    )
  }
}

function walkLogical(ctx: Walk, w: unknown, r: unknown, path = '#', depth = 0): void {
  if (depth > 64) return
  logicalChanges(ctx, w, r, path)
  if (typeof w !== 'object' || w === null || typeof r !== 'object' || r === null) return
  const a = w as Record<string, unknown>
  const b = r as Record<string, unknown>
  if (Array.isArray(a.fields) && Array.isArray(b.fields)) {
    b.fields.forEach((f: {name?: string; type?: unknown}, j: number) => {
      const wf = (a.fields as Array<{name?: string; type?: unknown}>).find((x) => x.name === f.name)
      if (wf) walkLogical(ctx, wf.type, f.type, `${path}/fields/${j}/type`, depth + 1)
    })
  }
  for (const k of ['items', 'values', 'type'])
    if (k in a && k in b && typeof a[k] === 'object') walkLogical(ctx, a[k], b[k], `${path}/${k}`, depth + 1)
}

export async function compareAvro(
  writer: SchemaSource,
  reader: SchemaSource,
  direction: Direction,
  deadline = Infinity,
): Promise<RawChange[]> {
  const a = await avsc()
  const w = parseAvro(a, writer)
  const r = parseAvro(a, reader)
  let n = 0
  const ctx: Walk = {
    direction,
    out: [],
    seen: new Set(),
    ids: new Map(),
    tick: () => {
      if ((++n & 1023) === 0 && Date.now() > deadline)
        throw new SchemaInputError(
          `comparing ${writer.name} and ${reader.name} took longer than the time budget`,
          undefined,
          undefined,
          undefined,
          'SCHEMA_TOO_COMPLEX',
        )
    },
  }
  resolve(ctx, w.type, r.type, {w: '#', r: '#'}, '')
  walkLogical(ctx, w.json, r.json)
  // Cross-check with avsc's own resolver: a refusal we did not explain is still breaking.
  if (!ctx.out.some((c) => c.breaking)) {
    try {
      r.type.createResolver(w.type)
    } catch (err) {
      add(
        ctx,
        'INCOMPATIBLE',
        true,
        {w: '#', r: '#'},
        'the schema',
        `avsc cannot resolve it: ${(err as Error).message}`,
      )
    }
  }
  return ctx.out
}

export const avroEngine: Engine = {
  async check(source) {
    parseAvro(await avsc(), source)
  },
  compare(writer, reader, opts, direction) {
    return compareAvro(writer, reader, direction, opts.deadline)
  },
}
