/**
 * JSON Schema compatibility, with Confluent Schema Registry's difference types and paths, so a
 * result can be compared with Confluent's line by line. `compareJsonSchemas(old, new)` is
 * Confluent's `SchemaDiff.compare(original, update)`: the BACKWARD check (readers on NEW read
 * data written with OLD). FORWARD is the same comparison with the two swapped.
 *
 * Recursive schemas: each (old, new) pair of nodes is compared once and memoised; a pair met
 * again while it is being compared is a cycle, assumed compatible, and the comparison is redone
 * with the pairs found incompatible until nothing changes (Confluent's fixpoint).
 *
 * Where we knowingly differ from Confluent (no corpus case covers either; both keep "a schema
 * compared with itself has no changes"): an unchanged `not` reports nothing (Confluent:
 * NOT_TYPE_NARROWED), and allOf/anyOf/oneOf members are matched identical-first (Confluent's
 * maximum matching may pair an unchanged member with another and report SUM_TYPE_EXTENDED).
 */
import {dirname, resolve} from 'node:path'
import {
  type ArrayNode,
  type CombinedNode,
  canonical,
  JsonSchemaDocument,
  type Node,
  type NumberNode,
  type ObjectNode,
  type StringNode,
} from './json-schema-model.js'
import {
  consequence,
  type Engine,
  type EngineOptions,
  lineColumn,
  SchemaInputError,
  type SchemaSource,
} from './types.js'

export const COMPATIBLE_STRICT: ReadonlySet<string> = new Set([
  'ID_CHANGED',
  'DESCRIPTION_CHANGED',
  'TITLE_CHANGED',
  'DEFAULT_CHANGED',
  'SCHEMA_REMOVED',
  'TYPE_EXTENDED',
  'MAX_LENGTH_INCREASED',
  'MAX_LENGTH_REMOVED',
  'MIN_LENGTH_DECREASED',
  'MIN_LENGTH_REMOVED',
  'PATTERN_REMOVED',
  'MAXIMUM_INCREASED',
  'MAXIMUM_REMOVED',
  'MINIMUM_DECREASED',
  'MINIMUM_REMOVED',
  'EXCLUSIVE_MAXIMUM_INCREASED',
  'EXCLUSIVE_MAXIMUM_REMOVED',
  'EXCLUSIVE_MINIMUM_DECREASED',
  'EXCLUSIVE_MINIMUM_REMOVED',
  'MULTIPLE_OF_REDUCED',
  'MULTIPLE_OF_REMOVED',
  'REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED',
  'REQUIRED_ATTRIBUTE_REMOVED',
  'DEPENDENCY_ARRAY_NARROWED',
  'DEPENDENCY_ARRAY_REMOVED',
  'DEPENDENCY_SCHEMA_REMOVED',
  'MAX_PROPERTIES_INCREASED',
  'MAX_PROPERTIES_REMOVED',
  'MIN_PROPERTIES_DECREASED',
  'MIN_PROPERTIES_REMOVED',
  'ADDITIONAL_PROPERTIES_ADDED',
  'ADDITIONAL_PROPERTIES_EXTENDED',
  'UNEVALUATED_PROPERTIES_ADDED',
  'UNEVALUATED_PROPERTIES_EXTENDED',
  'PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL',
  'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL',
  'OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
  'PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL',
  'PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL',
  'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'MAX_ITEMS_INCREASED',
  'MAX_ITEMS_REMOVED',
  'MIN_ITEMS_DECREASED',
  'MIN_ITEMS_REMOVED',
  'MAX_CONTAINS_INCREASED',
  'MAX_CONTAINS_REMOVED',
  'MIN_CONTAINS_DECREASED',
  'MIN_CONTAINS_REMOVED',
  'UNIQUE_ITEMS_REMOVED',
  'ADDITIONAL_ITEMS_ADDED',
  'ADDITIONAL_ITEMS_EXTENDED',
  'UNEVALUATED_ITEMS_ADDED',
  'UNEVALUATED_ITEMS_EXTENDED',
  'ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL',
  'ITEM_ADDED_TO_CLOSED_CONTENT_MODEL',
  'ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL',
  'ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL',
  'ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'ENUM_ARRAY_EXTENDED',
  'COMBINED_TYPE_EXTENDED',
  'PRODUCT_TYPE_NARROWED',
  'SUM_TYPE_EXTENDED',
  'NOT_TYPE_NARROWED',
])

export const COMPATIBLE_LENIENT: ReadonlySet<string> = new Set([
  ...COMPATIBLE_STRICT,
  'ADDITIONAL_PROPERTIES_NARROWED',
  'ADDITIONAL_PROPERTIES_REMOVED',
  'UNEVALUATED_PROPERTIES_NARROWED',
  'UNEVALUATED_PROPERTIES_REMOVED',
  'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL',
  'OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
  'PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL',
  'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL',
  'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
  'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
])

export interface Difference {
  type: string
  path: string
  /** What changed, in words (`from number to string`), where known. */
  detail?: string
  /** Pointer of the node in NEW (or OLD when NEW has none), for finding a line. */
  pointer?: string
}

type Pair = string

class Ctx {
  readonly diffs: Difference[] = []
  constructor(
    readonly shared: Shared,
    readonly path: string[] = [],
  ) {}

  sub(): Ctx {
    return new Ctx(this.shared, [...this.path])
  }
  add(type: string, attribute?: string, pointer?: string, detail?: string): void {
    const parts = attribute ? [...this.path, attribute] : this.path
    this.diffs.push({
      type,
      path: `#/${parts.join('/')}`,
      ...(pointer ? {pointer} : {}),
      ...(detail ? {detail} : {}),
    })
  }
  addAll(diffs: readonly Difference[]): void {
    this.diffs.push(...diffs)
  }
  /** Adds pair-relative differences under the current path. */
  addRebased(diffs: readonly Difference[]): void {
    if (this.path.length === 0) {
      this.diffs.push(...diffs)
      return
    }
    const prefix = `#/${this.path.join('/')}`
    for (const d of diffs)
      this.diffs.push({...d, path: d.path.length <= 2 ? prefix : `${prefix}/${d.path.slice(2)}`})
  }
  enter<T>(segment: string, fn: () => T): T {
    this.path.push(segment)
    try {
      return fn()
    } finally {
      this.path.pop()
    }
  }
  compatible(): boolean {
    return this.diffs.every((d) => this.shared.compatibleSet.has(d.type))
  }
}

interface Shared {
  compatibleSet: ReadonlySet<string>
  memo: Map<Pair, Difference[]>
  inProgress: Set<Pair>
  seed: Map<Pair, Difference[]>
  optimism: boolean
  ids: WeakMap<Node, number>
  nextId: number
  tick: () => void
  /** Differences held in the memo: memory is bounded through this. */
  stored: number
}

/** About 200 MB of remembered differences at most. */
const MAX_STORED = 2_000_000

function pairKey(s: Shared, a: Node, b: Node): Pair {
  const id = (n: Node) => {
    let v = s.ids.get(n)
    if (v === undefined) {
      v = s.nextId++
      s.ids.set(n, v)
    }
    return v
  }
  return `${id(a)}:${id(b)}`
}

/** Confluent's `SchemaDiff.compare(original, update)` over loaded documents. */
export function compareNodes(
  original: Node,
  update: Node,
  compatibleSet: ReadonlySet<string> = COMPATIBLE_STRICT,
  tick: () => void = () => {},
): Difference[] {
  let seed = new Map<Pair, Difference[]>()
  const ids = new WeakMap<Node, number>()
  for (let pass = 0; ; pass++) {
    const shared: Shared = {
      compatibleSet,
      memo: new Map(),
      inProgress: new Set(),
      seed,
      optimism: false,
      ids,
      nextId: 0,
      tick,
      stored: 0,
    }
    const ctx = new Ctx(shared)
    compare(ctx, original, update)
    const incompatible = new Map<Pair, Difference[]>()
    for (const [k, v] of shared.memo) if (v.some((d) => !compatibleSet.has(d.type))) incompatible.set(k, v)
    const same = incompatible.size === seed.size && [...incompatible.keys()].every((k) => seed.has(k))
    if (!shared.optimism || same || pass > 50) return ctx.diffs
    seed = incompatible
  }
}

function normalize(n: Node): Node {
  let cur = n
  for (let i = 0; cur.kind === 'ref'; i++) {
    if (i > 64)
      throw new SchemaInputError(
        `$ref "${cur.ref}" only refers to other refs (a cycle, or a chain of more than 64)`,
        cur.source,
        undefined,
        undefined,
        'REF_CYCLE',
      )
    cur = cur.target()
  }
  return cur
}

function compare(ctx: Ctx, original: Node | undefined, update: Node | undefined): void {
  ctx.shared.tick()
  if (!original && !update) return
  if (!original) {
    ctx.add('SCHEMA_ADDED')
    return
  }
  if (!update) {
    ctx.add('SCHEMA_REMOVED')
    return
  }
  const o = normalize(original)
  const u = normalize(update)
  const s = ctx.shared
  const key = pairKey(s, o, u)
  let diffs = s.memo.get(key)
  if (!diffs) {
    if (s.inProgress.has(key)) {
      diffs = s.seed.get(key)
      if (!diffs) {
        s.optimism = true
        diffs = []
      }
    } else {
      s.inProgress.add(key)
      try {
        const sub = new Ctx(s)
        compareTypes(sub, o, u)
        diffs = sub.diffs
        s.memo.set(key, diffs)
        s.stored += diffs.length + 1
        if (s.stored > MAX_STORED) {
          throw new SchemaInputError(
            `comparing needs more than ${MAX_STORED} remembered differences (combinations of anyOf/oneOf too large)`,
            undefined,
            undefined,
            undefined,
            'SCHEMA_TOO_COMPLEX',
          )
        }
      } finally {
        s.inProgress.delete(key)
      }
    }
  }
  ctx.addRebased(diffs)
}

function sameClass(a: Node, b: Node): boolean {
  if (a.kind === 'combined' && b.kind === 'combined') return true
  if (a.kind !== b.kind) return false
  if (a.kind === 'empty' && b.kind === 'empty') return a.isTrue === b.isTrue
  return true
}

function compareTypes(ctx: Ctx, o: Node, u: Node): void {
  if (o.kind !== 'combined' && u.kind === 'combined') {
    if (u.subschemas.length === 1) {
      const sub = ctx.sub()
      compare(sub, o, u.subschemas[0])
      if (sub.compatible()) {
        ctx.addAll(sub.diffs)
        return
      }
    } else if (u.criterion === 'anyOf' || u.criterion === 'oneOf') {
      for (const s of u.subschemas) {
        const sub = ctx.sub()
        compare(sub, o, s)
        if (sub.compatible()) {
          ctx.addAll(sub.diffs)
          ctx.add('SUM_TYPE_EXTENDED')
          return
        }
      }
    }
  } else if (o.kind === 'combined' && u.kind !== 'combined') {
    if (o.subschemas.length === 1) {
      const sub = ctx.sub()
      compare(sub, o.subschemas[0], u)
      if (sub.compatible()) {
        ctx.addAll(sub.diffs)
        return
      }
    } else if (o.criterion === 'allOf') {
      for (const s of o.subschemas) {
        const sub = ctx.sub()
        compare(sub, s, u)
        if (sub.compatible()) {
          ctx.addAll(sub.diffs)
          ctx.add('PRODUCT_TYPE_NARROWED')
          return
        }
      }
    }
  }
  if (!sameClass(o, u)) {
    if (o.kind === 'false' || u.kind === 'empty') return
    if (o.connectType === 'bytes' && u.connectType === 'bytes') return
    ctx.add('TYPE_CHANGED', undefined, undefined, `from ${kindName(o)} to ${kindName(u)}`)
    return
  }
  if (o.id !== u.id) ctx.add('ID_CHANGED')
  if (o.title !== u.title) ctx.add('TITLE_CHANGED')
  if (o.description !== u.description) ctx.add('DESCRIPTION_CHANGED')
  if (canonical(o.default) !== canonical(u.default)) ctx.add('DEFAULT_CHANGED')
  switch (o.kind) {
    case 'string':
      compareString(ctx, o, u as StringNode)
      return
    case 'number':
      compareNumber(ctx, o, u as NumberNode)
      return
    case 'const':
      if (o.value !== (u as typeof o).value) ctx.add('ENUM_ARRAY_CHANGED', 'const')
      return
    case 'enum': {
      const a = o.values
      const b = (u as typeof o).values
      if (a.size === b.size && [...a].every((v) => b.has(v))) return
      if ([...a].every((v) => b.has(v))) ctx.add('ENUM_ARRAY_EXTENDED', 'enum')
      else if ([...b].every((v) => a.has(v))) ctx.add('ENUM_ARRAY_NARROWED', 'enum')
      else ctx.add('ENUM_ARRAY_CHANGED', 'enum')
      return
    }
    case 'combined':
      compareCombined(ctx, o, u as CombinedNode)
      return
    case 'not':
      ctx.enter('not', () => {
        const sub = ctx.sub()
        compare(sub, (u as typeof o).schema, o.schema)
        // Confluent reports NOT_TYPE_NARROWED even for an unchanged `not`; we report nothing, so
        // that a schema compared with itself has no changes (no corpus case has an unchanged `not`).
        if (sub.diffs.length === 0) return
        ctx.add(sub.compatible() ? 'NOT_TYPE_NARROWED' : 'NOT_TYPE_EXTENDED')
      })
      return
    case 'object':
      compareObject(ctx, o, u as ObjectNode)
      return
    case 'array':
      compareArray(ctx, o, u as ArrayNode)
      return
    default:
      return
  }
}

function kindName(n: Node): string {
  switch (n.kind) {
    case 'number':
      return n.integer ? 'integer' : 'number'
    case 'empty':
      return n.isTrue ? 'true (anything)' : '{} (anything)'
    case 'false':
      return 'false (nothing)'
    case 'combined':
      return n.criterion
    default:
      return n.kind
  }
}

function bound(ctx: Ctx, name: string, a: number | undefined, b: number | undefined, prefix: string): void {
  if (a === b) return
  if (a === undefined) ctx.add(`${prefix}_ADDED`, name)
  else if (b === undefined) ctx.add(`${prefix}_REMOVED`, name)
  else if (a < b) ctx.add(`${prefix}_INCREASED`, name)
  else if (a > b) ctx.add(`${prefix}_DECREASED`, name)
}

function compareString(ctx: Ctx, o: StringNode, u: StringNode): void {
  bound(ctx, 'maxLength', o.maxLength, u.maxLength, 'MAX_LENGTH')
  bound(ctx, 'minLength', o.minLength, u.minLength, 'MIN_LENGTH')
  if (o.pattern === undefined && u.pattern !== undefined) ctx.add('PATTERN_ADDED', 'pattern')
  else if (o.pattern !== undefined && u.pattern === undefined) ctx.add('PATTERN_REMOVED', 'pattern')
  else if (o.pattern !== u.pattern) ctx.add('PATTERN_CHANGED', 'pattern')
}

function compareNumber(ctx: Ctx, o: NumberNode, u: NumberNode): void {
  bound(ctx, 'maximum', o.maximum, u.maximum, 'MAXIMUM')
  bound(ctx, 'minimum', o.minimum, u.minimum, 'MINIMUM')
  bound(ctx, 'exclusiveMaximum', o.exclusiveMaximum, u.exclusiveMaximum, 'EXCLUSIVE_MAXIMUM')
  bound(ctx, 'exclusiveMinimum', o.exclusiveMinimum, u.exclusiveMinimum, 'EXCLUSIVE_MINIMUM')
  const a = o.multipleOf
  const b = u.multipleOf
  if (a !== b) {
    if (a === undefined) ctx.add('MULTIPLE_OF_ADDED', 'multipleOf')
    else if (b === undefined) ctx.add('MULTIPLE_OF_REMOVED', 'multipleOf')
    else if (a !== 0 && isMultiple(b, a)) ctx.add('MULTIPLE_OF_EXPANDED', 'multipleOf')
    else if (b !== 0 && isMultiple(a, b)) ctx.add('MULTIPLE_OF_REDUCED', 'multipleOf')
    else ctx.add('MULTIPLE_OF_CHANGED', 'multipleOf')
  }
  if (o.integer !== u.integer) ctx.add(o.integer ? 'TYPE_EXTENDED' : 'TYPE_NARROWED')
}

/** x is a whole multiple of y, in decimal arithmetic (0.3 is a multiple of 0.1). */
function isMultiple(x: number, y: number): boolean {
  const scale = 10 ** Math.max(decimals(x), decimals(y))
  const xi = Math.round(x * scale)
  const yi = Math.round(y * scale)
  return yi !== 0 && xi % yi === 0
}
function decimals(n: number): number {
  const s = String(n)
  const e = s.indexOf('e-')
  if (e >= 0) return Number(s.slice(e + 2)) + (s.split('.')[1]?.split('e')[0]?.length ?? 0)
  return s.split('.')[1]?.length ?? 0
}

function compareCombined(ctx: Ctx, o: CombinedNode, u: CombinedNode): void {
  let criteria: string | undefined
  if (o.criterion !== u.criterion) {
    const single = (n: CombinedNode) => n.subschemas.length === 1
    criteria =
      u.criterion === 'anyOf' ||
      (single(o) && single(u)) ||
      (single(o) && u.criterion === 'oneOf') ||
      (single(u) && o.criterion === 'allOf')
        ? 'COMBINED_TYPE_EXTENDED'
        : 'COMBINED_TYPE_CHANGED'
    ctx.add(criteria)
  }
  if (criteria === 'COMBINED_TYPE_CHANGED') return
  const dedupe = (list: Node[]) => {
    const seen = new Map<string, Node>()
    for (const n of list) if (!seen.has(n.key)) seen.set(n.key, n)
    return [...seen.values()]
  }
  const os = dedupe(o.subschemas)
  const us = dedupe(u.subschemas)
  if (os.length < us.length) ctx.add(u.criterion === 'allOf' ? 'PRODUCT_TYPE_EXTENDED' : 'SUM_TYPE_EXTENDED')
  else if (os.length > us.length)
    ctx.add(o.criterion === 'allOf' ? 'PRODUCT_TYPE_NARROWED' : 'SUM_TYPE_NARROWED')
  // Compatible pairs (original i, update j) with their differences.
  const edges: Array<Array<Difference[] | undefined>> = os.map(() => us.map(() => undefined))
  os.forEach((a, i) => {
    ctx.enter(`${o.criterion}/${i}`, () => {
      us.forEach((b, j) => {
        const sub = ctx.sub()
        compare(sub, a, b)
        if (sub.compatible()) edges[i]![j] = sub.diffs
      })
    })
  })
  const match = maximumMatching(edges, us.length)
  for (const [i, j] of match) ctx.addAll(edges[i]![j]!)
  if (match.length < Math.min(os.length, us.length)) ctx.add('COMBINED_TYPE_SUBSCHEMAS_CHANGED')
}

/**
 * Maximum bipartite matching (augmenting paths): pairs [i, j], in order of i. Edges without
 * differences are matched first, so identical subschemas pair with each other and an unchanged
 * schema reports no changes; the other edges then complete the matching.
 */
function maximumMatching(
  edges: Array<Array<Difference[] | undefined>>,
  right: number,
): Array<[number, number]> {
  const owner: number[] = new Array(right).fill(-1)
  const tryAssign = (i: number, seen: boolean[], usable: (d: Difference[]) => boolean): boolean => {
    for (let j = 0; j < right; j++) {
      const e = edges[i]![j]
      if (e === undefined || !usable(e) || seen[j]) continue
      seen[j] = true
      if (owner[j] === -1 || tryAssign(owner[j]!, seen, usable)) {
        owner[j] = i
        return true
      }
    }
    return false
  }
  const matched = new Set<number>()
  for (const usable of [(d: Difference[]) => d.length === 0, () => true]) {
    for (let i = 0; i < edges.length; i++) {
      if (matched.has(i)) continue
      if (tryAssign(i, new Array(right).fill(false), usable)) matched.add(i)
    }
  }
  const out: Array<[number, number]> = []
  owner.forEach((i, j) => {
    if (i >= 0) out.push([i, j])
  })
  return out.sort((a, b) => a[0] - b[0])
}

function isOpenObject(n: ObjectNode): boolean {
  if (!n.permitsAdditional || n.additionalSchema || n.patternProperties.length > 0) return false
  return !n.unevaluated || n.unevaluated.kind === 'empty'
}

function partialObjectSchema(n: ObjectNode, property: string): Node | undefined {
  for (const [re, s] of n.patternProperties) if (re.test(property)) return s
  if (n.additionalSchema) return n.additionalSchema
  if (
    n.permitsAdditional &&
    n.unevaluated &&
    n.unevaluated.kind !== 'false' &&
    n.unevaluated.kind !== 'empty'
  )
    return n.unevaluated
  return undefined
}

function compareObject(ctx: Ctx, o: ObjectNode, u: ObjectNode): void {
  ctx.enter('required', () => {
    for (const k of o.properties.keys()) {
      if (!u.properties.has(k)) continue
      const was = o.required.has(k)
      const is = u.required.has(k)
      if (was && !is) ctx.add('REQUIRED_ATTRIBUTE_REMOVED', k)
      else if (!was && is)
        ctx.add(
          normalize(u.properties.get(k)!).hasDefault || u.properties.get(k)!.hasDefault
            ? 'REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED'
            : 'REQUIRED_ATTRIBUTE_ADDED',
          k,
        )
    }
  })
  ctx.enter('properties', () => {
    const keys = new Set([...o.properties.keys(), ...u.properties.keys()])
    for (const k of keys) {
      ctx.enter(k, () => {
        const a = o.properties.get(k)
        const b = u.properties.get(k)
        if (!b) {
          if (isOpenObject(u))
            return ctx.add('PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL', undefined, a!.pointer)
          const partial = partialObjectSchema(u, k)
          if (partial) {
            const sub = ctx.sub()
            compare(sub, a, partial)
            ctx.addAll(sub.diffs)
            ctx.add(
              sub.compatible()
                ? 'PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
                : 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
            )
          } else if (a!.kind === 'false') ctx.add('PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL')
          else ctx.add('PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL', undefined, a!.pointer)
          return
        }
        const hasDefault = b.hasDefault
        if (!a) {
          if (isOpenObject(o)) {
            if (b.kind === 'empty')
              ctx.add('PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL', undefined, b.pointer)
            else if (u.required.has(k))
              ctx.add(
                hasDefault
                  ? 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL'
                  : 'REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL',
                undefined,
                b.pointer,
              )
            else ctx.add('OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', undefined, b.pointer)
            return
          }
          const partial = partialObjectSchema(o, k)
          if (partial) {
            const sub = ctx.sub()
            compare(sub, partial, b)
            ctx.addAll(sub.diffs)
            ctx.add(
              sub.compatible()
                ? 'PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
                : 'PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
              undefined,
              b.pointer,
            )
          }
          if (u.required.has(k))
            ctx.add(
              hasDefault
                ? 'REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL'
                : 'REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
              undefined,
              b.pointer,
            )
          else ctx.add('OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL', undefined, b.pointer)
          return
        }
        compare(ctx, a, b)
      })
    }
  })
  ctx.enter('dependencies', () => {
    const keys = new Set([...o.propertyDependencies.keys(), ...u.propertyDependencies.keys()])
    for (const k of keys) {
      const a = o.propertyDependencies.get(k)
      const b = u.propertyDependencies.get(k)
      if (!b) ctx.add('DEPENDENCY_ARRAY_REMOVED', k)
      else if (!a) ctx.add('DEPENDENCY_ARRAY_ADDED', k)
      else if (!(a.size === b.size && [...a].every((x) => b.has(x)))) {
        if ([...a].every((x) => b.has(x))) ctx.add('DEPENDENCY_ARRAY_EXTENDED', k)
        else if ([...b].every((x) => a.has(x))) ctx.add('DEPENDENCY_ARRAY_NARROWED', k)
        else ctx.add('DEPENDENCY_ARRAY_CHANGED', k)
      }
    }
    const skeys = new Set([...o.schemaDependencies.keys(), ...u.schemaDependencies.keys()])
    for (const k of skeys) {
      ctx.enter(k, () => {
        const a = o.schemaDependencies.get(k)
        const b = u.schemaDependencies.get(k)
        if (!b) ctx.add('DEPENDENCY_SCHEMA_REMOVED')
        else if (!a) ctx.add('DEPENDENCY_SCHEMA_ADDED')
        else compare(ctx, a, b)
      })
    }
  })
  ctx.enter('additionalProperties', () => {
    if (o.permitsAdditional !== u.permitsAdditional)
      ctx.add(u.permitsAdditional ? 'ADDITIONAL_PROPERTIES_ADDED' : 'ADDITIONAL_PROPERTIES_REMOVED')
    else if (!o.additionalSchema && u.additionalSchema) ctx.add('ADDITIONAL_PROPERTIES_NARROWED')
    else if (o.additionalSchema && !u.additionalSchema) ctx.add('ADDITIONAL_PROPERTIES_EXTENDED')
    else compare(ctx, o.additionalSchema, u.additionalSchema)
  })
  compareUnevaluated(ctx, 'unevaluatedProperties', 'UNEVALUATED_PROPERTIES', o.unevaluated, u.unevaluated)
  bound(ctx, 'maxProperties', o.maxProperties, u.maxProperties, 'MAX_PROPERTIES')
  bound(ctx, 'minProperties', o.minProperties, u.minProperties, 'MIN_PROPERTIES')
}

function compareUnevaluated(ctx: Ctx, word: string, prefix: string, a?: Node, b?: Node): void {
  if (!a && !b) return
  ctx.enter(word, () => {
    if (!a) ctx.add(b!.kind === 'false' ? `${prefix}_REMOVED` : `${prefix}_NARROWED`)
    else if (!b) ctx.add(a.kind === 'false' ? `${prefix}_ADDED` : `${prefix}_EXTENDED`)
    else if (a.kind === 'false' && b.kind !== 'false') ctx.add(`${prefix}_ADDED`)
    else if (a.kind !== 'false' && b.kind === 'false') ctx.add(`${prefix}_REMOVED`)
    else if (a.kind === 'empty' && b.kind !== 'empty') ctx.add(`${prefix}_NARROWED`)
    else if (a.kind !== 'empty' && b.kind === 'empty') ctx.add(`${prefix}_EXTENDED`)
    else compare(ctx, a, b)
  })
}

function isOpenArray(n: ArrayNode): boolean {
  if (!n.permitsAdditional || n.additionalSchema) return false
  return !n.unevaluated || n.unevaluated.kind === 'empty'
}

function partialArraySchema(n: ArrayNode): Node | undefined {
  if (n.additionalSchema) return n.additionalSchema
  if (
    n.permitsAdditional &&
    n.unevaluated &&
    n.unevaluated.kind !== 'false' &&
    n.unevaluated.kind !== 'empty'
  )
    return n.unevaluated
  return undefined
}

function compareArray(ctx: Ctx, o: ArrayNode, u: ArrayNode): void {
  ctx.enter('items', () => compare(ctx, o.allItems, u.allItems))
  const os = o.itemSchemas ?? []
  const us = u.itemSchemas ?? []
  const common = Math.min(os.length, us.length)
  for (let i = 0; i < common; i++) ctx.enter(`items/${i}`, () => compare(ctx, os[i], us[i]))
  for (let i = common; i < os.length; i++) {
    ctx.enter(`items/${i}`, () => {
      const a = os[i]!
      if (isOpenArray(u)) return ctx.add('ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL')
      const partial = partialArraySchema(u)
      if (partial) {
        const sub = ctx.sub()
        compare(sub, a, partial)
        ctx.addAll(sub.diffs)
        ctx.add(
          sub.compatible()
            ? 'ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
            : 'ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
        )
      } else
        ctx.add(
          a.kind === 'false'
            ? 'ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL'
            : 'ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL',
        )
    })
  }
  for (let i = common; i < us.length; i++) {
    ctx.enter(`items/${i}`, () => {
      const b = us[i]!
      if (isOpenArray(o))
        return ctx.add(
          b.kind === 'empty'
            ? 'ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL'
            : 'ITEM_ADDED_TO_OPEN_CONTENT_MODEL',
        )
      const partial = partialArraySchema(o)
      if (partial) {
        const sub = ctx.sub()
        compare(sub, partial, b)
        ctx.addAll(sub.diffs)
        ctx.add(
          sub.compatible()
            ? 'ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL'
            : 'ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL',
        )
      } else ctx.add('ITEM_ADDED_TO_CLOSED_CONTENT_MODEL')
    })
  }
  ctx.enter('additionalItems', () => {
    if (o.permitsAdditional !== u.permitsAdditional)
      ctx.add(o.permitsAdditional ? 'ADDITIONAL_ITEMS_REMOVED' : 'ADDITIONAL_ITEMS_ADDED')
    else if (!o.additionalSchema && u.additionalSchema) ctx.add('ADDITIONAL_ITEMS_NARROWED')
    else if (o.additionalSchema && !u.additionalSchema) ctx.add('ADDITIONAL_ITEMS_EXTENDED')
    else compare(ctx, o.additionalSchema, u.additionalSchema)
  })
  compareUnevaluated(ctx, 'unevaluatedItems', 'UNEVALUATED_ITEMS', o.unevaluated, u.unevaluated)
  bound(ctx, 'maxItems', o.maxItems, u.maxItems, 'MAX_ITEMS')
  bound(ctx, 'minItems', o.minItems, u.minItems, 'MIN_ITEMS')
  if (o.uniqueItems !== u.uniqueItems)
    ctx.add(o.uniqueItems ? 'UNIQUE_ITEMS_REMOVED' : 'UNIQUE_ITEMS_ADDED', 'uniqueItems')
  bound(ctx, 'maxContains', o.maxContains, u.maxContains, 'MAX_CONTAINS')
  bound(ctx, 'minContains', o.minContains, u.minContains, 'MIN_CONTAINS')
}

// ---------------------------------------------------------------------------------------------
// Engine: files in, changes with sentences out.

/** Parses JSON text; a syntax error names the line and column. */
export function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    const message = (err as Error).message
    const m = /position (\d+)/.exec(message)
    const at = m
      ? lineColumn(text, Number(m[1]))
      : /end of JSON input/.test(message)
        ? lineColumn(text, text.trimEnd().length)
        : undefined
    const lc = /line (\d+) column (\d+)/.exec(message)
    throw new SchemaInputError(
      `not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '').replace(/^Unexpected/, 'unexpected')}`,
      name,
      lc ? Number(lc[1]) : at?.line,
      lc ? Number(lc[2]) : at?.column,
      'SCHEMA_PARSE',
    )
  }
}

export function loadJsonSchema(
  source: SchemaSource,
  _opts: EngineOptions,
  tick: () => void,
  json?: unknown,
): JsonSchemaDocument {
  const value = json ?? parseJson(source.text, source.name)
  return new JsonSchemaDocument(value, {
    name: source.name,
    tick,
    checkExternal: (refPath, fromName) => {
      if (!source.readFile || !source.path)
        throw new SchemaInputError(
          `$ref to "${refPath}" names another file, which cannot be read here`,
          fromName,
          undefined,
          undefined,
          'REF_NOT_FOUND',
        )
      try {
        source.checkPath?.(resolve(dirname(source.path), refPath))
      } catch (err) {
        if (err instanceof SchemaInputError)
          throw new SchemaInputError(
            `$ref "${refPath}": ${err.message}`,
            fromName,
            undefined,
            undefined,
            err.code,
          )
        throw err
      }
    },
    loadExternal: (refPath, fromName) => {
      if (!source.readFile || !source.path)
        throw new SchemaInputError(
          `$ref to "${refPath}" names another file, which cannot be read here`,
          fromName,
        )
      const text = source.readFile(resolve(dirname(source.path), refPath))
      if (text === undefined)
        throw new SchemaInputError(
          `$ref to "${refPath}" names a file that does not exist`,
          fromName,
          undefined,
          undefined,
          'REF_NOT_FOUND',
        )
      return {name: refPath, json: parseJson(text, refPath)}
    },
  })
}

/** Facts, old → new; the consequence clause says who breaks. */
const SENTENCES: Record<string, string> = {
  TYPE_CHANGED: 'the type changed',
  TYPE_NARROWED: 'the type was narrowed (number to integer)',
  TYPE_EXTENDED: 'the type was widened (integer to number)',
  SCHEMA_ADDED: 'a schema was added where anything was allowed',
  SCHEMA_REMOVED: 'the schema was removed, so anything is allowed',
  REQUIRED_ATTRIBUTE_ADDED: 'the property became required',
  REQUIRED_ATTRIBUTE_REMOVED: 'the property is no longer required',
  REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED: 'the property became required, with a default',
  OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL:
    'an optional property was added to an open object, where any value was allowed before',
  REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: 'a required property was added',
  REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL: 'a required property was added',
  OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL: 'an optional property was added to a closed object',
  PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL:
    'a property was removed from a closed object, which now rejects it',
  PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL: 'a property was removed from an open object',
  ADDITIONAL_PROPERTIES_ADDED: 'additional properties are now allowed',
  ADDITIONAL_PROPERTIES_REMOVED: 'additional properties are no longer allowed',
  ADDITIONAL_PROPERTIES_NARROWED: 'additional properties must now match a schema',
  ADDITIONAL_PROPERTIES_EXTENDED: 'additional properties no longer need to match a schema',
  ENUM_ARRAY_NARROWED: 'enum values were removed',
  ENUM_ARRAY_CHANGED: 'the allowed values changed',
  ENUM_ARRAY_EXTENDED: 'enum values were added',
  COMBINED_TYPE_SUBSCHEMAS_CHANGED: 'the alternatives changed so that some have no compatible counterpart',
  COMBINED_TYPE_CHANGED: 'the combination (allOf/anyOf/oneOf) changed',
  SUM_TYPE_NARROWED: 'alternatives were removed from anyOf/oneOf',
  SUM_TYPE_EXTENDED: 'alternatives were added to anyOf/oneOf',
  PRODUCT_TYPE_EXTENDED: 'constraints were added to allOf',
  PRODUCT_TYPE_NARROWED: 'constraints were removed from allOf',
  NOT_TYPE_EXTENDED: '"not" now excludes more',
  NOT_TYPE_NARROWED: '"not" now excludes less',
}

/** Confluent's words for content models, in a developer's. */
function fallbackSentence(type: string): string {
  return type
    .toLowerCase()
    .replaceAll('_', ' ')
    .replace('unopen content model', 'closed or partly open object')
    .replace('partially open content model', 'partly open object (patternProperties/additionalProperties)')
    .replace('open content model', 'open object')
    .replace('closed content model', 'closed object')
}

/**
 * A forward check compares NEW with OLD, so its facts read new → old; say them old → new:
 * added ↔ removed, increased ↔ decreased, extended/widened ↔ narrowed.
 */
export function oldToNew(text: string): string {
  const swap: Record<string, string> = {
    'added to': 'removed from',
    'removed from': 'added to',
    added: 'removed',
    removed: 'added',
    increased: 'decreased',
    decreased: 'increased',
    extended: 'narrowed',
    widened: 'narrowed',
    narrowed: 'widened',
    more: 'less',
    less: 'more',
  }
  return text.replace(
    /\b(added to|removed from|added|removed|increased|decreased|extended|widened|narrowed|more|less)\b/g,
    (w) => swap[w]!,
  )
}

/** A developer's sentence for a Confluent difference type at a path. */
export function describe(
  type: string,
  path: string,
  breaking: boolean,
  direction: 'backward' | 'forward',
  detail?: string,
): string {
  const base = SENTENCES[type] ?? fallbackSentence(type)
  const fact = direction === 'forward' ? oldToNew(base) : base
  // `from number to string` reads old → new already when the check ran backward.
  const d =
    detail && direction === 'forward' ? detail.replace(/^from (.+) to (.+)$/, 'from $2 to $1') : detail
  const what = d ? `${fact} ${d}` : fact
  const m = /\/(properties|required|dependencies)\/([^/]+)$/.exec(path)
  const where = path === '#/' ? 'the schema' : m ? `property \`${m[2]}\` (${path})` : `\`${path}\``
  return `${where}: ${what}${consequence(breaking, direction)}${direction === 'forward' ? ' (forward check)' : ''}`
}

export const jsonSchemaEngine: Engine = {
  async check(source, opts) {
    loadJsonSchema(source, opts, makeTick(opts.deadline, source.name), await parseSchemaText(source))
  },
  async compare(writer, reader, opts, direction) {
    const tick = makeTick(opts.deadline, `${writer.name} and ${reader.name}`)
    const a = loadJsonSchema(writer, opts, tick, await parseSchemaText(writer))
    const b = loadJsonSchema(reader, opts, tick, await parseSchemaText(reader))
    const set = opts.jsonSchemaPolicy === 'lenient' ? COMPATIBLE_LENIENT : COMPATIBLE_STRICT
    // Paths name the document on the newer side: the reader going backward, the writer forward.
    return compareNodes(a.root, b.root, set, tick).map((d) => {
      const breaking = !set.has(d.type)
      return {
        type: d.type,
        path: d.path,
        breaking,
        message: describe(d.type, d.path, breaking, direction, d.detail),
        pointer: d.path,
      }
    })
  },
}

/** JSON, or YAML for a `.yaml`/`.yml` file (JSON Schema inside an AsyncAPI document). */
export async function parseSchemaText(source: SchemaSource): Promise<unknown> {
  if (!/\.ya?ml$/i.test(source.name)) return parseJson(source.text, source.name)
  const {parseYaml} = await import('./yaml.js')
  return parseYaml(source.text, source.name)
}

/** A tick that throws once the deadline has passed (checked every 1024 calls). */
export function makeTick(deadline: number, what: string): () => void {
  let n = 0
  return () => {
    if ((++n & 1023) === 0 && Date.now() > deadline) {
      throw new SchemaInputError(
        `comparing ${what} took longer than the time budget (deep nesting, reference cycles or huge combinations)`,
        undefined,
        undefined,
        undefined,
        'SCHEMA_TOO_COMPLEX',
      )
    }
  }
}
