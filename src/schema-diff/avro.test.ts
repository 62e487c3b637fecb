/**
 * Avro: the specification's schema-resolution rules, one case each, as (writer, reader) pairs.
 * Every verdict is cross-checked with avsc's own resolver (`reader.createResolver(writer)`),
 * except where a case says why avsc cannot see it (logical types are not part of resolution).
 */
import avsc from 'avsc'
import {describe, expect, test} from 'vitest'
import {compareAvro} from './avro.js'

const src = (schema: unknown, name = 'x.avsc') => ({name, text: JSON.stringify(schema)})
const rec = (fields: unknown[], name = 'Order', extra: Record<string, unknown> = {}) => ({
  type: 'record',
  name,
  fields,
  ...extra,
})
const f = (name: string, type: unknown, extra: Record<string, unknown> = {}) => ({name, type, ...extra})

interface Case {
  rule: string
  writer: unknown
  reader: unknown
  breaking: string[]
  /** Non-breaking change types expected too (subset check). */
  info?: string[]
  /** avsc's resolver does not check this (say why); otherwise its verdict must equal ours. */
  avscBlind?: string
}

const CASES: Case[] = [
  {rule: 'same primitive', writer: 'int', reader: 'int', breaking: []},
  ...(
    [
      ['int', 'long'],
      ['int', 'float'],
      ['int', 'double'],
      ['long', 'float'],
      ['long', 'double'],
      ['float', 'double'],
      ['string', 'bytes'],
      ['bytes', 'string'],
    ] as const
  ).map(([w, r]) => ({
    rule: `promotion ${w} → ${r}`,
    writer: w,
    reader: r,
    breaking: [],
    info: ['TYPE_PROMOTED'],
  })),
  ...(
    [
      ['long', 'int'],
      ['double', 'float'],
      ['float', 'long'],
      ['string', 'int'],
      ['boolean', 'int'],
      ['null', 'string'],
    ] as const
  ).map(([w, r]) => ({rule: `no promotion ${w} → ${r}`, writer: w, reader: r, breaking: ['TYPE_MISMATCH']})),
  {
    rule: 'reader field added with a default',
    writer: rec([f('id', 'int')]),
    reader: rec([f('id', 'int'), f('note', 'string', {default: ''})]),
    breaking: [],
    info: ['FIELD_ADDED_WITH_DEFAULT'],
  },
  {
    rule: 'reader field added without a default',
    writer: rec([f('id', 'int')]),
    reader: rec([f('id', 'int'), f('note', 'string')]),
    breaking: ['READER_FIELD_MISSING_DEFAULT_VALUE'],
  },
  {
    rule: 'writer field the reader does not have is skipped',
    writer: rec([f('id', 'int'), f('old', 'string')]),
    reader: rec([f('id', 'int')]),
    breaking: [],
    info: ['FIELD_REMOVED'],
  },
  {
    rule: 'field renamed with an alias',
    writer: rec([f('total', 'int')]),
    reader: rec([f('amount', 'int', {aliases: ['total']})]),
    breaking: [],
    info: ['FIELD_RENAMED_WITH_ALIAS'],
  },
  {
    rule: 'record renamed without alias',
    writer: rec([f('id', 'int')], 'Order'),
    reader: rec([f('id', 'int')], 'Purchase'),
    breaking: ['NAME_MISMATCH'],
  },
  {
    rule: 'record renamed with an alias',
    writer: rec([f('id', 'int')], 'Order'),
    reader: rec([f('id', 'int')], 'Purchase', {aliases: ['Order']}),
    breaking: [],
  },
  {
    rule: 'enum symbol removed, no default',
    writer: {type: 'enum', name: 'S', symbols: ['A', 'B']},
    reader: {type: 'enum', name: 'S', symbols: ['A']},
    breaking: ['MISSING_ENUM_SYMBOLS'],
  },
  {
    rule: 'enum symbol removed, reader default',
    writer: {type: 'enum', name: 'S', symbols: ['A', 'B']},
    reader: {type: 'enum', name: 'S', symbols: ['A', 'U'], default: 'U'},
    breaking: [],
    info: ['ENUM_SYMBOLS_REMOVED_WITH_DEFAULT', 'ENUM_SYMBOLS_ADDED'],
  },
  {
    rule: 'enum symbol added',
    writer: {type: 'enum', name: 'S', symbols: ['A']},
    reader: {type: 'enum', name: 'S', symbols: ['A', 'B']},
    breaking: [],
    info: ['ENUM_SYMBOLS_ADDED'],
  },
  {
    rule: 'fixed size changed',
    writer: {type: 'fixed', name: 'H', size: 16},
    reader: {type: 'fixed', name: 'H', size: 32},
    breaking: ['FIXED_SIZE_MISMATCH'],
  },
  {
    rule: 'fixed renamed',
    writer: {type: 'fixed', name: 'H', size: 16},
    reader: {type: 'fixed', name: 'G', size: 16},
    breaking: ['NAME_MISMATCH'],
  },
  {
    rule: 'array items promoted',
    writer: {type: 'array', items: 'int'},
    reader: {type: 'array', items: 'long'},
    breaking: [],
  },
  {
    rule: 'map values changed',
    writer: {type: 'map', values: 'int'},
    reader: {type: 'map', values: 'string'},
    breaking: ['TYPE_MISMATCH'],
  },
  {
    rule: 'writer union, reader lacks a branch',
    writer: ['null', 'string', 'int'],
    reader: ['null', 'string'],
    breaking: ['MISSING_UNION_BRANCH'],
  },
  {
    rule: 'writer union, reader a branch type',
    writer: ['null', 'string'],
    reader: 'string',
    breaking: ['TYPE_MISMATCH'],
  },
  {
    rule: 'writer non-union, reader union with it',
    writer: 'string',
    reader: ['null', 'string'],
    breaking: [],
    info: ['TYPE_WIDENED_TO_UNION'],
  },
  {
    rule: 'union branch promoted',
    writer: ['null', 'int'],
    reader: ['null', 'long'],
    breaking: [],
  },
  {
    rule: 'union gains a branch',
    writer: ['null', 'int'],
    reader: ['null', 'int', 'string'],
    breaking: [],
    info: ['UNION_BRANCH_ADDED'],
  },
  {
    rule: 'recursive record (linked list) unchanged',
    writer: rec([f('value', 'int'), f('next', ['null', 'Node'])], 'Node'),
    reader: rec([f('value', 'int'), f('next', ['null', 'Node'])], 'Node'),
    breaking: [],
  },
  {
    rule: 'recursive record changed deep inside',
    writer: rec([f('value', 'int'), f('next', ['null', 'Node'])], 'Node'),
    reader: rec([f('value', 'string'), f('next', ['null', 'Node'])], 'Node'),
    breaking: ['TYPE_MISMATCH'],
  },
  {
    rule: 'every incompatibility is listed, not just the first',
    writer: rec([
      f('a', 'int'),
      f('b', {type: 'enum', name: 'E', symbols: ['X', 'Y']}),
      f('c', {type: 'fixed', name: 'F', size: 2}),
    ]),
    reader: rec([
      f('a', 'string'),
      f('b', {type: 'enum', name: 'E', symbols: ['X']}),
      f('c', {type: 'fixed', name: 'F', size: 4}),
      f('d', 'int'),
    ]),
    breaking: [
      'FIXED_SIZE_MISMATCH',
      'MISSING_ENUM_SYMBOLS',
      'READER_FIELD_MISSING_DEFAULT_VALUE',
      'TYPE_MISMATCH',
    ],
  },
  {
    rule: 'decimal scale changed',
    writer: {type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2},
    reader: {type: 'bytes', logicalType: 'decimal', precision: 10, scale: 4},
    breaking: ['DECIMAL_SCALE_CHANGED'],
    avscBlind: 'logical types are not part of Avro resolution; the same bytes would mean another number',
  },
]

describe('Avro resolution rules', () => {
  for (const c of CASES) {
    test(c.rule, async () => {
      const changes = await compareAvro(src(c.writer), src(c.reader), 'backward')
      const breaking = [...new Set(changes.filter((x) => x.breaking).map((x) => x.type))].sort()
      expect(breaking).toEqual([...c.breaking].sort())
      for (const t of c.info ?? []) expect(changes.map((x) => x.type)).toContain(t)
      if (c.avscBlind) return
      const w = avsc.Type.forSchema(c.writer as never, {wrapUnions: true})
      const r = avsc.Type.forSchema(c.reader as never, {wrapUnions: true})
      let avscOk = true
      try {
        r.createResolver(w)
      } catch {
        avscOk = false
      }
      expect(avscOk, 'avsc agrees').toBe(c.breaking.length === 0)
    })
  }

  test('the same schema has no changes', async () => {
    const s = rec([f('id', 'int'), f('tags', {type: 'array', items: 'string'})])
    expect(await compareAvro(src(s), src(s), 'backward')).toEqual([])
  })

  test('an invalid schema is unusable input naming the file', async () => {
    await expect(
      compareAvro(src({type: 'record', name: 'X'}, 'bad.avsc'), src('int'), 'backward'),
    ).rejects.toMatchObject({
      file: 'bad.avsc',
      code: 'SCHEMA_INVALID',
    })
    await expect(
      compareAvro({name: 'bad.avsc', text: '{"type": "record",\n "name": }'}, src('int'), 'backward'),
    ).rejects.toMatchObject({
      file: 'bad.avsc',
      line: 2,
    })
  })

  test('forward messages say what happened from old to new', async () => {
    const [c] = await compareAvro(src(rec([f('total', 'string')])), src(rec([f('total', 'int')])), 'forward')
    expect(c!.message).toBe(
      '`Order.total`: changed from int to string: readers on the old schema cannot read some new events',
    )
  })
})
