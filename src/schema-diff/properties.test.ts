/**
 * Properties that must hold for every input (fast-check): a schema compared with itself is
 * compatible with no changes; FULL = BACKWARD ∧ FORWARD; _TRANSITIVE = the conjunction over every
 * older version; the same input gives the same output.
 */
import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {diffVersions} from './service.js'
import type {Mode, SchemaSource} from './types.js'

const opts = (mode: Mode) => ({
  mode,
  format: 'auto' as const,
  jsonSchemaPolicy: 'strict' as const,
  protoPaths: [],
  root: '/nonexistent',
  budgetMs: 10_000,
})

// JSON Schemas from the keywords the engine knows.
const jsonSchema: fc.Arbitrary<unknown> = fc.letrec<{schema: unknown}>((tie) => ({
  schema: fc.oneof(
    {depthSize: 'small', withCrossShrink: true},
    fc.constantFrom(
      {type: 'string'},
      {type: 'integer'},
      {type: 'number'},
      {type: 'boolean'},
      {type: 'null'},
      {},
      true,
    ),
    fc.record(
      {type: fc.constant('string'), maxLength: fc.nat(20), minLength: fc.nat(5)},
      {requiredKeys: ['type']},
    ),
    fc.record(
      {
        type: fc.constant('number'),
        minimum: fc.integer({min: -5, max: 5}),
        multipleOf: fc.constantFrom(1, 2, 5),
      },
      {requiredKeys: ['type']},
    ),
    fc.record({enum: fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 1, 2, null), {minLength: 1})}),
    fc.record(
      {
        type: fc.constant('object'),
        properties: fc.dictionary(fc.constantFrom('id', 'total', 'note', 'tags'), tie('schema'), {
          maxKeys: 3,
        }),
        required: fc.uniqueArray(fc.constantFrom('id', 'total'), {maxLength: 2}),
        additionalProperties: fc.oneof(fc.boolean(), tie('schema')),
      },
      {requiredKeys: ['type']},
    ),
    fc.record(
      {type: fc.constant('array'), items: tie('schema'), maxItems: fc.nat(5)},
      {requiredKeys: ['type']},
    ),
    fc.record({oneOf: fc.array(tie('schema'), {minLength: 1, maxLength: 3})}),
    fc.record({anyOf: fc.array(tie('schema'), {minLength: 1, maxLength: 3})}),
    fc.record({allOf: fc.array(tie('schema'), {minLength: 1, maxLength: 2})}),
    fc.record({not: tie('schema')}),
  ),
})).schema

// Avro records with fields drawn from a few names and types.
const avroType = fc.constantFrom<unknown>(
  'int',
  'long',
  'float',
  'double',
  'string',
  'bytes',
  'boolean',
  ['null', 'string'],
  ['null', 'int'],
  {
    type: 'array',
    items: 'int',
  },
)
const avroSchema = fc
  .uniqueArray(
    fc.record({
      name: fc.constantFrom('id', 'total', 'note', 'tags', 'at'),
      type: avroType,
      withDefault: fc.boolean(),
    }),
    {
      selector: (f) => f.name,
      maxLength: 5,
    },
  )
  .map((fields) => ({
    type: 'record',
    name: 'Order',
    fields: fields.map((f) => ({
      name: f.name,
      type: f.type,
      ...(f.withDefault ? {default: defaultFor(f.type)} : {}),
    })),
  }))

function defaultFor(type: unknown): unknown {
  if (Array.isArray(type)) return null
  if (typeof type === 'object') return []
  return {int: 0, long: 0, float: 0, double: 0, string: '', bytes: '', boolean: false}[type as string]
}

// Protobuf files: one message with fields drawn from a pool, maybe a oneof, maybe an enum.
const protoSchema = fc
  .record({
    syntax: fc.constantFrom('proto2', 'proto3'),
    fields: fc.uniqueArray(
      fc.record({
        n: fc.integer({min: 1, max: 8}),
        type: fc.constantFrom('int32', 'int64', 'sint32', 'string', 'bytes', 'double', 'Status', 'Inner'),
        repeated: fc.boolean(),
      }),
      {selector: (f) => f.n, maxLength: 6},
    ),
    oneof: fc.uniqueArray(fc.integer({min: 10, max: 12}), {maxLength: 2}),
    statuses: fc.uniqueArray(fc.constantFrom('A', 'B', 'C'), {minLength: 1}),
  })
  .map(({syntax, fields, oneof, statuses}) => {
    const label = (r: boolean) => (r ? 'repeated ' : syntax === 'proto2' ? 'optional ' : '')
    return [
      `syntax = "${syntax}";`,
      'package p;',
      'message M {',
      ...fields.map((f) => `  ${label(f.repeated)}${f.type} f${f.n} = ${f.n};`),
      ...(oneof.length ? ['  oneof choice {', ...oneof.map((n) => `    string c${n} = ${n};`), '  }'] : []),
      `  message Inner { ${syntax === 'proto2' ? 'optional ' : ''}string x = 1; }`,
      '}',
      `enum Status { ${statuses.map((s, i) => `${s} = ${i};`).join(' ')} }`,
    ].join('\n')
  })

const json = (s: unknown, name: string): SchemaSource => ({
  name,
  text: typeof s === 'string' ? s : JSON.stringify(s),
})

const FORMATS = [
  {name: 'JSON Schema', arb: jsonSchema, ext: 'json'},
  {name: 'Avro', arb: avroSchema as fc.Arbitrary<unknown>, ext: 'avsc'},
  {name: 'Protobuf', arb: protoSchema as fc.Arbitrary<unknown>, ext: 'proto'},
]

describe.each(FORMATS)('$name properties', ({arb, ext}) => {
  const runs = {numRuns: Number(process.env.FC_RUNS ?? 150)}

  test('diff(a, a) is compatible with no changes, in every mode', async () => {
    await fc.assert(
      fc.asyncProperty(arb, async (a) => {
        const r = await diffVersions([json(a, `a.${ext}`), json(a, `b.${ext}`)], opts('FULL'))
        expect(r.changes).toEqual([])
        expect(r.compatible).toBe(true)
      }),
      runs,
    )
  })

  test('FULL = BACKWARD ∧ FORWARD', async () => {
    await fc.assert(
      fc.asyncProperty(arb, arb, async (a, b) => {
        const v = [json(a, `old.${ext}`), json(b, `new.${ext}`)]
        const [full, back, fwd] = await Promise.all(
          ['FULL', 'BACKWARD', 'FORWARD'].map((m) => diffVersions(v, opts(m as Mode))),
        )
        expect(full!.compatible).toBe(back!.compatible && fwd!.compatible)
      }),
      runs,
    )
  })

  test('_TRANSITIVE = the conjunction over every older version', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arb, {minLength: 2, maxLength: 4}),
        fc.constantFrom('BACKWARD', 'FORWARD', 'FULL'),
        async (list, mode) => {
          const versions = list.map((s, i) => json(s, `v${i}.${ext}`))
          const transitive = await diffVersions(versions, opts(`${mode}_TRANSITIVE` as Mode))
          const newest = versions[versions.length - 1]!
          const each = await Promise.all(
            versions.slice(0, -1).map((old) => diffVersions([old, newest], opts(mode as Mode))),
          )
          expect(transitive.compatible).toBe(each.every((r) => r.compatible))
        },
      ),
      {numRuns: 60},
    )
  })

  test('output is deterministic', async () => {
    await fc.assert(
      fc.asyncProperty(arb, arb, async (a, b) => {
        const v = [json(a, `old.${ext}`), json(b, `new.${ext}`)]
        const one = JSON.stringify(await diffVersions(v, opts('FULL')))
        const two = JSON.stringify(await diffVersions(v, opts('FULL')))
        expect(two).toBe(one)
      }),
      runs,
    )
  })

  test('NONE never breaks', async () => {
    await fc.assert(
      fc.asyncProperty(arb, arb, async (a, b) => {
        const r = await diffVersions([json(a, `old.${ext}`), json(b, `new.${ext}`)], opts('NONE'))
        expect(r.compatible).toBe(true)
      }),
      {numRuns: 50},
    )
  })
})
