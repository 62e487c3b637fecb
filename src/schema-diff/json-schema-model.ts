/**
 * Loads a JSON Schema document into the small model that Confluent's JSON Schema diff works on
 * (everit's classes: StringSchema, NumberSchema, ObjectSchema, ArraySchema, EnumSchema,
 * ConstSchema, CombinedSchema, NotSchema, EmptySchema/TrueSchema, FalseSchema, ReferenceSchema),
 * so that our difference types and paths match Confluent's.
 *
 * How keywords become nodes (as everit does it): `$ref` (drafts 4–7: its siblings are ignored),
 * then `enum`, `allOf`/`anyOf`/`oneOf`, `not`, `const`, `type`, then keywords of a type without
 * `type` ("sniffed": `properties` makes an object schema that does not require an object). One
 * part is the node; several parts are a synthetic `allOf`; none is the empty schema. A `type`
 * array is an `anyOf` of one node per type. Drafts 2019-09 and 2020-12 differ where Confluent's
 * translation from json-sKema differs: `$ref` is one part among its siblings, `prefixItems`,
 * `unevaluated*`, `dependentRequired`/`dependentSchemas`, and an empty `properties` adds nothing.
 *
 * Security: only refs inside this document or local files inside the root are followed; an
 * http(s) ref or one escaping the root is a SchemaInputError (exit 2).
 */
import {SchemaInputError} from './types.js'

export type Criterion = 'allOf' | 'anyOf' | 'oneOf'

interface Base {
  /** Canonical JSON of the source, for collapsing duplicate subschemas as Confluent does. */
  key: string
  id?: string
  title?: string
  description?: string
  hasDefault: boolean
  default?: unknown
  connectType?: string
  /** Pointer of the source in its document, for finding its line. */
  pointer: string
}

export interface EmptyNode extends Base {
  kind: 'empty'
  /** `true` (everit's TrueSchema) rather than `{}`: a different class, so a type change. */
  isTrue: boolean
}
export interface FalseNode extends Base {
  kind: 'false'
}
export interface StringNode extends Base {
  kind: 'string'
  minLength?: number
  maxLength?: number
  pattern?: string
}
export interface NumberNode extends Base {
  kind: 'number'
  integer: boolean
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  multipleOf?: number
}
export interface SimpleNode extends Base {
  kind: 'boolean' | 'null' | 'conditional'
}
export interface ObjectNode extends Base {
  kind: 'object'
  properties: Map<string, Node>
  required: Set<string>
  patternProperties: Array<[RegExp, Node]>
  permitsAdditional: boolean
  additionalSchema?: Node
  unevaluated?: Node
  propertyDependencies: Map<string, Set<string>>
  schemaDependencies: Map<string, Node>
  minProperties?: number
  maxProperties?: number
}
export interface ArrayNode extends Base {
  kind: 'array'
  allItems?: Node
  itemSchemas?: Node[]
  permitsAdditional: boolean
  additionalSchema?: Node
  unevaluated?: Node
  minItems?: number
  maxItems?: number
  uniqueItems: boolean
  minContains?: number
  maxContains?: number
}
export interface EnumNode extends Base {
  kind: 'enum'
  /** Canonical JSON of each value (a set). */
  values: Set<string>
}
export interface ConstNode extends Base {
  kind: 'const'
  value: string
}
export interface CombinedNode extends Base {
  kind: 'combined'
  criterion: Criterion
  subschemas: Node[]
}
export interface NotNode extends Base {
  kind: 'not'
  schema: Node
}
export interface RefNode extends Base {
  kind: 'ref'
  ref: string
  /** The document the ref is written in. */
  source: string
  target: () => Node
}

export type Node =
  | EmptyNode
  | FalseNode
  | StringNode
  | NumberNode
  | SimpleNode
  | ObjectNode
  | ArrayNode
  | EnumNode
  | ConstNode
  | CombinedNode
  | NotNode
  | RefNode

const canonicalCache = new WeakMap<object, string>()

/** JSON with object keys sorted: equal values give equal strings (memoised per object). */
export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  const cached = canonicalCache.get(value)
  if (cached !== undefined) return cached
  let out: string
  if (Array.isArray(value)) out = `[${value.map(canonical).join(',')}]`
  else {
    const keys = Object.keys(value as object).sort()
    out = `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  canonicalCache.set(value, out)
  return out
}

const OBJECT_KEYWORDS = [
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'dependencies',
  'patternProperties',
  'additionalProperties',
  'propertyNames',
]
const MODERN_OBJECT_KEYWORDS = [
  ...OBJECT_KEYWORDS,
  'dependentRequired',
  'dependentSchemas',
  'unevaluatedProperties',
]
const ARRAY_KEYWORDS = ['items', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems', 'contains']
const MODERN_ARRAY_KEYWORDS = [
  ...ARRAY_KEYWORDS,
  'prefixItems',
  'unevaluatedItems',
  'minContains',
  'maxContains',
]
const NUMBER_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']
const STRING_KEYWORDS = ['minLength', 'maxLength', 'pattern', 'format']
const CONDITIONAL_KEYWORDS = ['if', 'then', 'else']

type Json = Record<string, unknown>

export interface LoadOptions {
  /** Name of the document for messages. */
  name: string
  /**
   * Loads another document for a ref to a file (`other.json#/x`), given the ref's path part;
   * returns its JSON. Absent: refs to other files are an error.
   */
  loadExternal?: (refPath: string, fromName: string) => {name: string; json: unknown}
  /** Checks a ref to another file before anything is read (throws for one outside the root). */
  checkExternal?: (refPath: string, fromName: string) => void
  /** Called often while loading and comparing: throws when the time budget is spent. */
  tick?: () => void
}

/** The draft a document declares; without `$schema`, draft-07 (as Confluent reads it). */
export function isModern(doc: unknown): boolean {
  const s = typeof doc === 'object' && doc !== null ? (doc as Json).$schema : undefined
  return typeof s === 'string' && /2019-09|2020-12/.test(s)
}

const MAX_DEPTH = 256

/** One document: nodes are cached per source object, so every ref to a definition is one node. */
export class JsonSchemaDocument {
  readonly root: Node
  readonly modern: boolean
  private readonly cache = new Map<object | boolean, Node>()
  private readonly externals = new Map<string, JsonSchemaDocument>()

  /**
   * `at`: a JSON pointer (`/components/schemas/Order`) when the schema is one part of a larger
   * document (AsyncAPI) whose `#/...` refs it may use.
   */
  constructor(
    readonly json: unknown,
    private readonly opts: LoadOptions,
    modern?: boolean,
    at?: string,
  ) {
    this.modern = modern ?? isModern(json)
    this.root = at ? this.resolvePointer(at, `#${at}`, '#') : this.load(json, '#', 0)
  }

  private fail(message: string, pointer: string): never {
    throw new SchemaInputError(
      `${message} (at ${pointer})`,
      this.opts.name,
      undefined,
      undefined,
      'SCHEMA_INVALID',
    )
  }

  load(json: unknown, pointer: string, depth: number): Node {
    this.opts.tick?.()
    if (depth > MAX_DEPTH) {
      throw new SchemaInputError(
        `schema nested deeper than ${MAX_DEPTH} levels (at ${pointer.slice(0, 200)}…)`,
        this.opts.name,
        undefined,
        undefined,
        'SCHEMA_TOO_COMPLEX',
      )
    }
    if (typeof json === 'boolean') {
      const base = {key: String(json), hasDefault: false, pointer}
      return json ? {...base, kind: 'empty', isTrue: true} : {...base, kind: 'false'}
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      this.fail(`a schema must be an object or a boolean, not ${JSON.stringify(json)?.slice(0, 40)}`, pointer)
    }
    const cached = this.cache.get(json)
    if (cached) return cached
    const node = this.build(json as Json, pointer, depth)
    this.cache.set(json, node)
    return node
  }

  private base(o: Json, pointer: string, key = canonical(o)): Base {
    const b: Base = {key, hasDefault: 'default' in o, pointer}
    // Confluent's 2019-09/2020-12 translation takes $id as a base URI only: no ID_CHANGED.
    const id = this.modern ? undefined : (o.$id ?? o.id)
    if (typeof id === 'string') b.id = id
    if (typeof o.title === 'string') b.title = o.title
    if (typeof o.description === 'string') b.description = o.description
    if ('default' in o) b.default = o.default
    if (typeof o['connect.type'] === 'string') b.connectType = o['connect.type'] as string
    return b
  }

  private build(o: Json, pointer: string, depth: number): Node {
    const parts: Node[] = []
    const sub = (v: unknown, p: string) => this.load(v, `${pointer}/${p}`, depth + 1)
    const bare = (): Base => ({key: canonical(o), hasDefault: false, pointer})
    // 2019-09's $recursiveRef and 2020-12's $dynamicRef resolve statically here (to the anchor
    // or the root), which is what they mean in a single document without dynamic scopes.
    const refValue = o.$ref ?? (this.modern ? (o.$dynamicRef ?? o.$recursiveRef) : undefined)
    if (typeof refValue === 'string') {
      const ref = this.ref(refValue, pointer)
      if (!this.modern) return {...this.base(o, pointer), ...ref}
      parts.push({...bare(), ...ref})
    }
    if (Array.isArray(o.enum)) {
      parts.push({...bare(), kind: 'enum', values: new Set(o.enum.map(canonical))})
    }
    for (const criterion of ['allOf', 'anyOf', 'oneOf'] as const) {
      const list = o[criterion]
      if (!Array.isArray(list)) continue
      parts.push({
        ...bare(),
        kind: 'combined',
        criterion,
        subschemas: list.map((s, i) => sub(s, `${criterion}/${i}`)),
      })
    }
    if ('not' in o) parts.push({...bare(), kind: 'not', schema: sub(o.not, 'not')})
    if ('const' in o) parts.push({...bare(), kind: 'const', value: canonical(o.const)})
    const used = new Set<string>()
    const type = o.type
    if (typeof type === 'string') {
      parts.push(this.typed(type, o, pointer, depth, used))
    } else if (Array.isArray(type)) {
      const members = type.map((t) => this.typed(String(t), o, pointer, depth, used, `${canonical(o)}#${t}`))
      parts.push({...bare(), kind: 'combined', criterion: 'anyOf', subschemas: members})
    }
    // Keywords of types not named by `type` (or all, without it).
    const has = (words: string[]) => words.some((w) => w in o && !used.has(w))
    const objectWords = this.modern ? MODERN_OBJECT_KEYWORDS : OBJECT_KEYWORDS
    const arrayWords = this.modern ? MODERN_ARRAY_KEYWORDS : ARRAY_KEYWORDS
    if (has(arrayWords)) parts.push(this.array(o, pointer, depth, false))
    if (has(objectWords) && !(this.modern && onlyEmptyProperties(o, objectWords)))
      parts.push(this.object(o, pointer, depth, false))
    if (has(NUMBER_KEYWORDS)) parts.push(this.number(o, pointer, false, false))
    if (has(STRING_KEYWORDS)) parts.push(this.string(o, pointer, false))
    if (CONDITIONAL_KEYWORDS.some((w) => w in o)) parts.push({...bare(), kind: 'conditional'})

    const b = this.base(o, pointer)
    if (parts.length === 0) return {...b, kind: 'empty', isTrue: false}
    if (parts.length === 1) return {...parts[0]!, ...b, key: b.key} as Node
    return {...b, kind: 'combined', criterion: 'allOf', subschemas: parts}
  }

  private typed(
    type: string,
    o: Json,
    pointer: string,
    depth: number,
    used: Set<string>,
    key?: string,
  ): Node {
    const mark = (words: string[]) => {
      for (const w of words) used.add(w)
    }
    switch (type) {
      case 'string':
        mark(STRING_KEYWORDS)
        return this.string(o, pointer, true, key)
      case 'integer':
      case 'number':
        mark(NUMBER_KEYWORDS)
        return this.number(o, pointer, type === 'integer', true, key)
      case 'object':
        mark(this.modern ? MODERN_OBJECT_KEYWORDS : OBJECT_KEYWORDS)
        return this.object(o, pointer, depth, true, key)
      case 'array':
        mark(this.modern ? MODERN_ARRAY_KEYWORDS : ARRAY_KEYWORDS)
        return this.array(o, pointer, depth, true, key)
      case 'boolean':
      case 'null':
        return {key: key ?? canonical(o), hasDefault: false, pointer, kind: type}
      default:
        this.fail(`unknown type "${type}"`, `${pointer}/type`)
    }
  }

  private string(o: Json, pointer: string, _typed: boolean, key?: string): StringNode {
    const n: StringNode = {key: key ?? canonical(o), hasDefault: false, pointer, kind: 'string'}
    if (typeof o.minLength === 'number') n.minLength = o.minLength
    if (typeof o.maxLength === 'number') n.maxLength = o.maxLength
    if (typeof o.pattern === 'string') n.pattern = o.pattern
    return n
  }

  private number(o: Json, pointer: string, integer: boolean, _typed: boolean, key?: string): NumberNode {
    const n: NumberNode = {key: key ?? canonical(o), hasDefault: false, pointer, kind: 'number', integer}
    if (typeof o.minimum === 'number') n.minimum = o.minimum
    if (typeof o.maximum === 'number') n.maximum = o.maximum
    // Draft 4's boolean exclusiveMinimum/Maximum only mark minimum/maximum exclusive.
    if (typeof o.exclusiveMinimum === 'number') n.exclusiveMinimum = o.exclusiveMinimum
    if (typeof o.exclusiveMaximum === 'number') n.exclusiveMaximum = o.exclusiveMaximum
    if (typeof o.multipleOf === 'number') n.multipleOf = o.multipleOf
    return n
  }

  private object(o: Json, pointer: string, depth: number, _typed: boolean, key?: string): ObjectNode {
    const sub = (v: unknown, p: string) => this.load(v, `${pointer}/${p}`, depth + 1)
    const n: ObjectNode = {
      key: key ?? canonical(o),
      hasDefault: false,
      pointer,
      kind: 'object',
      properties: new Map(),
      required: new Set(Array.isArray(o.required) ? o.required.map(String) : []),
      patternProperties: [],
      permitsAdditional: true,
      propertyDependencies: new Map(),
      schemaDependencies: new Map(),
    }
    if (isObject(o.properties)) {
      for (const [k, v] of Object.entries(o.properties))
        n.properties.set(k, sub(v, `properties/${escToken(k)}`))
    }
    if (isObject(o.patternProperties)) {
      for (const [k, v] of Object.entries(o.patternProperties)) {
        let re: RegExp
        try {
          re = new RegExp(k, 'u')
        } catch {
          this.fail(`patternProperties has an invalid pattern ${JSON.stringify(k)}`, pointer)
        }
        n.patternProperties.push([re, sub(v, `patternProperties/${escToken(k)}`)])
      }
    }
    if (o.additionalProperties === false) n.permitsAdditional = false
    else if (this.modern && o.additionalProperties === true) {
      // json-sKema's `true`: nothing to add.
    } else if (o.additionalProperties !== undefined && o.additionalProperties !== true)
      n.additionalSchema = sub(o.additionalProperties, 'additionalProperties')
    const deps: Array<[string, unknown]> = []
    if (isObject(o.dependencies))
      deps.push(
        ...Object.entries(o.dependencies).map(
          ([k, v]) => [`dependencies/${escToken(k)}`, v] as [string, unknown],
        ),
      )
    if (this.modern && isObject(o.dependentRequired))
      deps.push(
        ...Object.entries(o.dependentRequired).map(
          ([k, v]) => [`dependentRequired/${escToken(k)}`, v] as [string, unknown],
        ),
      )
    if (this.modern && isObject(o.dependentSchemas))
      deps.push(
        ...Object.entries(o.dependentSchemas).map(
          ([k, v]) => [`dependentSchemas/${escToken(k)}`, v] as [string, unknown],
        ),
      )
    for (const [p, v] of deps) {
      const name = unescToken(p.slice(p.indexOf('/') + 1))
      if (Array.isArray(v)) n.propertyDependencies.set(name, new Set(v.map(String)))
      else n.schemaDependencies.set(name, sub(v, p))
    }
    if (typeof o.minProperties === 'number') n.minProperties = o.minProperties
    if (typeof o.maxProperties === 'number') n.maxProperties = o.maxProperties
    if (this.modern && 'unevaluatedProperties' in o)
      n.unevaluated = sub(o.unevaluatedProperties, 'unevaluatedProperties')
    return n
  }

  private array(o: Json, pointer: string, depth: number, _typed: boolean, key?: string): ArrayNode {
    const sub = (v: unknown, p: string) => this.load(v, `${pointer}/${p}`, depth + 1)
    const n: ArrayNode = {
      key: key ?? canonical(o),
      hasDefault: false,
      pointer,
      kind: 'array',
      permitsAdditional: true,
      uniqueItems: o.uniqueItems === true,
    }
    const tuple =
      this.modern && Array.isArray(o.prefixItems)
        ? o.prefixItems
        : Array.isArray(o.items)
          ? o.items
          : undefined
    const tupleWord = this.modern && Array.isArray(o.prefixItems) ? 'prefixItems' : 'items'
    if (tuple) n.itemSchemas = tuple.map((s, i) => sub(s, `${tupleWord}/${i}`))
    // After a tuple: `additionalItems` (drafts 4–2019-09) or `items` (2020-12).
    // everit reads additionalItems with or without a tuple.
    const rest = this.modern && Array.isArray(o.prefixItems) ? o.items : o.additionalItems
    const restWord = this.modern && Array.isArray(o.prefixItems) ? 'items' : 'additionalItems'
    if (!tuple && o.items !== undefined && !Array.isArray(o.items)) {
      if (this.modern && o.items === false) n.permitsAdditional = false
      else if (!(this.modern && o.items === true)) n.allItems = sub(o.items, 'items')
    }
    if (rest === false) n.permitsAdditional = false
    else if (rest !== undefined && rest !== true) n.additionalSchema = sub(rest, restWord)
    if (typeof o.minItems === 'number') n.minItems = o.minItems
    if (typeof o.maxItems === 'number') n.maxItems = o.maxItems
    if (this.modern && 'contains' in o) {
      n.minContains = typeof o.minContains === 'number' ? o.minContains : 1
      if (typeof o.maxContains === 'number') n.maxContains = o.maxContains
    }
    if (this.modern && 'unevaluatedItems' in o) n.unevaluated = sub(o.unevaluatedItems, 'unevaluatedItems')
    return n
  }

  private ref(ref: string, pointer: string): {kind: 'ref'; ref: string; source: string; target: () => Node} {
    if (/^[a-z][a-z0-9+.-]*:/i.test(ref) && !ref.startsWith('urn:')) {
      throw new SchemaInputError(
        `remote $ref "${ref}" is not fetched (evtctl never reads the network); vendor the schema into the repository and refer to it by a relative path`,
        this.opts.name,
        undefined,
        undefined,
        'REMOTE_REF',
      )
    }
    let resolved: Node | undefined
    const target = (): Node => {
      if (resolved) return resolved
      const hash = ref.indexOf('#')
      const filePart = hash < 0 ? ref : ref.slice(0, hash)
      const fragment = hash < 0 ? '' : ref.slice(hash + 1)
      let doc: JsonSchemaDocument = this
      if (filePart) {
        const cached = this.externals.get(filePart)
        if (cached) doc = cached
        else {
          if (!this.opts.loadExternal)
            this.fail(`$ref "${ref}" names another file, which cannot be read here`, pointer)
          const ext = this.opts.loadExternal(filePart, this.opts.name)
          doc = new JsonSchemaDocument(ext.json, {...this.opts, name: ext.name}, this.modern)
          this.externals.set(filePart, doc)
        }
      }
      resolved = doc.resolvePointer(fragment, ref, pointer)
      return resolved
    }
    // A ref to another file is checked now (inside the root), even where it is never compared.
    const hash = ref.indexOf('#')
    const filePart = hash < 0 ? ref : ref.slice(0, hash)
    if (filePart) this.opts.checkExternal?.(filePart, this.opts.name)
    return {kind: 'ref', ref, source: this.opts.name, target}
  }

  /** The node at a JSON pointer fragment (`/definitions/a`), or an `$anchor`/`$id` name. */
  resolvePointer(fragment: string, ref: string, from: string): Node {
    if (fragment === '' || fragment === '/') return this.root
    let cur: unknown = this.json
    if (fragment.startsWith('/')) {
      for (const raw of fragment.slice(1).split('/')) {
        const part = unescToken(decodeURIComponent(raw))
        if (typeof cur !== 'object' || cur === null || !(part in (cur as Json))) {
          this.fail(`$ref "${ref}" points to nothing`, from)
        }
        cur = (cur as Json)[part]
      }
      return this.load(cur, `#${fragment}`, 0)
    }
    const found = findAnchor(this.json, fragment)
    if (found === undefined) this.fail(`$ref "${ref}" points to nothing`, from)
    return this.load(found, `#${fragment}`, 0)
  }
}

function findAnchor(json: unknown, name: string, depth = 0): unknown {
  if (depth > MAX_DEPTH || typeof json !== 'object' || json === null) return undefined
  if (!Array.isArray(json)) {
    const o = json as Json
    if (o.$anchor === name || o.$dynamicAnchor === name || o.$id === `#${name}` || o.id === `#${name}`)
      return o
  }
  for (const v of Object.values(json as Json)) {
    const f = findAnchor(v, name, depth + 1)
    if (f !== undefined) return f
  }
  return undefined
}

function onlyEmptyProperties(o: Json, words: string[]): boolean {
  return words.every(
    (w) =>
      !(w in o) || (w === 'properties' && isObject(o.properties) && Object.keys(o.properties).length === 0),
  )
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A JSON pointer token: `~` → `~0`, `/` → `~1`. Confluent's paths keep names as they are. */
function escToken(k: string): string {
  return k.replaceAll('~', '~0').replaceAll('/', '~1')
}
function unescToken(k: string): string {
  return k.replaceAll('~1', '/').replaceAll('~0', '~')
}
