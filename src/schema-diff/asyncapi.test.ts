import {describe, expect, test} from 'vitest'
import {compareAsyncapi} from './asyncapi.js'
import type {Direction, EngineOptions} from './types.js'

const opts: EngineOptions = {
  jsonSchemaPolicy: 'strict',
  protoPaths: [],
  root: '/nonexistent',
  deadline: Date.now() + 60_000,
}
const src = (text: string, name = 'api.yaml') => ({name, text})
const run = (a: string, b: string, direction: Direction = 'backward') =>
  compareAsyncapi(src(a), src(b), opts, direction)
const types = (changes: Array<{type: string; breaking: boolean}>) =>
  changes.map((c) => `${c.breaking ? '!' : ''}${c.type}`).sort()

const v3 = (payload: string, extra = '', version = '1.0.0') => `asyncapi: 3.0.0
info:
  title: Orders
  version: ${version}
channels:
  orders:
    address: orders.v1
    messages:
      OrderPlaced:
        $ref: '#/components/messages/OrderPlaced'
${extra}
operations:
  onOrder:
    action: receive
    channel:
      $ref: '#/channels/orders'
    messages:
      - $ref: '#/channels/orders/messages/OrderPlaced'
components:
  messages:
    OrderPlaced:
      payload:
${payload}
`

const objectPayload = (total: string) => `        type: object
        additionalProperties: false
        properties:
          id:
            type: integer
          total:
            type: ${total}`

describe('AsyncAPI 3.x', () => {
  test('the same document has no changes', async () => {
    const d = v3(objectPayload('number'))
    expect(await run(d, d)).toEqual([])
  })

  test('info.version and descriptions are never breaking', async () => {
    const changes = await run(v3(objectPayload('number')), v3(objectPayload('number'), '', '2.0.0'))
    expect(types(changes)).toEqual(['INFO_VERSION_CHANGED'])
  })

  test('a payload change inside components is found, with Confluent type names and its path', async () => {
    const changes = await run(v3(objectPayload('number')), v3(objectPayload('string')))
    expect(changes).toEqual([
      expect.objectContaining({
        type: 'TYPE_CHANGED',
        path: '#/components/messages/OrderPlaced/payload/properties/total',
        breaking: true,
      }),
    ])
  })

  test('channel removed is breaking; channel added is not', async () => {
    const extra = `  refunds:
    address: refunds.v1
    messages: {}`
    const withRefunds = v3(objectPayload('number'), extra)
    const without = v3(objectPayload('number'))
    expect(types(await run(withRefunds, without))).toEqual(['!CHANNEL_REMOVED'])
    expect(types(await run(without, withRefunds))).toEqual(['CHANNEL_ADDED'])
  })

  test('a message removed breaks backward; a message added breaks forward', async () => {
    const two = v3(objectPayload('number')).replace(
      "      OrderPlaced:\n        $ref: '#/components/messages/OrderPlaced'\n",
      "      OrderPlaced:\n        $ref: '#/components/messages/OrderPlaced'\n      OrderCancelled:\n        payload:\n          type: string\n",
    )
    const one = v3(objectPayload('number'))
    expect(types(await run(two, one, 'backward'))).toContain('!MESSAGE_REMOVED')
    // Forward: readers on OLD (one message) read data written with NEW (two).
    expect(types(await run(two, one, 'forward'))).toEqual(['!MESSAGE_ADDED'])
  })
})

describe('AsyncAPI 2.x', () => {
  const v2 = (payload: string, schemaFormat = '') => `asyncapi: 2.6.0
info:
  title: Orders
  version: 1.0.0
channels:
  user/signedup:
    subscribe:
      operationId: onSignup
      message:
        ${schemaFormat ? `schemaFormat: ${schemaFormat}\n        ` : ''}payload:
${payload}
`
  test('JSON Schema payloads, channel names with a slash', async () => {
    const a = v2(
      '          type: object\n          properties:\n            id:\n              type: integer',
    )
    const b = v2('          type: object\n          properties:\n            id:\n              type: string')
    const [c] = await run(a, b)
    expect(c).toMatchObject({
      type: 'TYPE_CHANGED',
      path: '#/channels/user~1signedup/subscribe/message/payload/properties/id',
      breaking: true,
    })
  })

  test('Avro payloads are checked with the Avro engine', async () => {
    const avro = (t: string) =>
      `          type: record\n          name: Signup\n          fields:\n            - name: id\n              type: ${t}`
    const fmt = 'application/vnd.apache.avro;version=1.9.0'
    expect(types(await run(v2(avro('int'), fmt), v2(avro('long'), fmt)))).toEqual(['TYPE_PROMOTED'])
    expect(types(await run(v2(avro('long'), fmt), v2(avro('int'), fmt)))).toEqual(['!TYPE_MISMATCH'])
  })

  test('Protobuf payloads are checked with the Protobuf engine', async () => {
    const proto = (t: string) =>
      `          |\n            syntax = "proto3";\n            message Signup {\n              ${t} id = 1;\n            }`
    const fmt = 'application/vnd.google.protobuf;version=3'
    expect(types(await run(v2(proto('int32'), fmt), v2(proto('int64'), fmt)))).toEqual([])
    expect(types(await run(v2(proto('int32'), fmt), v2(proto('string'), fmt)))).toEqual([
      '!FIELD_SCALAR_KIND_CHANGED',
    ])
  })

  test('a remote $ref is refused', async () => {
    const d = v2("          $ref: 'https://example.invalid/s.json'")
    await expect(run(d, d)).rejects.toMatchObject({code: 'REMOTE_REF'})
  })
})
