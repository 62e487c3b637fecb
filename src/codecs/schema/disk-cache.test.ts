import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import avsc from 'avsc'
import {afterAll, beforeAll, beforeEach, describe, expect, test} from 'vitest'
import type {Envelope} from '../../envelope/envelope.js'
import {addDecoded, prepareView} from '../chain.js'
import {SchemaDiskCache, schemaCacheDir} from './disk-cache.js'
import {decodingFor} from './setup.js'
import {writeFrame} from './wire.js'

const LINE = {type: 'record', name: 'Line', namespace: 'acme', fields: [{name: 'sku', type: 'string'}]}
const ORDER = {
  type: 'record',
  name: 'Order',
  namespace: 'acme',
  fields: [
    {name: 'id', type: 'long'},
    {name: 'lines', type: {type: 'array', items: 'acme.Line'}},
  ],
}
/** Id 5 references acme.Line (subject lines-value, version 1): two requests the first time. */
const registered: Record<string, object> = {
  '/schemas/ids/5': {
    schema: JSON.stringify(ORDER),
    references: [{name: 'acme.Line', subject: 'lines-value', version: 1}],
  },
  '/subjects/lines-value/versions/1': {
    id: 4,
    subject: 'lines-value',
    version: 1,
    schema: JSON.stringify(LINE),
  },
}
let server: Server
let url: string
const requests: string[] = []
let dir: string

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url!)
    const body = registered[req.url!]
    res.writeHead(body ? 200 : 404, {'content-type': 'application/json'})
    res.end(JSON.stringify(body ?? {error_code: 40403, message: 'Schema not found'}))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))
beforeEach(() => {
  requests.length = 0
  dir = join(mkdtempSync(join(tmpdir(), 'evtctl-schema-cache-')), 'evtctl', 'schemas')
})

// ORDER names acme.Line: defined first, in one union, as avsc wants it.
const orderType = (
  avsc.Type.forSchema([LINE, ORDER] as unknown as avsc.Schema) as unknown as {types: avsc.Type[]}
).types[1]!
const message = (id: number, schemaId = 5): Envelope => ({
  v: 1,
  value: {
    base64: writeFrame(schemaId, orderType.toBuffer({id, lines: [{sku: `s${id}`}]})).toString('base64'),
  },
})

/** One run: a new client, as a new process would have. */
async function read(opts: {cache?: boolean; settings?: object; schemaId?: number} = {}): Promise<Envelope> {
  const d = (await decodingFor(
    opts.cache === undefined ? {} : {cache: opts.cache},
    {url, ...opts.settings},
    {cacheDir: dir},
  ))!
  const env = message(7, opts.schemaId)
  addDecoded(env, await prepareView(env, d.value, d.key))
  return env
}

describe('on-disk schema cache', () => {
  test('the second run asks the registry nothing; files 0600 in a 0700 directory; no secrets in them', async () => {
    const secret = {username: 'alice', password: 'hunter2-secret', token: undefined}
    const first = await read({settings: secret})
    expect(first.decoded).toEqual({id: 7, lines: [{sku: 's7'}]})
    expect(requests).toEqual(['/schemas/ids/5', '/subjects/lines-value/versions/1'])
    requests.length = 0
    const second = await read({settings: secret})
    expect(requests).toEqual([])
    expect(second.decoded).toEqual(first.decoded)
    expect(second.schema).toEqual(first.schema)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    const files = readdirSync(dir)
    expect(files).toHaveLength(1)
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600)
    const text = readFileSync(join(dir, files[0]!), 'utf8')
    expect(text).not.toMatch(/alice|hunter2/)
    expect(JSON.parse(text)).toMatchObject({registry: url, id: 5, type: 'AVRO'})
  })

  test('credentials in the URL are neither stored nor part of the key', () => {
    const withUser = new SchemaDiskCache(dir, url.replace('http://', 'http://bob:pw-secret@'))
    const plain = new SchemaDiskCache(dir, `${url}/?token=abc`)
    expect(withUser.registry).toBe(url)
    expect(plain.registry).toBe(url)
    expect(withUser.fileOf(5)).toBe(plain.fileOf(5))
    expect(withUser.fileOf(5)).not.toBe(new SchemaDiskCache(dir, `${url}/other`).fileOf(5))
  })

  test('--no-schema-cache and the context setting cache: false neither read nor write it', async () => {
    await read()
    requests.length = 0
    await read({cache: false})
    expect(requests).toHaveLength(2)
    requests.length = 0
    await read({settings: {cache: false}})
    expect(requests).toHaveLength(2)
    // The flag wins over the context.
    requests.length = 0
    await read({cache: true, settings: {cache: false}})
    expect(requests).toEqual([])
    const empty = join(dir, '..', 'none')
    dir = empty
    await read({cache: false})
    expect(() => readdirSync(empty)).toThrow()
  })

  test('a damaged file is ignored and written again; a failed lookup is not kept', async () => {
    await read()
    const file = join(dir, readdirSync(dir)[0]!)
    const good = readFileSync(file, 'utf8')
    const damaged = [
      good.slice(0, 40), // truncated
      'not json at all',
      '[]',
      good.replace('\\"long\\"', '\\"int\\"'), // edited: the checksum no longer matches
      JSON.stringify({...JSON.parse(good), id: 6}),
    ]
    expect(new Set(damaged).size).toBe(damaged.length)
    expect(damaged).not.toContain(good)
    for (const bad of damaged) {
      writeFileSync(file, bad)
      requests.length = 0
      const env = await read()
      expect(env.decodeError, bad).toBeUndefined()
      expect(env.decoded).toEqual({id: 7, lines: [{sku: 's7'}]})
      expect(requests).toHaveLength(2)
      expect(readFileSync(file, 'utf8')).toBe(good)
    }
    requests.length = 0
    const unknown = await read({schemaId: 99})
    expect(unknown.decodeError).toMatch(/has no schema id 99/)
    expect(readdirSync(dir)).toHaveLength(1)
  })

  test('a directory that cannot be written only costs requests', async () => {
    writeFileSync(join(dir, '..', '..', 'blocker'), '')
    dir = join(dir, '..', '..', 'blocker', 'schemas')
    expect((await read()).decoded).toEqual({id: 7, lines: [{sku: 's7'}]})
    requests.length = 0
    expect((await read()).decoded).toEqual({id: 7, lines: [{sku: 's7'}]})
    expect(requests).toHaveLength(2)
  })

  test('a symlink in place of the directory is not trusted: not read, not written', async () => {
    const real = join(dir, '..', 'elsewhere')
    await read()
    renameSync(dir, real)
    symlinkSync(real, dir)
    requests.length = 0
    expect((await read()).decoded).toEqual({id: 7, lines: [{sku: 's7'}]})
    expect(requests).toHaveLength(2)
  })

  test('$XDG_CACHE_HOME/evtctl/schemas, else ~/.cache/evtctl/schemas', () => {
    expect(schemaCacheDir({XDG_CACHE_HOME: '/x/cache'})).toBe('/x/cache/evtctl/schemas')
    expect(schemaCacheDir({})).toMatch(/\.cache\/evtctl\/schemas$/)
  })
})
