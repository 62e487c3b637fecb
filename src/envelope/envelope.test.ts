import fc from 'fast-check'
import {describe, expect, test} from 'vitest'
import {decodeEnvelope} from './decode.js'
import {type Envelope, encodeEnvelope} from './envelope.js'
import {type Payload, payloadBytes, toPayload} from './payload.js'

const bytesArb = fc.uint8Array({maxLength: 64})
const payloadArb: fc.Arbitrary<Payload> = fc.oneof(
  bytesArb.map((b) => toPayload(b)),
  fc.string().map((s) => toPayload(Buffer.from(s))),
  fc.jsonValue().map((j) => toPayload(Buffer.from(JSON.stringify(j)))),
)
const envelopeArb: fc.Arbitrary<Envelope> = fc.record(
  {
    v: fc.constant(1 as const),
    source: fc.string(),
    partition: fc.nat(),
    offset: fc.bigInt({min: 0n, max: 2n ** 63n - 1n}).map(String),
    timestamp: fc
      .date({noInvalidDate: true, min: new Date(0), max: new Date(4e12)})
      .map((d) => d.toISOString()),
    timestampType: fc.constantFrom('create' as const, 'append' as const),
    key: fc.option(payloadArb, {nil: null}),
    headers: fc.array(fc.tuple(fc.string(), fc.option(payloadArb, {nil: null}))),
    value: fc.option(payloadArb, {nil: null}),
    meta: fc.record(
      {
        messageId: fc.string(),
        orderingKey: fc.string(),
        groupId: fc.string(),
        dedupId: fc.string(),
        deliveryAttempt: fc.nat(),
        system: fc.dictionary(
          fc.string().filter((k) => k !== '__proto__'),
          fc.string(),
        ),
      },
      {requiredKeys: []},
    ),
  },
  {requiredKeys: ['v', 'value']},
)

describe('payload', () => {
  test('any bytes round-trip exactly through toPayload → payloadBytes', () => {
    fc.assert(
      fc.property(bytesArb, (b) => {
        expect(payloadBytes(toPayload(b))).toEqual(Buffer.from(b))
      }),
    )
  })

  test('any text round-trips exactly, JSON or not', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((j) => JSON.stringify(j, null, 1)),
        ),
        (s) => {
          expect(payloadBytes(toPayload(Buffer.from(s))).toString()).toBe(s)
        },
      ),
    )
  })

  test('chooses json only when it re-serialises to the same bytes', () => {
    expect(toPayload(Buffer.from('{"id":17}'))).toEqual({json: {id: 17}})
    expect(toPayload(Buffer.from('{ "id": 17 }'))).toEqual({utf8: '{ "id": 17 }'})
    expect(toPayload(Buffer.from('1e5'))).toEqual({utf8: '1e5'})
    expect(toPayload(Buffer.from('12345678901234567890'))).toEqual({utf8: '12345678901234567890'})
    expect(toPayload(Buffer.from('{"a":1,"a":2}'))).toEqual({utf8: '{"a":1,"a":2}'})
    expect(toPayload(Buffer.from([0xff, 0x00]))).toEqual({base64: '/wA='})
    expect(toPayload(Buffer.from('true'), {json: false})).toEqual({utf8: 'true'})
  })

  test('keeps a UTF-8 byte-order mark', () => {
    const b = Buffer.from([0xef, 0xbb, 0xbf, 0x41])
    expect(payloadBytes(toPayload(b))).toEqual(b)
  })
})

describe('envelope', () => {
  test('random envelopes round-trip: decode(encode(e)) equals e, and re-encoding is byte-exact', () => {
    fc.assert(
      fc.property(envelopeArb, (env) => {
        const line = encodeEnvelope(env)
        const back = decodeEnvelope(line)
        expect(back).toEqual(env)
        expect(encodeEnvelope(back)).toBe(line)
      }),
      {numRuns: 300},
    )
  })

  test('the hand-built line is exactly JSON.stringify of the fields in order (any UTF-16, escapes, surrogates)', () => {
    // Any code point (control characters, quotes, backslashes) or any UTF-16 code unit (lone surrogates).
    const codeUnit = fc.integer({min: 0, max: 0xffff}).map((c) => String.fromCharCode(c))
    const anyString = fc.oneof(fc.string({unit: 'binary'}), fc.string({unit: codeUnit}))
    const textPayload = fc.oneof(
      anyString.map((utf8) => ({utf8}) as Payload),
      fc.jsonValue().map((json) => ({json}) as Payload),
      bytesArb.map((b) => ({base64: Buffer.from(b).toString('base64')}) as Payload),
    )
    const order = [
      'v',
      'source',
      'partition',
      'offset',
      'timestamp',
      'timestampType',
      'key',
      'headers',
      'value',
      'meta',
    ] as const
    fc.assert(
      fc.property(
        fc.record(
          {
            v: fc.constant(1 as const),
            source: anyString,
            partition: fc.nat(),
            offset: anyString,
            timestamp: anyString,
            timestampType: fc.constantFrom('create' as const, 'append' as const),
            key: fc.option(textPayload, {nil: null}),
            headers: fc.array(fc.tuple(anyString, fc.option(textPayload, {nil: null}))),
            value: fc.option(textPayload, {nil: null}),
            meta: fc.record({messageId: anyString, orderingKey: anyString}, {requiredKeys: []}),
          },
          {requiredKeys: ['v', 'value']},
        ),
        (env) => {
          const ordered = Object.fromEntries(order.filter((k) => k in env).map((k) => [k, env[k]]))
          expect(encodeEnvelope(env as Envelope)).toBe(JSON.stringify(ordered))
        },
      ),
      {numRuns: 500},
    )
  })

  test('payload bytes survive the JSONL line', () => {
    fc.assert(
      fc.property(bytesArb, bytesArb, (k, v) => {
        const back = decodeEnvelope(encodeEnvelope({v: 1, key: toPayload(k), value: toPayload(v)}))
        expect(payloadBytes(back.key!)).toEqual(Buffer.from(k))
        expect(payloadBytes(back.value!)).toEqual(Buffer.from(v))
      }),
    )
  })

  test('encodes a single line with fixed field order', () => {
    const line = encodeEnvelope({value: {utf8: 'x\ny'}, v: 1, key: null, offset: '3'} as Envelope)
    expect(line).toBe('{"v":1,"offset":"3","key":null,"value":{"utf8":"x\\ny"}}')
    expect(line).not.toContain('\n')
  })

  test.each([
    ['not json', /line 7 of f is not valid JSON/],
    ['{"v":2,"value":null}', /line 7 of f is not a valid envelope at "v"/],
    ['{"v":1}', /at "value"/],
    ['{"v":1,"value":{"hex":"00"}}', /at "value"/],
    ['{"v":1,"value":{"base64":"***"}}', /at "value.base64": Invalid base64/],
    ['{"v":1,"value":null,"extra":1}', /not a valid envelope/],
    ['{"v":1,"value":null,"headers":[["a"]]}', /at "headers.0"/],
  ])('rejects %s naming the line', (line, message) => {
    expect(() => decodeEnvelope(line, 'line 7 of f')).toThrow(message)
    try {
      decodeEnvelope(line, 'line 7 of f')
    } catch (err) {
      expect(err).toMatchObject({exitCode: 2, code: 'BAD_ENVELOPE'})
    }
  })
})

describe('payloads made for a copy (json: false, keepBytes)', () => {
  test('read, serialised and sent like any other payload, though their text is made only when read', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 64}), (b) => {
        const bytes = Buffer.from(b)
        const copied = toPayload(bytes, {json: false, keepBytes: true})
        const plain = toPayload(bytes, {json: false})
        expect(payloadBytes(copied).equals(bytes)).toBe(true)
        expect(JSON.stringify(copied)).toBe(JSON.stringify(plain))
        expect('utf8' in copied).toBe('utf8' in plain)
        expect('base64' in copied).toBe('base64' in plain)
        if ('utf8' in plain) expect((copied as {utf8: string}).utf8).toBe(plain.utf8)
        const env: Envelope = {v: 1, value: copied}
        expect(encodeEnvelope(env)).toBe(encodeEnvelope({v: 1, value: plain}))
      }),
    )
  })
})
