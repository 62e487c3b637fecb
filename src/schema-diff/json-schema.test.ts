/** JSON Schema semantics beyond Confluent's corpus: recursion, newer drafts, refs. */
import {describe, expect, test} from 'vitest'
import {COMPATIBLE_STRICT, compareNodes} from './json-schema.js'
import {JsonSchemaDocument} from './json-schema-model.js'

const diff = (a: unknown, b: unknown) => {
  const x = new JsonSchemaDocument(a, {name: 'old'})
  const y = new JsonSchemaDocument(b, {name: 'new'})
  return compareNodes(x.root, y.root).map((d) => `${d.type} ${d.path}`)
}
const breaking = (a: unknown, b: unknown) => {
  const x = new JsonSchemaDocument(a, {name: 'old'})
  const y = new JsonSchemaDocument(b, {name: 'new'})
  return compareNodes(x.root, y.root).some((d) => !COMPATIBLE_STRICT.has(d.type))
}

const tree = (leaf: string) => ({
  $ref: '#/definitions/node',
  definitions: {
    node: {
      type: 'object',
      properties: {value: {type: leaf}, children: {type: 'array', items: {$ref: '#/definitions/node'}}},
    },
  },
})

describe('JSON Schema engine', () => {
  test('recursive $ref: unchanged is quiet; a change is found at the node and where the cycle re-enters it', () => {
    expect(diff(tree('string'), tree('string'))).toEqual([])
    // Confluent's fixpoint feeds the incompatible pair back into the cycle, so it shows twice.
    expect(diff(tree('string'), tree('number'))).toEqual([
      'TYPE_CHANGED #/properties/value',
      'TYPE_CHANGED #/properties/children/items/properties/value',
    ])
  })

  test('mutually recursive definitions terminate', () => {
    const s = (t: string) => ({
      $ref: '#/$defs/a',
      $defs: {
        a: {type: 'object', properties: {b: {$ref: '#/$defs/b'}, x: {type: t}}},
        b: {type: 'object', properties: {a: {$ref: '#/$defs/a'}}},
      },
    })
    expect(diff(s('string'), s('string'))).toEqual([])
    expect(breaking(s('string'), s('integer'))).toBe(true)
  })

  test('2020-12 $dynamicRef and 2019-09 $recursiveRef recurse like $ref', () => {
    const dyn = (leaf: string) => ({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $dynamicAnchor: 'node',
      type: 'object',
      properties: {value: {type: leaf}, children: {type: 'array', items: {$dynamicRef: '#node'}}},
    })
    expect(diff(dyn('string'), dyn('string'))).toEqual([])
    expect(diff(dyn('string'), dyn('number'))).toContain('TYPE_CHANGED #/properties/value')
    const rec = (leaf: string) => ({
      $schema: 'https://json-schema.org/draft/2019-09/schema',
      $recursiveAnchor: true,
      type: 'object',
      properties: {value: {type: leaf}, next: {$recursiveRef: '#'}},
    })
    expect(diff(rec('string'), rec('string'))).toEqual([])
    expect(diff(rec('string'), rec('integer'))).toContain('TYPE_CHANGED #/properties/value')
  })

  test('2020-12: prefixItems and items after them', () => {
    const d = (extra: unknown) => ({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'array',
      prefixItems: [{type: 'string'}],
      items: extra,
    })
    expect(diff(d({type: 'string'}), d(false))).toEqual(['ADDITIONAL_ITEMS_REMOVED #/additionalItems'])
    expect(diff(d(false), d({type: 'string'}))).toEqual(['ADDITIONAL_ITEMS_ADDED #/additionalItems'])
  })

  test('2020-12: unevaluatedProperties closes the object', () => {
    const d = (u: unknown) => ({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {a: {type: 'string'}},
      ...(u === undefined ? {} : {unevaluatedProperties: u}),
    })
    expect(diff(d(undefined), d(false))).toEqual(['UNEVALUATED_PROPERTIES_REMOVED #/unevaluatedProperties'])
    expect(breaking(d(undefined), d(false))).toBe(true)
  })

  test('type unions: widening is compatible, narrowing is not', () => {
    expect(breaking({type: 'string'}, {type: ['string', 'null']})).toBe(false)
    expect(breaking({type: ['string', 'null']}, {type: 'string'})).toBe(true)
  })

  test('numeric and string bounds', () => {
    expect(diff({type: 'integer', maximum: 10}, {type: 'integer', maximum: 5})).toEqual([
      'MAXIMUM_DECREASED #/maximum',
    ])
    expect(diff({type: 'number', multipleOf: 0.1}, {type: 'number', multipleOf: 0.3})).toEqual([
      'MULTIPLE_OF_EXPANDED #/multipleOf',
    ])
    expect(diff({type: 'string', pattern: '^a'}, {type: 'string', pattern: '^b'})).toEqual([
      'PATTERN_CHANGED #/pattern',
    ])
  })

  test('a huge enum stays linear: 200,000 values compare in well under the budget', () => {
    const values = Array.from({length: 200_000}, (_, i) => `v${i}`)
    const started = Date.now()
    expect(diff({enum: values}, {enum: values.slice(1)})).toEqual(['ENUM_ARRAY_NARROWED #/enum'])
    expect(Date.now() - started).toBeLessThan(5000)
  })

  test('a ref to another file without a reader is unusable input', () => {
    expect(() => new JsonSchemaDocument({$ref: 'other.json'}, {name: 'x.json'}).root).not.toThrow()
    const doc = new JsonSchemaDocument({properties: {a: {$ref: 'other.json'}}}, {name: 'x.json'})
    expect(() =>
      compareNodes(doc.root, new JsonSchemaDocument({properties: {a: {type: 'string'}}}, {name: 'y'}).root),
    ).toThrow(/names another file/)
  })
})
