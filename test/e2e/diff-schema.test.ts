import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {describe, expect, test} from 'vitest'
import {run, sandboxEnv} from './helpers.js'

const env = sandboxEnv()

/** A folder of files (not in any git repository): the root for local refs. */
function folder(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'evtctl-diff-'))
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), {recursive: true})
    writeFileSync(
      join(dir, name),
      typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`,
    )
  }
  return dir
}

const order = (total: string, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties: {id: {type: 'integer'}, total: {type: total}, ...extra},
  additionalProperties: false,
})

const diff = (args: string[], cwd: string) => run(['diff-schema', ...args], {env, cwd})

describe('evtctl diff-schema (built binary)', () => {
  test('help lists the exit codes', async () => {
    const h = await run(['diff-schema', '--help'], {env})
    expect(h.code).toBe(0)
    const text = h.stdout.toString()
    expect(text).toContain('EXIT CODES')
    expect(text).toContain(' 10  breaking schema change found')
  })

  test('compatible: exit 0, and --json is one document with the contract keys', async () => {
    const dir = folder({'old.json': order('number'), 'new.json': order('number', {note: {type: 'string'}})})
    const r = await diff(['old.json', 'new.json', '--json'], dir)
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout.toString())
    expect(Object.keys(doc)).toEqual(['compatible', 'compatibility', 'format', 'changes'])
    expect(doc).toMatchObject({compatible: true, compatibility: 'BACKWARD', format: 'json-schema'})
    expect(doc.changes).toEqual([
      expect.objectContaining({
        type: 'OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL',
        path: '#/properties/note',
        breaking: false,
      }),
    ])
    for (const c of doc.changes)
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['type', 'path', 'breaking', 'message']))
  })

  test('breaking: exit 10, and a GitHub annotation with the line of the change (verbatim)', async () => {
    const dir = folder({'old.json': order('number'), 'new.json': order('string')})
    const r = await diff(['old.json', 'new.json', '--output-format', 'github'], dir)
    expect(r.code).toBe(10)
    expect(r.stdout.toString()).toBe(
      '::error file=new.json,line=7,title=TYPE_CHANGED #/properties/total::property `total` (#/properties/total): the type changed from number to string: readers on the new schema cannot read some old events\n',
    )
  })

  test('FORWARD and FULL: the other direction, and both', async () => {
    // Removing a property from a closed object: fine backward (old data may carry it? no: closed), check both ways.
    const dir = folder({'old.json': order('number', {note: {type: 'string'}}), 'new.json': order('number')})
    const back = await diff(['old.json', 'new.json'], dir)
    const fwd = await diff(['old.json', 'new.json', '--compatibility', 'FORWARD'], dir)
    const full = await diff(['old.json', 'new.json', '--compatibility', 'FULL', '--json'], dir)
    expect(back.code).toBe(10) // PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL
    expect(fwd.code).toBe(0) // OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
    expect(full.code).toBe(10)
    const doc = JSON.parse(full.stdout.toString())
    expect(doc.changes.map((c: {direction: string}) => c.direction).sort()).toEqual(['backward', 'forward'])
    const none = await diff(['old.json', 'new.json', '--compatibility', 'NONE'], dir)
    expect(none.code).toBe(0)
  })

  test('--json-schema-policy lenient accepts what Confluent LENIENT accepts', async () => {
    const dir = folder({
      'old.json': {properties: {foo: {type: 'string'}}},
      'new.json': {properties: {foo: {type: 'string'}, bar: {type: 'number'}}},
    })
    expect((await diff(['old.json', 'new.json'], dir)).code).toBe(10)
    expect((await diff(['old.json', 'new.json', '--json-schema-policy', 'lenient'], dir)).code).toBe(0)
  })

  test('versions V1 … VN: _TRANSITIVE checks every older version, plain modes only the last', async () => {
    const rec = (fields: unknown[]) => ({type: 'record', name: 'Order', fields})
    const status = {type: 'enum', name: 'Status', symbols: ['A', 'B']}
    const dir = folder({
      'v1.avsc': rec([
        {name: 'id', type: 'int'},
        {name: 's', type: status},
      ]),
      'v2.avsc': rec([{name: 'id', type: 'int'}]),
      // Readers on v3 cannot read v1 data with s = B; v2 data has no s (the default serves).
      'v3.avsc': rec([
        {name: 'id', type: 'int'},
        {name: 's', type: {...status, symbols: ['A']}, default: 'A'},
      ]),
    })
    const plain = await diff(['v1.avsc', 'v2.avsc', 'v3.avsc', '--json'], dir)
    expect(plain.code).toBe(0)
    expect(
      new Set(JSON.parse(plain.stdout.toString()).changes.map((c: {against: string}) => c.against)),
    ).toEqual(new Set(['v2.avsc']))
    const transitive = await diff(
      ['v1.avsc', 'v2.avsc', 'v3.avsc', '--compatibility', 'BACKWARD_TRANSITIVE', '--json'],
      dir,
    )
    expect(transitive.code).toBe(10)
    const doc = JSON.parse(transitive.stdout.toString())
    expect(doc.changes.filter((c: {breaking: boolean}) => c.breaking)).toEqual([
      expect.objectContaining({type: 'MISSING_ENUM_SYMBOLS', against: 'v1.avsc', path: '#/fields/1/type'}),
    ])
  })

  test('unusable input: exit 2 naming file, line and column', async () => {
    const dir = folder({
      'old.json': order('number'),
      'bad.json': '{\n  "type": "object",\n  "properties": {,}\n}\n',
    })
    const r = await diff(['old.json', 'bad.json'], dir)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^Error: bad\.json:3:\d+: not valid JSON/m)
    const gh = await diff(['old.json', 'bad.json', '--output-format', 'github'], dir)
    expect(gh.code).toBe(2)
    expect(gh.stdout.toString()).toMatch(
      /^::error file=bad\.json,line=3,col=\d+,title=SCHEMA_PARSE::not valid JSON/,
    )
    const j = await diff(['old.json', 'bad.json', '--json'], dir)
    expect(j.code).toBe(2)
    expect(JSON.parse(j.stdout.toString()).error).toMatchObject({code: 'SCHEMA_PARSE', exitCode: 2})
  })

  test('security: a remote $ref is never fetched (exit 2 naming it)', async () => {
    const dir = folder({
      'old.json': order('number'),
      'new.json': {type: 'object', properties: {a: {$ref: 'https://example.invalid/schema.json'}}},
    })
    const r = await diff(['old.json', 'new.json'], dir)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('remote $ref "https://example.invalid/schema.json" is not fetched')
  })

  test('security: a local $ref may not leave the root', async () => {
    const dir = folder({
      'old.json': order('number'),
      'new.json': {type: 'object', properties: {a: {$ref: '../../../../../etc/passwd'}}},
      'ok.json': {type: 'object', properties: {total: {$ref: 'defs/money.json'}}},
      'ok-old.json': {type: 'object', properties: {total: {type: 'number'}}},
      'defs/money.json': {type: 'string'},
    })
    const r = await diff(['old.json', 'new.json'], dir)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/outside the repository root/)
    // Inside the root, a ref to another file is followed.
    const ok = await diff(['ok-old.json', 'ok.json', '--json'], dir)
    expect(ok.code).toBe(10)
    expect(JSON.parse(ok.stdout.toString()).changes[0]).toMatchObject({
      type: 'TYPE_CHANGED',
      path: '#/properties/total',
    })
  })

  test('security: pathological schemas end within the budget with exit 2 naming the cause', async () => {
    const subs = Array.from({length: 300}, (_, i) => ({
      type: 'object',
      properties: Object.fromEntries(
        Array.from({length: 40}, (_, j) => [`p${j}`, {type: 'string', maxLength: i + j}]),
      ),
    }))
    const chain = Object.fromEntries(
      Array.from({length: 5000}, (_, i) => [`d${i}`, {$ref: `#/definitions/d${i + 1}`}]),
    )
    let deep = '{"type":"string"}'
    for (let i = 0; i < 5000; i++) deep = `{"type":"object","properties":{"a":${deep}}}`
    const dir = folder({
      'wide.json': {anyOf: subs},
      'wide2.json': {anyOf: subs.map((s) => ({...s, properties: {...s.properties, z: {type: 'number'}}}))},
      'cycle.json': {$ref: '#/definitions/d0', definitions: chain},
      'deep.json': deep,
      'old.json': order('number'),
    })
    const started = Date.now()
    const wide = await diff(['wide.json', 'wide2.json', '--timeout', '1s'], dir)
    expect(wide.code).toBe(2)
    expect(wide.stderr).toMatch(/time budget|remembered differences/)
    expect(Date.now() - started).toBeLessThan(8000)
    const cycle = await diff(['old.json', 'cycle.json'], dir)
    expect(cycle.code).toBe(2)
    expect(cycle.stderr).toMatch(/cycle/)
    const nested = await diff(['deep.json', 'deep.json'], dir)
    expect(nested.code).toBe(2)
    expect(nested.stderr).toMatch(/deeper than|deeper recursion/)
  })

  test('Avro and Protobuf by extension', async () => {
    const rec = (fields: unknown[]) => ({type: 'record', name: 'Order', fields})
    const dir = folder({
      'old.avsc': rec([{name: 'id', type: 'int'}]),
      'new.avsc': rec([
        {name: 'id', type: 'long'},
        {name: 'note', type: 'string'},
      ]),
      'old.proto': 'syntax = "proto3";\nmessage Order {\n  int32 id = 1;\n  string note = 2;\n}\n',
      'new.proto': 'syntax = "proto3";\nmessage Order {\n  int32 id = 1;\n  int64 note = 2;\n}\n',
    })
    const avro = await diff(['old.avsc', 'new.avsc', '--json'], dir)
    expect(avro.code).toBe(10)
    const a = JSON.parse(avro.stdout.toString())
    expect(a.format).toBe('avro')
    expect(a.changes.map((c: {type: string}) => c.type).sort()).toEqual([
      'READER_FIELD_MISSING_DEFAULT_VALUE',
      'TYPE_PROMOTED',
    ])
    const proto = await diff(['old.proto', 'new.proto', '--output-format', 'github'], dir)
    expect(proto.code).toBe(10)
    expect(proto.stdout.toString()).toMatch(
      /^::error file=new\.proto,line=4,title=FIELD_SCALAR_KIND_CHANGED #\/Order\/2::/,
    )
  })

  test('AsyncAPI: the payload change is annotated on its YAML line; info.version never breaks', async () => {
    const doc = (total: string, version: string) => `asyncapi: 3.0.0
info:
  title: Orders
  version: ${version}
channels:
  orders:
    address: orders.v1
    messages:
      OrderPlaced:
        $ref: '#/components/messages/OrderPlaced'
components:
  messages:
    OrderPlaced:
      payload:
        type: object
        properties:
          total:
            type: ${total}
`
    const dir = folder({
      'old.yaml': doc('number', '1.0.0'),
      'new.yaml': doc('string', '1.1.0'),
      'ver.yaml': doc('number', '2.0.0'),
    })
    const r = await diff(['old.yaml', 'new.yaml', '--output-format', 'github'], dir)
    expect(r.code).toBe(10)
    expect(r.stdout.toString().split('\n')[0]).toBe(
      '::error file=new.yaml,line=17,title=TYPE_CHANGED #/components/messages/OrderPlaced/payload/properties/total::message OrderPlaced payload: property `total` (#/properties/total): the type changed from number to string: readers on the new schema cannot read some old events',
    )
    const v = await diff(['old.yaml', 'ver.yaml', '--compatibility', 'FULL', '--json'], dir)
    expect(v.code).toBe(0)
    expect(JSON.parse(v.stdout.toString()).format).toBe('asyncapi')
  })

  test('junit and sarif are well-formed', async () => {
    const dir = folder({'old.json': order('number'), 'new.json': order('string')})
    const junit = await diff(['old.json', 'new.json', '--output-format', 'junit'], dir)
    expect(junit.code).toBe(10)
    expect(junit.stdout.toString()).toMatch(/<testsuites [^>]*failures="1"/)
    expect(junit.stdout.toString()).toContain('<failure type="TYPE_CHANGED"')
    const sarif = await diff(['old.json', 'new.json', '--output-format', 'sarif'], dir)
    const doc = JSON.parse(sarif.stdout.toString())
    expect(doc.version).toBe('2.1.0')
    expect(doc.runs[0].results[0]).toMatchObject({
      ruleId: 'TYPE_CHANGED',
      level: 'error',
      locations: [{physicalLocation: {artifactLocation: {uri: 'new.json'}, region: {startLine: 7}}}],
    })
  })

  test('--against GIT_REF: changed, added and removed files; folders recurse', async () => {
    const repo = folder({})
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], {
        cwd: repo,
        stdio: 'pipe',
      })
    git('init', '-q', '-b', 'main')
    mkdirSync(join(repo, 'schemas/nested'), {recursive: true})
    writeFileSync(join(repo, 'schemas/order.json'), JSON.stringify(order('number')))
    writeFileSync(
      join(repo, 'schemas/nested/gone.avsc'),
      JSON.stringify({type: 'record', name: 'G', fields: []}),
    )
    writeFileSync(join(repo, 'schemas/same.proto'), 'syntax = "proto3";\nmessage S { int32 a = 1; }\n')
    git('add', '-A')
    git('commit', '-qm', 'v1')
    writeFileSync(join(repo, 'schemas/order.json'), JSON.stringify(order('string')))
    writeFileSync(join(repo, 'schemas/nested/new.json'), JSON.stringify({type: 'string'}))
    rmSync(join(repo, 'schemas/nested/gone.avsc'))
    const r = await diff(['schemas', '--against', 'HEAD', '--json'], repo)
    expect(r.code).toBe(10)
    const doc = JSON.parse(r.stdout.toString())
    expect(doc.format).toBe('mixed')
    expect(doc.files).toEqual([
      {file: 'schemas/nested/gone.avsc', format: 'avro', status: 'removed', compatible: false},
      {file: 'schemas/nested/new.json', format: 'json-schema', status: 'added', compatible: true},
      {file: 'schemas/order.json', format: 'json-schema', status: 'changed', compatible: false},
      {file: 'schemas/same.proto', format: 'protobuf', status: 'unchanged', compatible: true},
    ])
    expect(doc.changes.map((c: {type: string; file: string}) => `${c.type} ${c.file}`).sort()).toEqual([
      'FILE_REMOVED schemas/nested/gone.avsc',
      'TYPE_CHANGED schemas/order.json',
    ])
    // The removal alone is allowed with --allow-removed; the type change still breaks.
    writeFileSync(join(repo, 'schemas/order.json'), JSON.stringify(order('number')))
    const allowed = await diff(['schemas', '--against', 'HEAD', '--allow-removed'], repo)
    expect(allowed.code).toBe(0)
    // A file whose text is unchanged still changes when a file it refers to does.
    mkdirSync(join(repo, 'refs/defs'), {recursive: true})
    writeFileSync(
      join(repo, 'refs/order.json'),
      JSON.stringify({type: 'object', properties: {total: {$ref: 'defs/money.json'}}}),
    )
    writeFileSync(join(repo, 'refs/defs/money.json'), JSON.stringify({type: 'number'}))
    git('add', '-A')
    git('commit', '-qm', 'refs')
    writeFileSync(join(repo, 'refs/defs/money.json'), JSON.stringify({type: 'string'}))
    const viaRef = await diff(['refs/order.json', '--against', 'HEAD', '--json'], repo)
    expect(viaRef.code).toBe(10)
    expect(JSON.parse(viaRef.stdout.toString()).changes[0]).toMatchObject({
      type: 'TYPE_CHANGED',
      path: '#/properties/total',
      file: 'refs/order.json',
    })
    const badRef = await diff(['schemas', '--against', 'no-such-ref'], repo)
    expect(badRef.code).toBe(2)
    expect(badRef.stderr).toContain('no-such-ref')
  })

  test('the same input gives byte-identical output', async () => {
    const dir = folder({
      'old.json': {
        properties: {a: {type: 'string'}, b: {enum: [1, 2]}, c: {oneOf: [{type: 'string'}, {type: 'null'}]}},
      },
      'new.json': {properties: {b: {enum: [1]}, c: {oneOf: [{type: 'number'}]}, d: {type: 'string'}}},
    })
    const outs = await Promise.all(
      [1, 2, 3].map(() => diff(['old.json', 'new.json', '--compatibility', 'FULL', '--json'], dir)),
    )
    expect(outs[1]!.stdout.equals(outs[0]!.stdout)).toBe(true)
    expect(outs[2]!.stdout.equals(outs[0]!.stdout)).toBe(true)
  })
})
