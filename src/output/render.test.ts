import {describe, expect, test} from 'vitest'
import type {Envelope} from '../envelope/envelope.js'
import {
  jsonlRenderer,
  jsonlTerminalRenderer,
  prettyRenderer,
  rawRenderer,
  rawTerminalRenderer,
  safeText,
  templateRenderer,
} from './render.js'

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

  test('pretty and terminal output never pass control sequences from message data through', () => {
    const evil = 'x\x1b[2J\x1b[Hcleared\x1b]0;pwned-title\x07\r\u009b31m\u202e'
    const e: Envelope = {
      v: 1,
      offset: '1',
      key: {utf8: `k${evil}`},
      headers: [[`h${evil}`, {utf8: `v${evil}`}]],
      value: {utf8: `line1\n${evil}`},
      meta: {orderingKey: evil, groupId: evil},
    }
    const out = String(prettyRenderer({color: false})(e))
    // Nothing a terminal would act on is left; newlines only between the parts (and inside the value).
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/)
    expect(out).toContain('x\\x1b[2J\\x1b[Hcleared\\x1b]0;pwned-title\\x07\\r\\x9b31m\\u202e')
    expect(out).toContain('line1\n')
    const raw = String(rawTerminalRenderer(e))
    expect(raw).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    const t = String(templateRenderer('{key} {headers} {value}', {terminal: true})(e))
    expect(t.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    // Into a pipe, templates and raw keep the bytes exactly.
    expect(String(templateRenderer('{key}')(e))).toBe(`k${evil}\n`)
    expect(Buffer.from(rawRenderer(e)).toString()).toBe(`line1\n${evil}\n`)
    expect(safeText('plain text é ✓')).toBe('plain text é ✓')
  })

  test('JSON stored as text (spaces, pretty-printed) is JSON to templates and pretty output', () => {
    const e: Envelope = {v: 1, offset: '3', value: {utf8: '{"id": 7, "items": [1, 2]}'}}
    expect(templateRenderer('{value.id} {value.items}')(e)).toBe('7 [1,2]\n')
    expect(String(prettyRenderer({color: false})(e))).toBe(
      '#3\n{\n  "id": 7,\n  "items": [\n    1,\n    2\n  ]\n}\n',
    )
    // Text that is not JSON stays text; a path into it is empty.
    expect(templateRenderer('{value.id}|{value}')({v: 1, value: {utf8: 'nope'}})).toBe('|nope\n')
  })

  test('pretty names the topic when a read spans several', () => {
    const out = String(
      prettyRenderer({color: false, showSource: true})({...env, source: 'kafka://h:9092/payments'}),
    )
    expect(out.split('\n')[0]).toMatch(/^payments {2}#12/)
  })

  test('pretty JSON values escape what JSON.stringify leaves (DEL, C1, bidi), in values and keys', () => {
    const e: Envelope = {v: 1, offset: '1', value: {json: {'k\u202e': 'a\u202eevil\u009b2J\u007f\u200f'}}}
    const out = String(prettyRenderer({color: false})(e))
    expect(out).not.toMatch(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/)
    expect(out).toContain('a\\u202eevil\\x9b2J\\x7f\\u200f')
  })

  test('pretty shows JSON text as it is when indenting it would change more than whitespace', () => {
    const show = (utf8: string) => String(prettyRenderer({color: false})({v: 1, offset: '1', value: {utf8}}))
    expect(show('{"id":12345678901234567890,"a":1.0}')).toBe('#1\n{"id":12345678901234567890,"a":1.0}\n')
    expect(show('{"a":1,"a":2}')).toBe('#1\n{"a":1,"a":2}\n')
    expect(show('{"a": "x y",  "b": [1, 2]}')).toBe('#1\n{\n  "a": "x y",\n  "b": [\n    1,\n    2\n  ]\n}\n')
  })

  test('jsonl on a terminal escapes terminal controls as \\u, staying the same JSON', () => {
    const e: Envelope = {v: 1, key: {utf8: 'k\u009b'}, value: {utf8: 'v\u202e\u007f'}}
    const line = String(jsonlTerminalRenderer(e))
    expect(line).not.toMatch(/[\u007f-\u009f\u202a-\u202e]/)
    expect(JSON.parse(line)).toEqual(JSON.parse(String(jsonlRenderer(e))))
  })
})
