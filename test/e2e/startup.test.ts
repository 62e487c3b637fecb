import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {describe, expect, test} from 'vitest'

/**
 * Cold start is measured (bench/cold-start.sh). This guards it in tests: the modules every command
 * loads at start-up (src/cli.ts and what it imports statically, transitively) must not pull in
 * heavy dependencies; commands import those with `await import()` when they run.
 */
const HEAVY = [
  /^zod/,
  /^jsonata/,
  /^yaml$/,
  /^kafkajs/,
  /^@aws-sdk\//,
  /^@google-cloud\//,
  /^ink/,
  /^react/,
  /^cli-table3/,
  /^avsc/,
  /^protobufjs/,
  /^ajv/,
  /^google-auth-library/,
]
const SRC = resolve(import.meta.dirname, '../../src')

function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const out: string[] = []
  // `import … from 'x'` and `export … from 'x'`, but not `import type` / `export type`.
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)[^'";]*?from\s+'([^']+)'/gm)) out.push(m[1]!)
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) out.push(m[1]!)
  return out
}

function startupGraph(entry: string): {files: Set<string>; packages: Set<string>} {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) {
        const ts = resolve(dirname(file), spec.replace(/\.js$/, '.ts'))
        visit(existsSync(ts) ? ts : `${ts}x`)
      } else packages.add(spec)
    }
  }
  visit(entry)
  return {files, packages}
}

describe('start-up module graph', () => {
  test('no broker SDK, schema library, expression engine, YAML or Ink is loaded before a command runs', () => {
    const {files, packages} = startupGraph(resolve(SRC, 'cli.ts'))
    expect(files.size).toBeGreaterThan(5)
    const heavy = [...packages].filter((p) => HEAVY.some((h) => h.test(p)))
    expect(heavy).toEqual([])
  })

  test('shell completion (its own entry, dist/complete.js) loads nothing heavy before it knows it needs a broker', () => {
    const {packages} = startupGraph(resolve(SRC, 'completion/complete.ts'))
    expect([...packages].filter((p) => HEAVY.some((h) => h.test(p)) || p === '@oclif/core')).toEqual([])
  })

  test('writing envelopes (tail) and reading plain lines (publish) load no zod or YAML: only decoding and a config file do', () => {
    for (const entry of [
      'output/render.ts',
      'envelope/input.ts',
      'services/tail.ts',
      'services/publish.ts',
    ]) {
      const {packages} = startupGraph(resolve(SRC, entry))
      expect(
        [...packages].filter((p) => /^(zod|yaml)/.test(p)),
        entry,
      ).toEqual([])
    }
    expect(startupGraph(resolve(SRC, 'envelope/decode.ts')).packages).toContain('zod')
  })

  test('schema codecs (avsc, protobufjs, ajv) load only when a command decodes or encodes with a schema', () => {
    const codecs = /^(avsc|protobufjs|ajv)/
    // What tail, publish, replay and dlq load before they know whether to decode.
    for (const entry of [
      'commands/tail.ts',
      'commands/publish.ts',
      'commands/replay.ts',
      'commands/dlq/list.ts',
      'codecs/chain.ts',
      'services/filter.ts',
      'output/render.ts',
      'codecs/schema/setup.ts',
      'codecs/schema/decoder.ts',
    ]) {
      const {packages} = startupGraph(resolve(SRC, entry))
      expect(
        [...packages].filter((p) => codecs.test(p)),
        entry,
      ).toEqual([])
    }
    // The codecs themselves do load them (so this test can fail), lazily inside.
    for (const [entry, pkg] of [
      ['codecs/schema/avro.ts', 'avsc'],
      ['codecs/schema/protobuf.ts', 'protobufjs'],
      ['codecs/schema/json-schema.ts', 'ajv'],
    ] as const) {
      const text = readFileSync(resolve(SRC, entry), 'utf8')
      expect(text, entry).toMatch(new RegExp(`import\\('${pkg}`))
    }
  })
})

describe('CloudWatch and Cloud Monitoring clients load only when a metric is fetched', () => {
  const METRICS_SDK = /^(@aws-sdk\/client-cloudwatch|google-auth-library)(\/|$)/
  test('the adapters, lag readers and metrics logic import neither; the two client modules do, lazily', () => {
    for (const entry of [
      'adapters/sqs/sqs-adapter.ts',
      'adapters/sqs/queue-depth.ts',
      'adapters/pubsub/pubsub-adapter.ts',
      'adapters/pubsub/backlog.ts',
      'adapters/pubsub/dead-letters.ts',
      'adapters/metrics/cloudwatch.ts',
      'adapters/metrics/monitoring.ts',
      'adapters/metrics/cloudwatch-client.ts',
      'adapters/metrics/monitoring-client.ts',
    ]) {
      const {packages, files} = startupGraph(resolve(SRC, entry))
      expect(
        [...packages].filter((p) => METRICS_SDK.test(p)),
        entry,
      ).toEqual([])
      if (!entry.endsWith('-client.ts'))
        expect(
          [...files].filter((f) => /metrics\/(cloudwatch|monitoring)-client\.ts$/.test(f)),
          entry,
        ).toEqual([])
    }
    // The check can fail: the client modules do load their SDK, inside a function.
    for (const [entry, pkg] of [
      ['adapters/metrics/cloudwatch-client.ts', '@aws-sdk/client-cloudwatch'],
      ['adapters/metrics/monitoring-client.ts', 'google-auth-library'],
    ] as const) {
      expect(readFileSync(resolve(SRC, entry), 'utf8'), entry).toContain(`await import('${pkg}')`)
    }
    for (const [entry, mod] of [
      ['adapters/sqs/sqs-adapter.ts', 'cloudwatch-client'],
      ['adapters/pubsub/pubsub-adapter.ts', 'monitoring-client'],
    ] as const) {
      expect(readFileSync(resolve(SRC, entry), 'utf8'), entry).toContain(`import('../metrics/${mod}.js')`)
    }
  })
})

describe('lag loads Ink and React only for its dashboard', () => {
  const INK = /^(ink|react)(\/|$)/
  test('the command, its service and its table import no Ink or React; the dashboard does', () => {
    for (const entry of [
      'commands/lag.ts',
      'services/lag/lag.ts',
      'output/lag-table.ts',
      'output/lag-format.ts',
    ]) {
      const {packages} = startupGraph(resolve(SRC, entry))
      expect(
        [...packages].filter((p) => INK.test(p)),
        entry,
      ).toEqual([])
    }
    // The check can fail: the dashboard's module does load them.
    expect([...startupGraph(resolve(SRC, 'ui/render-lag.tsx')).packages].filter((p) => INK.test(p))).toEqual(
      expect.arrayContaining(['ink', 'react']),
    )
  })

  test('at run time, `lag` without a terminal resolves neither ink nor react (module hooks record them)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evtctl-lag-start-'))
    const log = join(dir, 'loaded.txt')
    writeFileSync(log, '')
    const hooks = `data:text/javascript,${encodeURIComponent(
      `import {appendFileSync} from 'node:fs'; export async function resolve(s, c, next) { if (/^(ink|react)(\\/|$)/.test(s)) appendFileSync(${JSON.stringify(log)}, s + '\\n'); return next(s, c) }`,
    )}`
    const register = `data:text/javascript,${encodeURIComponent(`import {register} from 'node:module'; register(${JSON.stringify(hooks)})`)}`
    const env = {
      ...process.env,
      XDG_DATA_HOME: join(dir, 'data'),
      XDG_CONFIG_HOME: join(dir, 'config'),
      CI: '',
    }
    const bin = resolve(import.meta.dirname, '../../bin/run.js')
    execFileSync(process.execPath, [bin, 'publish', 'orders', 'x'], {env, stdio: 'pipe'})
    writeFileSync(join(dir, 'data', 'evtctl', 'orders.jsonl.offsets.json'), '{"groups":{"g":{"offset":"0"}}}')
    const out = execFileSync(process.execPath, ['--import', register, bin, 'lag', 'orders'], {
      env,
      stdio: 'pipe',
    })
    expect(out.toString()).toContain('GROUP')
    expect(readFileSync(log, 'utf8')).toBe('')
    // The hooks do see ink when it is loaded.
    execFileSync(
      process.execPath,
      ['--import', register, '--input-type=module', '-e', "await import('ink')"],
      {
        cwd: resolve(import.meta.dirname, '../..'),
        stdio: 'pipe',
      },
    )
    expect(readFileSync(log, 'utf8')).toContain('ink')
  })
})
