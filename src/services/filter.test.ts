import {describe, expect, test} from 'vitest'
import type {Envelope} from '../envelope/envelope.js'
import {buildFilter, filterView} from './filter.js'

const env = (over: Partial<Envelope> = {}): Envelope => ({
  v: 1,
  offset: '5',
  key: {utf8: 'order-17'},
  headers: [
    ['trace-id', {utf8: 'abc-123'}],
    ['tag', {utf8: 'x'}],
    ['tag', {utf8: 'y'}],
  ],
  value: {json: {id: 17, total: 42.5, status: 'paid'}},
  ...over,
})

describe('buildFilter', () => {
  test('no filters → undefined (nothing to evaluate per message)', () => {
    expect(buildFilter({})).toBeUndefined()
  })

  test('key glob', async () => {
    const f = buildFilter({key: 'order-*'})!
    expect(await f(env())).toBe(true)
    expect(await f(env({key: {utf8: 'invoice-1'}}))).toBe(false)
    expect(await f(env({key: null}))).toBe(false)
  })

  test('header globs: all must match; any header of that name may match', async () => {
    expect(await buildFilter({headers: [['tag', 'y']]})!(env())).toBe(true)
    expect(
      await buildFilter({
        headers: [
          ['trace-id', 'abc-*'],
          ['tag', 'z'],
        ],
      })!(env()),
    ).toBe(false)
    expect(await buildFilter({headers: [['missing', '*']]})!(env())).toBe(false)
  })

  test('--where JSONata over value, key, headers', async () => {
    expect(await buildFilter({where: 'value.total > 40 and value.status = "paid"'})!(env())).toBe(true)
    expect(await buildFilter({where: 'value.total > 50'})!(env())).toBe(false)
    expect(await buildFilter({where: 'headers."trace-id" = "abc-123"'})!(env())).toBe(true)
    expect(await buildFilter({where: '"y" in headers.tag'})!(env())).toBe(true)
    expect(await buildFilter({where: '$contains(key, "17")'})!(env())).toBe(true)
    expect(await buildFilter({where: 'value.missing'})!(env())).toBe(false)
  })

  test('a text value is visible as a string; binary as {base64}', () => {
    expect(filterView(env({value: {utf8: 'hi'}})).value).toBe('hi')
    expect(filterView(env({value: {base64: 'AA=='}})).value).toEqual({base64: 'AA=='})
    expect(filterView(env({value: null})).value).toBeNull()
  })

  test('a syntax error is exit 2 at build time, with a position and an example', () => {
    expect(() => buildFilter({where: 'value.total >'})).toThrow(
      expect.objectContaining({exitCode: 2, code: 'BAD_EXPRESSION'}),
    )
  })
})

describe('filters on what users see', () => {
  test('an empty glob matches an empty key or header value, and nothing else', async () => {
    const f = buildFilter({key: ''})!
    expect(await f(env({key: {utf8: ''}}))).toBe(true)
    expect(await f(env())).toBe(false)
    expect(await f(env({key: null}))).toBe(false)
    const h = buildFilter({headers: [['a', '']]})!
    expect(await h(env({headers: [['a', {utf8: ''}]]}))).toBe(true)
    expect(await h(env({headers: [['a', {utf8: 'x'}]]}))).toBe(false)
  })

  test('JSON stored as text (Python json.dumps, pretty-printed) is parsed for --where', async () => {
    const f = buildFilter({where: 'value.total > 40'})!
    expect(await f(env({value: {utf8: '{"id": 1, "total": 42.5}'}}))).toBe(true)
    expect(await f(env({value: {utf8: '{\n  "total": 3\n}'}}))).toBe(false)
    expect(filterView(env({value: {utf8: 'not {json'}})).value).toBe('not {json')
  })
})
