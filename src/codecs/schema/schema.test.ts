import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import avsc from 'avsc'
import protobuf from 'protobufjs'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import type {Envelope} from '../../envelope/envelope.js'
import {buildFilter} from '../../services/filter.js'
import {addDecoded, prepareDecoded, prepareView, viewOf} from '../chain.js'
import {checkAvro, compileAvro} from './avro.js'
import {compileProtobuf} from './protobuf.js'
import {decodingFor, registrySettings} from './setup.js'
import {readFrame, readMessageIndexes, writeFrame, writeMessageIndexes} from './wire.js'

const ORDER = {
  type: 'record',
  name: 'Order',
  namespace: 'acme',
  fields: [
    {name: 'id', type: 'long'},
    {name: 'total', type: 'double'},
    {name: 'note', type: ['null', 'string'], default: null},
    {name: 'tags', type: {type: 'array', items: 'string'}},
  ],
}

const PROTO = `syntax = "proto3";
package acme.v1;
message Envelope { string trace = 1; }
message Order {
  int64 id = 1;
  message Line { string sku = 1; int32 qty = 2; }
  repeated Line lines = 2;
  Status status = 3;
}
enum Status { NEW = 0; PAID = 1; }
`

describe('Confluent wire format', () => {
  test('magic byte, big-endian id, and Protobuf message indexes as Confluent writes them', () => {
    const f = writeFrame(258, Buffer.from([9]))
    expect([...f]).toEqual([0, 0, 0, 1, 2, 9])
    expect(readFrame(f)).toEqual({id: 258, body: Buffer.from([9])})
    expect(readFrame(Buffer.from([1, 0, 0, 0, 1]))).toBeUndefined()
    expect(readFrame(Buffer.from([0, 0, 0]))).toBeUndefined()
    // [0] is the one byte 0; [1, 0] is count 2, 1, 0 as zig-zag varints.
    expect([...writeMessageIndexes([0])]).toEqual([0])
    expect([...writeMessageIndexes([1, 0])]).toEqual([4, 2, 0])
    expect(readMessageIndexes(Buffer.from([4, 2, 0, 99]))).toEqual({indexes: [1, 0], offset: 3})
    expect(readMessageIndexes(Buffer.from([0, 99]))).toEqual({indexes: [0], offset: 1})
    expect(() => readMessageIndexes(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80]))).toThrow(/overlong/)
    expect(() => readMessageIndexes(Buffer.from([1]))).toThrow(/bad Protobuf message index count/)
  })
})

describe('Avro', () => {
  test('reads what avsc itself wrote, in Avro JSON encoding (unions wrapped), and writes it back', async () => {
    const theirs = avsc.Type.forSchema(ORDER as avsc.Schema)
    const bytes = theirs.toBuffer({id: 7, total: 42.5, note: 'hi', tags: ['a', 'b']})
    const codec = await compileAvro(JSON.stringify(ORDER))
    const value = codec.decode(bytes)
    expect(value).toEqual({id: 7, total: 42.5, note: {string: 'hi'}, tags: ['a', 'b']})
    expect(codec.encode(value).equals(bytes)).toBe(true)
  })

  test('a recursive schema (a linked list) reads as avsc writes it, as values and as JSON text', async () => {
    const list = {
      type: 'record',
      name: 'Node',
      fields: [
        {name: 'v', type: 'long'},
        {name: 'next', type: ['null', 'Node']},
      ],
    }
    const theirs = avsc.Type.forSchema(list as avsc.Schema)
    const value = {v: 1, next: {Node: {v: 2, next: {Node: {v: 3, next: null}}}}}
    const bytes = theirs.toBuffer(theirs.fromString(JSON.stringify(value)))
    const codec = await compileAvro(JSON.stringify(list))
    expect(codec.decode(bytes)).toEqual(value)
    expect(codec.decodeJson?.(bytes)).toBe(JSON.stringify(value))
  })

  test('input that does not fit names the field', async () => {
    const codec = await compileAvro(JSON.stringify(ORDER))
    expect(() => codec.encode({id: 'x', total: 1, note: null, tags: []})).toThrow(/field "id": expected long/)
    expect(() => codec.encode({id: 1, total: 1, note: 'plain', tags: []})).toThrow(/field "note"/)
    expect(() => codec.encode({id: 1, total: 1, note: null})).toThrow(/field "tags"/)
  })

  // Apache Avro's shared must-reject vectors (share/test/data/binary-rejections.json, AVRO-4304),
  // plus counts that would make avsc loop for a very long time.
  const rejections: Array<[string, unknown, string]> = [
    ['long_varint_non_terminating', 'long', '80808080808080808080'],
    ['int_varint_non_terminating', 'int', '8080808080'],
    ['array_block_count_int64_min', {type: 'array', items: 'int'}, 'ffffffffffffffffff0102'],
    ['bytes_length_negative', 'bytes', '01'],
    ['string_length_negative', 'string', '01'],
    ['union_branch_index_negative', ['null', 'int'], '01'],
    ['union_branch_index_too_large', ['null', 'int'], '0a'],
    ['enum_index_negative', {type: 'enum', name: 'E', symbols: ['A', 'B']}, '01'],
    ['enum_index_too_large', {type: 'enum', name: 'E', symbols: ['A', 'B']}, '0a'],
    ['array_of_nulls_2^31_items', {type: 'array', items: 'null'}, 'feffffff0f00'],
    ['map_count_beyond_bytes', {type: 'map', values: 'int'}, 'feffffff0f00'],
    ['string_length_beyond_bytes', 'string', 'c8016162'],
    ['trailing_bytes', 'int', '0202'],
    [
      'deep_recursion',
      {type: 'record', name: 'N', fields: [{name: 'next', type: ['null', 'N']}]},
      '02'.repeat(5000),
    ],
  ]
  test.each(rejections)('rejects %s in bounded time', async (_name, schema, hex) => {
    const codec = await compileAvro(JSON.stringify(schema))
    const started = performance.now()
    expect(() => codec.decode(Buffer.from(hex, 'hex'))).toThrow()
    expect(performance.now() - started).toBeLessThan(500)
  })

  test('the checker accepts everything avsc writes, blocks with sizes included', async () => {
    const type = avsc.Type.forSchema({
      type: 'record',
      name: 'All',
      fields: [
        {name: 'm', type: {type: 'map', values: ['null', 'double']}},
        {name: 'f', type: {type: 'fixed', name: 'F', size: 3}},
        {name: 'b', type: 'bytes'},
        {name: 'nulls', type: {type: 'array', items: 'null'}},
        {name: 'e', type: {type: 'enum', name: 'E', symbols: ['X', 'Y']}},
        {name: 'ok', type: 'boolean'},
        {name: 'fl', type: 'float'},
      ],
    } as avsc.Schema)
    for (let i = 0; i < 50; i++) expect(() => checkAvro(type, type.toBuffer(type.random()))).not.toThrow()
  })

  test("decoded values are exactly what a JSON round trip of avsc's value gives (none is made)", async () => {
    const schema = {
      type: 'record',
      name: 'Node',
      namespace: 'acme',
      fields: [
        {name: 'm', type: {type: 'map', values: ['null', 'double', {type: 'fixed', name: 'F', size: 3}]}},
        {name: 'b', type: 'bytes'},
        {name: 'e', type: {type: 'enum', name: 'E', symbols: ['X', 'Y']}},
        {name: 'fl', type: 'float'},
        {name: 'd', type: 'double'},
        {name: 'l', type: 'long'},
        {name: 's', type: ['null', 'string', 'acme.E', {type: 'array', items: 'bytes'}]},
        {name: 'rows', type: {type: 'array', items: {type: 'map', values: 'int'}}},
        {name: 'next', type: ['null', 'acme.Node'], default: null},
      ],
    }
    const codec = await compileAvro(JSON.stringify(schema))
    const type = codec.type
    const odd = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e21, 0.1]
    for (let i = 0; i < 200; i++) {
      const v = type.random() as unknown as Record<string, unknown>
      // random() never makes these: NaN, ±Infinity and -0 must come out as JSON writes them.
      v.d = odd[i % odd.length]
      v.fl = i % 3 === 0 ? Number.NaN : v.fl
      if (i % 5 === 0) v.next = {'acme.Node': {...v, next: null}}
      const bytes = type.toBuffer(v)
      expect(codec.decode(bytes)).toStrictEqual(JSON.parse(type.toString(type.fromBuffer(bytes))))
    }
  })

  test('JSON text straight from the bytes is exactly JSON.stringify of the decoded value', async () => {
    const schema = {
      type: 'record',
      name: 'Node',
      namespace: 'acme',
      fields: [
        {name: 'b', type: 'bytes'},
        {name: 'f', type: {type: 'fixed', name: 'F', size: 3}},
        {name: 'e', type: {type: 'enum', name: 'E', symbols: ['X', 'Y']}},
        {name: 'fl', type: 'float'},
        {name: 'd', type: 'double'},
        {name: 'l', type: 'long'},
        {name: 'i', type: 'int'},
        {name: 'ok', type: 'boolean'},
        {name: 'n', type: 'null'},
        {name: 's', type: ['null', 'string', 'acme.E', {type: 'array', items: 'bytes'}]},
        {name: 'rows', type: {type: 'array', items: {type: 'array', items: 'long'}}},
        {name: 'empty', type: {type: 'record', name: 'Empty', fields: []}},
        {name: 'next', type: ['null', 'acme.Node'], default: null},
      ],
    }
    const codec = await compileAvro(JSON.stringify(schema))
    const type = codec.type
    const text = codec.decodeJson!
    const odd = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e21, 0.1, 5e-324]
    const strings = ['', 'plain', 'quote " and \\ back', 'ctl \u0000\u001f\n', 'emoji 😀 é', 'lone \ud800']
    for (let i = 0; i < 300; i++) {
      const v = type.random() as unknown as Record<string, unknown>
      v.d = odd[i % odd.length]
      v.fl = i % 3 === 0 ? Number.NaN : v.fl
      v.l = [0, -1, 2 ** 53 - 3, -(2 ** 53 - 3), 123456789012][i % 5]
      v.i = [0, -1, 2 ** 31 - 1, -(2 ** 31)][i % 4]
      v.s = i % 4 === 0 ? {string: strings[i % strings.length]} : v.s
      v.b = Buffer.from([0, 1, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0xff].slice(0, i % 9))
      if (i % 5 === 0) v.next = {'acme.Node': {...v, next: null}}
      const bytes = type.toBuffer(v)
      expect(text(bytes)).toBe(JSON.stringify(codec.decode(bytes)))
    }
    // Invalid UTF-8 is replaced as Buffer (and avsc) decode it.
    const s = await compileAvro('"string"')
    const bad = Buffer.from([8, 0x61, 0xff, 0xc3, 0x62])
    expect(s.decodeJson!(bad)).toBe(JSON.stringify(s.decode(bad)))
    // A block with a negative count (then its size in bytes), as other writers may write arrays.
    const arr = await compileAvro('{"type": "array", "items": "int"}')
    const blocks = Buffer.from([3, 2, 2, 4, 2, 6, 0]) // -2 items (2 bytes): 1, 2; then 1 item: 3
    expect(arr.decodeJson!(blocks)).toBe('[1,2,3]')
    expect(arr.decode(blocks)).toEqual([1, 2, 3])
    // The same failures as the value path.
    const long = await compileAvro('"long"')
    const big = avsc.Type.forSchema('long').toBuffer(2 ** 53 - 3)
    big[0] = 0xfe // beyond 2^53
    expect(() => long.decode(big)).toThrow('potential precision loss')
    expect(() => long.decodeJson!(big)).toThrow('potential precision loss')
    for (const broken of [Buffer.from([0x22]), Buffer.from([]), Buffer.from([2, 0x61])]) {
      const why = (() => {
        try {
          codec.decode(broken)
        } catch (err) {
          return (err as Error).message
        }
      })()
      expect(why).toBeDefined()
      expect(() => codec.decodeJson!(broken)).toThrow(why)
    }
    // A map keeps the value path (avsc resolves its duplicate keys as an object does).
    expect((await compileAvro('{"type": "map", "values": "int"}')).decodeJson).toBeUndefined()
  })
})

describe('Protobuf', () => {
  test('message indexes pick nested messages; JSON mapping out, binary back', async () => {
    const codec = await compileProtobuf({name: 'order.proto', text: PROTO})
    expect(codec.messageAt([1, 0]).fullName).toBe('.acme.v1.Order.Line')
    expect(codec.messageAt([1]).fullName).toBe('.acme.v1.Order')
    expect(codec.indexesOf(codec.lookup('acme.v1.Order.Line'))).toEqual([1, 0])
    expect(() => codec.messageAt([5])).toThrow(/no message at index path/)
    // Written by protobufjs on its own, as another producer would.
    const root = protobuf.parse(PROTO).root
    const Order = root.lookupType('acme.v1.Order')
    const bytes = Order.encode(
      Order.fromObject({id: '9007199254740993', lines: [{sku: 'x', qty: 2}], status: 1}),
    ).finish()
    const value = codec.decode(codec.lookup('acme.v1.Order'), bytes)
    expect(value).toEqual({id: '9007199254740993', lines: [{sku: 'x', qty: 2}], status: 'PAID'})
    expect(codec.encode(codec.lookup('acme.v1.Order'), value).equals(Buffer.from(bytes))).toBe(true)
  })

  test('input that does not fit names the field', async () => {
    const codec = await compileProtobuf({name: 'order.proto', text: PROTO})
    const Order = codec.lookup('acme.v1.Order')
    expect(() => codec.encode(Order, {id: 'abc'})).toThrow(/field "id": expected a 64-bit integer/)
    expect(() => codec.encode(Order, {lines: [{qty: 'two'}]})).toThrow(/field "lines\[0\].qty"/)
    expect(() => codec.encode(Order, {status: 'LOST'})).toThrow(/field "status": expected one of NEW, PAID/)
    expect(() => codec.encode(Order, {nope: 1})).toThrow(/field "nope": message Order has no such field/)
  })
})

/** A stand-in registry (the Confluent API) that counts requests; the real one runs in integration. */
let server: Server
let url: string
const requests: string[] = []
const schemas: Record<number, object> = {
  1: {schema: JSON.stringify(ORDER)},
  2: {schema: PROTO, schemaType: 'PROTOBUF'},
  3: {schema: JSON.stringify({type: 'object', required: ['id']}), schemaType: 'JSON'},
}
beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url!)
    const id = Number(/\/schemas\/ids\/(\d+)$/.exec(req.url!)?.[1])
    const s = schemas[id]
    res.writeHead(s ? 200 : 404, {'content-type': 'application/json'})
    res.end(JSON.stringify(s ?? {error_code: 40403, message: 'Schema not found'}))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('decoding through a registry', () => {
  const avroType = avsc.Type.forSchema(ORDER as avsc.Schema)
  const framedAvro = (id: number, total: number) =>
    writeFrame(1, avroType.toBuffer({id, total, note: null, tags: []})).toString('base64')

  test('one request per schema id, however many messages; schema and decoded beside the bytes', async () => {
    requests.length = 0
    const d = (await decodingFor({}, {url}))!
    const envs: Envelope[] = Array.from({length: 200}, (_, i) => ({
      v: 1,
      value: {base64: framedAvro(i, i * 2)},
    }))
    for (const env of envs) {
      const view = await prepareView(env, d.value, d.key)
      expect(addDecoded(env, view)).toBe(0)
    }
    expect(requests).toEqual(['/schemas/ids/1'])
    expect(envs[3]).toMatchObject({
      schema: {id: 1, type: 'AVRO'},
      decoded: {id: 3, total: 6, note: null, tags: []},
    })
    expect(envs[3]!.value).toEqual({base64: framedAvro(3, 6)})
    // --where sees the decoded value.
    const filter = buildFilter({where: 'value.total > 390 and schema.id = 1'})!
    const kept = []
    for (const env of envs) if (await filter(env)) kept.push(env.decoded)
    expect(kept).toEqual([
      {id: 196, total: 392, note: null, tags: []},
      {id: 197, total: 394, note: null, tags: []},
      {id: 198, total: 396, note: null, tags: []},
      {id: 199, total: 398, note: null, tags: []},
    ])
  })

  test('Protobuf with a nested message index, JSON Schema, base64 text bodies (SQS), plain JSON untouched', async () => {
    const d = (await decodingFor({}, {url}))!
    const root = protobuf.parse(PROTO).root
    const Line = root.lookupType('acme.v1.Order.Line')
    const pbBody = Buffer.concat([Buffer.from([4, 2, 0]), Line.encode({sku: 'k', qty: 3}).finish()])
    const cases: Array<[Envelope, Partial<Envelope>]> = [
      [
        {v: 1, value: {base64: writeFrame(2, pbBody).toString('base64')}},
        {schema: {id: 2, type: 'PROTOBUF', message: 'acme.v1.Order.Line'}, decoded: {sku: 'k', qty: 3}},
      ],
      [
        {v: 1, value: {utf8: `\u0000\u0000\u0000\u0000\u0003{"id":5}`}},
        {schema: {id: 3, type: 'JSON'}, decoded: {id: 5}},
      ],
      [{v: 1, value: {utf8: framedAvro(4, 8)}}, {decoded: {id: 4, total: 8, note: null, tags: []}}],
      [{v: 1, value: {json: {plain: true}}}, {}],
    ]
    for (const [env, want] of cases) {
      addDecoded(env, await prepareView(env, d.value, d.key))
      expect(env).toMatchObject(want)
      if (Object.keys(want).length === 0) expect(env).toEqual({v: 1, value: {json: {plain: true}}})
    }
  })

  test('unknown id, corrupt bytes, a registry that is down: shown raw with decodeError, one request per id', async () => {
    requests.length = 0
    const d = (await decodingFor({}, {url}))!
    const unknown: Envelope = {v: 1, value: {base64: writeFrame(77, Buffer.from([1, 2])).toString('base64')}}
    const again: Envelope = {v: 1, value: {base64: writeFrame(77, Buffer.from([3])).toString('base64')}}
    // A stored copy that says it decoded once: this read's finding replaces it.
    const truncated: Envelope = {
      v: 1,
      value: {base64: writeFrame(1, Buffer.from([2])).toString('base64')},
      schema: {id: 1, type: 'AVRO'},
      decoded: {stale: true},
    }
    for (const env of [unknown, again, truncated])
      expect(addDecoded(env, await prepareView(env, d.value, d.key))).toBe(1)
    expect(unknown.decodeError).toMatch(/schema id 77: .*has no schema id 77/)
    expect(truncated.decodeError).toBe('Avro: truncated data')
    expect(truncated.decoded).toBeUndefined()
    expect(requests).toEqual(['/schemas/ids/77', '/schemas/ids/1'])

    const down = (await decodingFor({}, {url: 'http://127.0.0.1:9', timeoutMs: 2000}))!
    const env: Envelope = {v: 1, value: {base64: framedAvro(1, 1)}}
    expect(addDecoded(env, await prepareView(env, down.value, down.key))).toBe(1)
    expect(env.decodeError).toMatch(/did not answer/)
  })

  test('--decode naming a format: data that is not framed is a failure; auto leaves it alone', async () => {
    const forced = (await decodingFor({mode: 'avro'}, {url}))!
    const env: Envelope = {v: 1, key: {utf8: 'k'}, value: {utf8: 'hello'}}
    expect(addDecoded(env, await prepareView(env, forced.value, forced.key))).toBe(1)
    expect(env.decodeError).toMatch(/first byte is 104, not the magic byte 0/)
    expect(env.keyDecodeError).toBeUndefined()
    const wrongType: Envelope = {v: 1, value: {utf8: `\u0000\u0000\u0000\u0000\u0003{"id":5}`}}
    addDecoded(wrongType, await prepareView(wrongType, forced.value, forced.key))
    expect(wrongType.decodeError).toMatch(/schema id 3 is JSON, not AVRO/)
    await expect(decodingFor({mode: 'protobuf'}, undefined)).rejects.toThrow(/needs a schema/)
    expect(await decodingFor({}, undefined)).toBeUndefined()
  })
})

describe('registry settings from a context', () => {
  const ctx = {
    name: 'prod',
    broker: 'kafka',
    'schema-registry': {url: 'https://sr.example.com', username: 'u', 'password-command': 'printf s3cret'},
  }
  test("credentials from the command go to the context's own registry, and to no other URL", async () => {
    expect(await registrySettings(undefined, ctx)).toEqual({
      url: 'https://sr.example.com',
      username: 'u',
      password: 's3cret',
    })
    const warnings: string[] = []
    const other = await registrySettings('https://elsewhere.example.com', ctx, {
      emit: (e) => warnings.push(e.message),
    })
    expect(other).toEqual({url: 'https://elsewhere.example.com'})
    expect(warnings.join()).toMatch(/not sent to https:\/\/elsewhere/)
    await expect(
      registrySettings(undefined, {name: 'x', 'schema-registry': {url: 'http://a', pasword: 'typo'}}),
    ).rejects.toThrow(/unknown schema-registry setting "pasword"/)
    await expect(registrySettings('ftp://x', undefined)).rejects.toThrow(/not an http\(s\) URL/)
  })

  test('config view redacts them', async () => {
    const {redact} = await import('../../config/config.js')
    expect(
      redact({
        'schema-registry': {
          url: 'https://u:pw@sr',
          password: 'p',
          'password-command': 'pass show x',
          token: 't',
        },
      }),
    ).toEqual({
      'schema-registry': {
        url: 'https://u:<redacted>@sr',
        password: '<redacted>',
        'password-command': '<redacted>',
        token: '<redacted>',
      },
    })
  })
})

describe('filters that see decoded values without changing the envelope (replay --where)', () => {
  test('prepareDecoded makes the view; the envelope stays as read', async () => {
    const d = (await decodingFor({}, {url}))!
    const type = avsc.Type.forSchema(ORDER as avsc.Schema)
    const env: Envelope = {
      v: 1,
      value: {
        base64: writeFrame(1, type.toBuffer({id: 1, total: 50, note: null, tags: []})).toString('base64'),
      },
    }
    const before = JSON.stringify(env)
    await prepareDecoded(env, d)
    expect(JSON.stringify(env)).toBe(before)
    expect(viewOf(env).value?.data).toMatchObject({total: 50})
    expect(await buildFilter({where: 'value.total = 50'})!(env)).toBe(true)
  })
})
