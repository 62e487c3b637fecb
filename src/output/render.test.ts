import {describe, expect, test} from 'vitest'
import type {Envelope} from '../envelope/envelope.js'
import {jsonlRenderer, prettyRenderer, rawRenderer, templateRenderer} from './render.js'

const env: Envelope = {
  v: 1,
  source: 'file:///t/orders.jsonl',
  partition: 0,
  offset: '12',
  timestamp: '2026-11-23T10:04:05.123Z',
  key: {utf8: 'order-17'},
  headers: [['trace-id', {utf8: 'abc'}]],
  value: {json: {id: 17, nested: {n: 1}}},
}

describe('renderers', () => {
  test('jsonl is one envelope line', () => {
    expect(jsonlRenderer(env)).toBe(
      '{"v":1,"source":"file:///t/orders.jsonl","partition":0,"offset":"12","timestamp":"2026-11-23T10:04:05.123Z","key":{"utf8":"order-17"},"headers":[["trace-id",{"utf8":"abc"}]],"value":{"json":{"id":17,"nested":{"n":1}}}}\n',
    )
  })

  test('raw is the exact value bytes plus a newline; a tombstone is an empty line', () => {
    expect(Buffer.from(rawRenderer({v: 1, value: {base64: '/wA='}}))).toEqual(Buffer.from([0xff, 0, 10]))
    expect(Buffer.from(rawRenderer(env)).toString()).toBe('{"id":17,"nested":{"n":1}}\n')
    expect(Buffer.from(rawRenderer({v: 1, value: null})).toString()).toBe('\n')
  })

  test('pretty without colour', () => {
    expect(prettyRenderer({color: false})(env)).toBe(
      '#12  2026-11-23T10:04:05.123Z  p0  key=order-17\n  trace-id: abc\n{\n  "id": 17,\n  "nested": {\n    "n": 1\n  }\n}\n',
    )
    expect(prettyRenderer({color: false})({v: 1, offset: '1', value: null})).toContain('tombstone')
    expect(prettyRenderer({color: false})({v: 1, offset: '1', value: {base64: '/wA='}})).toContain(
      '(binary, 2 bytes)',
    )
  })

  test('pretty with colour uses ANSI escapes', () => {
    expect(prettyRenderer({color: true})(env)).toContain('\u001b[')
  })

  test('templates', () => {
    expect(
      templateRenderer('{offset}\\t{key} {value.id} {value.nested.n} {headers.trace-id} {headers.none}|')(
        env,
      ),
    ).toBe('12\torder-17 17 1 abc |\n')
    expect(templateRenderer('{value}')(env)).toBe('{"id":17,"nested":{"n":1}}\n')
    expect(templateRenderer('{headers}')(env)).toBe('trace-id=abc\n')
  })

  test('an unknown template field is exit 2 listing the fields', () => {
    expect(() => templateRenderer('{nope}')).toThrow(
      expect.objectContaining({exitCode: 2, hint: expect.stringContaining('{offset}')}),
    )
  })
})
