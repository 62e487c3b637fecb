import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import avsc from 'avsc'
import protobuf from 'protobufjs'
import {describe, expect, test} from 'vitest'
import {lines, run, sandboxEnv} from './helpers.js'

/** Local schemas on the embedded broker: no registry, no server. */
const cli = sandboxEnv()
const dir = mkdtempSync(join(tmpdir(), 'evtctl-decode-'))
const AVSC = {
  type: 'record',
  name: 'Order',
  fields: [
    {name: 'id', type: 'long'},
    {name: 'total', type: 'double'},
  ],
}
const PROTO = 'syntax = "proto3";\npackage acme;\nmessage Order { int64 id = 1; string sku = 2; }\n'
writeFileSync(join(dir, 'order.avsc'), JSON.stringify(AVSC))
writeFileSync(join(dir, 'order.proto'), PROTO)

function topic(name: string, values: Buffer[]): string {
  const file = join(dir, `${name}.jsonl`)
  writeFileSync(
    file,
    values.map((b) => `${JSON.stringify({v: 1, value: {base64: b.toString('base64')}})}\n`).join(''),
  )
  return `file://${file}`
}

describe('local schemas', () => {
  test('--value-schema FILE.avsc: unframed Avro decoded; a value that does not fit is a counted failure', async () => {
    const type = avsc.Type.forSchema(AVSC as avsc.Schema)
    const url = topic('avro', [type.toBuffer({id: 1, total: 2.5}), Buffer.from([0xff, 0xff])])
    const r = await run(
      [
        'tail',
        url,
        '--from',
        'beginning',
        '--until',
        'end',
        '--value-schema',
        join(dir, 'order.avsc'),
        '-o',
        'jsonl',
      ],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    const [ok, bad] = lines(r.stdout).map((l) => JSON.parse(l))
    expect(ok).toMatchObject({schema: {type: 'AVRO'}, decoded: {id: 1, total: 2.5}})
    expect(bad.decodeError).toMatch(/^Avro: /)
    expect(r.stderr).toMatch(/1 of 2 message\(s\) could not be decoded/)
    const strict = await run(
      [
        'tail',
        url,
        '--from',
        'beginning',
        '--until',
        'end',
        '--value-schema',
        join(dir, 'order.avsc'),
        '--strict-decode',
      ],
      {env: cli},
    )
    expect(strict.code).toBe(7)
  })

  test('--proto-path DIR --value-type: Protobuf decoded, --where on its fields', async () => {
    const Order = protobuf.parse(PROTO).root.lookupType('acme.Order')
    const url = topic(
      'proto',
      [1, 2, 3].map((id) => Buffer.from(Order.encode({id, sku: `s${id}`}).finish())),
    )
    const r = await run(
      [
        'tail',
        url,
        '--from',
        'beginning',
        '--until',
        'end',
        '--proto-path',
        dir,
        '--value-type',
        'acme.Order',
        '--where',
        'value.sku = "s2"',
        '--format',
        '{value}',
      ],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.toString()).toBe('{"id":"2","sku":"s2"}\n')
  })

  test('usage errors before reading: --decode FORMAT with no schema, an unknown message type, a bad schema file', async () => {
    const url = topic('empty', [])
    const noSchema = await run(['tail', url, '--until', 'end', '--decode', 'avro'], {env: cli})
    expect(noSchema.code).toBe(2)
    expect(noSchema.stderr).toMatch(/--decode avro needs a schema/)
    const badType = await run(
      ['tail', url, '--until', 'end', '--proto-path', dir, '--value-type', 'acme.Nope'],
      {env: cli},
    )
    expect(badType.code).toBe(2)
    expect(badType.stderr).toMatch(/--value-type acme.Nope: no such message/)
    writeFileSync(join(dir, 'bad.avsc'), '{"type":"record"}')
    const bad = await run(['tail', url, '--until', 'end', '--value-schema', join(dir, 'bad.avsc')], {
      env: cli,
    })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/is not a valid Avro schema/)
  })

  test('publish --encode with a local schema writes unframed Avro; a bad line is exit 2 with nothing written', async () => {
    const file = join(dir, 'out.jsonl')
    const url = `file://${file}`
    const bad = await run(['publish', url, '--encode', 'avro', '--value-schema', join(dir, 'order.avsc')], {
      env: cli,
      input: '{"id":1,"total":1}\n{"id":2}\n',
    })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/Line 2 does not fit .*field "total"/)
    const ok = await run(['publish', url, '--encode', 'avro', '--value-schema', join(dir, 'order.avsc')], {
      env: cli,
      input: '{"id":7,"total":0.5}\n',
    })
    expect(ok.code, ok.stderr).toBe(0)
    const r = await run(['tail', url, '--from', 'beginning', '--until', 'end', '-o', 'raw'], {env: cli})
    expect(avsc.Type.forSchema(AVSC as avsc.Schema).fromBuffer(r.stdout.subarray(0, -1))).toEqual({
      id: 7,
      total: 0.5,
    })
  })
})

describe('replay --where on decoded values', () => {
  test('selects by a decoded field; the copies are the source bytes, not re-encoded', async () => {
    const type = avsc.Type.forSchema(AVSC as avsc.Schema)
    const values = [
      type.toBuffer({id: 1, total: 5}),
      type.toBuffer({id: 2, total: 50}),
      type.toBuffer({id: 3, total: 500}),
    ]
    const src = topic('replay-src', values)
    const dest = `file://${join(dir, 'replay-dest.jsonl')}`
    const r = await run(
      [
        'replay',
        src,
        '--to',
        dest,
        '--where',
        'value.total > 10',
        '--value-schema',
        join(dir, 'order.avsc'),
        '--json',
      ],
      {env: cli},
    )
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({selected: 2, sent: 2})
    const back = await run(['tail', dest, '--from', 'beginning', '--until', 'end', '-o', 'jsonl'], {env: cli})
    const copies = lines(back.stdout).map((l) => JSON.parse(l))
    expect(copies.map((c) => Buffer.from(c.value.base64, 'base64'))).toEqual([values[1], values[2]])
    expect(copies.every((c) => c.decoded === undefined && c.schema === undefined)).toBe(true)
  })

  test('schema flags without --where are refused (exit 2): replay never decodes what it copies', async () => {
    const src = topic('replay-src2', [Buffer.from('x')])
    const r = await run(['replay', src, '--to', `file://${join(dir, 'r2.jsonl')}`, '--decode', 'avro'], {
      env: cli,
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/only serve --where/)
  })
})

describe('dlq list --scan and schemas', () => {
  test('decoding flags are refused (exit 6), before anything is read; their variables are not flags', async () => {
    const own = sandboxEnv() // no contexts: the embedded file broker
    expect((await run(['publish', 'orders.dlq', '{"id":2}', '-H', 'error=Bad'], {env: own})).code).toBe(0)
    for (const flags of [
      ['--decode', 'avro'],
      ['--registry', 'http://127.0.0.1:9'],
      ['--value-schema', join(dir, 'order.avsc')],
      ['--proto-path', dir, '--value-type', 'acme.Order'],
      ['--strict-decode'],
      ['--no-schema-cache'],
    ]) {
      const r = await run(['dlq', 'list', '--scan', '10', ...flags], {env: own})
      expect(r.code, flags.join(' ')).toBe(6)
      expect(r.stderr.toString()).toMatch(
        /dlq list does not decode messages \(--[a-z-]+.*shows no message values/,
      )
      expect(r.stdout.toString()).toBe('')
    }
    const r = await run(['dlq', 'list', '--scan', '10', '--json'], {
      env: {...own, EVTCTL_SCHEMA_REGISTRY: 'http://127.0.0.1:9', EVTCTL_DECODE: 'avro'},
    })
    expect(r.code, r.stderr.toString()).toBe(0)
    expect(JSON.parse(r.stdout.toString()).dlqs[0].reasons).toEqual([{reason: 'Bad', count: 1}])
  })
})
