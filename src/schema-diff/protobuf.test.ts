import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {describe, expect, test} from 'vitest'
import {compareProtobuf, protobufEngine} from './protobuf.js'
import {localReader} from './service.js'
import type {EngineOptions} from './types.js'

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'evtctl-proto-'))
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), {recursive: true})
    writeFileSync(join(root, p), text)
  }
  return root
}
const opts = (root: string, protoPaths: string[] = []): EngineOptions => ({
  jsonSchemaPolicy: 'strict',
  protoPaths,
  root,
  deadline: Date.now() + 10_000,
})
const src = (root: string, p: string, text: string) => ({
  name: p,
  path: join(root, p),
  text,
  readFile: localReader(root),
})
const msg = (body: string, header = 'syntax = "proto3";\n') => `${header}message M {\n${body}\n}\n`

describe('Protobuf engine', () => {
  test('a field reusing a number the old schema reserved is breaking', async () => {
    const root = tree({})
    const d = await compareProtobuf(
      src(root, 'a.proto', msg('  string a = 1;\n  reserved 2, 5 to 7;\n  reserved "old";')),
      src(root, 'b.proto', msg('  string a = 1;\n  int32 b = 6;\n  string old = 9;')),
      opts(root),
    )
    expect(d.map((x) => `${x.type} ${x.path}`).sort()).toEqual([
      'FIELD_ADDED #/M/6',
      'FIELD_ADDED #/M/9',
      'RESERVED_FIELD_REUSED #/M/6',
      'RESERVED_FIELD_REUSED #/M/9',
    ])
  })

  test('wire-compatible scalar groups: int32 → int64 is fine, int32 → sint32 is not', async () => {
    const root = tree({})
    const ok = await compareProtobuf(
      src(root, 'a.proto', msg('  int32 a = 1;')),
      src(root, 'b.proto', msg('  int64 a = 1;')),
      opts(root),
    )
    expect(ok).toEqual([])
    const bad = await compareProtobuf(
      src(root, 'a.proto', msg('  int32 a = 1;')),
      src(root, 'b.proto', msg('  sint32 a = 1;')),
      opts(root),
    )
    expect(bad.map((x) => x.type)).toEqual(['FIELD_SCALAR_KIND_CHANGED'])
  })

  test('imports: next to the file, from --proto-path, or from a folder above the file', async () => {
    const common = (t: string) => `syntax = "proto3";\npackage c;\nmessage Money { ${t} units = 1; }\n`
    const user = msg('  c.Money m = 1;', 'syntax = "proto3";\nimport "c/money.proto";\n')
    const root = tree({
      'old/c/money.proto': common('int64'),
      'old/api.proto': user,
      'new/c/money.proto': common('string'),
      'new/api.proto': user,
      'protos/deep/er/api.proto': user,
      'protos/c/money.proto': common('int64'),
      'inc/c/money.proto': common('int64'),
    })
    const d = await compareProtobuf(
      src(root, 'old/api.proto', user),
      src(root, 'new/api.proto', user),
      opts(root),
    )
    expect(d.map((x) => `${x.type} ${x.path}`).sort()).toEqual([
      'FIELD_NAMED_TYPE_CHANGED #/M/1',
      'FIELD_SCALAR_KIND_CHANGED #/Money/1',
    ])
    await expect(
      protobufEngine.check(src(root, 'protos/deep/er/api.proto', user), opts(root)),
    ).resolves.toBeUndefined()
    const lone = tree({'x/api.proto': user})
    await expect(protobufEngine.check(src(lone, 'x/api.proto', user), opts(lone))).rejects.toMatchObject({
      code: 'IMPORT_NOT_FOUND',
    })
    await expect(
      protobufEngine.check(src(lone, 'x/api.proto', user), opts(lone, [join(root, 'inc')])),
    ).resolves.toBeUndefined()
  })

  test('an import may not climb out of the roots', async () => {
    const root = tree({})
    const text = msg('  string a = 1;', 'syntax = "proto3";\nimport "../../etc/x.proto";\n')
    await expect(protobufEngine.check(src(root, 'a.proto', text), opts(root))).rejects.toMatchObject({
      code: 'IMPORT_OUTSIDE_ROOT',
    })
  })

  test('a syntax error names the line', async () => {
    const root = tree({})
    await expect(
      protobufEngine.check(
        src(root, 'a.proto', 'syntax = "proto3";\nmessage M {\n  int32 a = ;\n}\n'),
        opts(root),
      ),
    ).rejects.toMatchObject({
      file: 'a.proto',
      line: 3,
      code: 'SCHEMA_PARSE',
    })
  })

  test('proto2 labels: optional → repeated on a number is breaking; required added is breaking', async () => {
    const root = tree({})
    const p2 = 'syntax = "proto2";\n'
    const d = await compareProtobuf(
      src(root, 'a.proto', msg('  optional int32 a = 1;', p2)),
      src(root, 'b.proto', msg('  repeated int32 a = 1;\n  required string b = 2;', p2)),
      opts(root),
    )
    expect(d.map((x) => x.type).sort()).toEqual(['FIELD_NUMERIC_LABEL_CHANGED', 'REQUIRED_FIELD_ADDED'])
  })
})
