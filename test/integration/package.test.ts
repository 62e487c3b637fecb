import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, dirname, join, resolve} from 'node:path'
import {promisify} from 'node:util'
import {describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic} from '../brokers/kafka.js'
import {kcat} from '../brokers/peers.js'
import {sandboxEnv} from '../e2e/helpers.js'

const exec = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const env = brokerEnv()
const {version} = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {version: string}
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number]

/**
 * Issue #11.10 and #17.3: what users install is the packed tarball, installed globally
 * (`npm install -g`, here into a temp prefix) with production dependencies only, run through its
 * bin — the shebang and its V8 flag included — on the Node this test runs on. Everything loaded at
 * run time must be in `dependencies` (Kafka publish loads @platformatic/kafka).
 */
describe('installed from the packed tarball with npm install -g, production dependencies only', () => {
  test('--version, --help, a file-broker publish and tail, and a Kafka publish work; no EBADENGINE of ours', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evtctl-pack-'))
    // The Node running this test first on PATH: npm, and the bin's `env node`, use it.
    const path = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`
    const npmEnv = {...process.env, PATH: path}
    const {stdout} = await exec('npm', ['pack', '--pack-destination', dir, '--json'], {
      cwd: ROOT,
      env: npmEnv,
    })
    const tarball = join(dir, (JSON.parse(stdout) as Array<{filename: string}>)[0]!.filename)
    const prefix = join(dir, 'prefix')
    const installed = await exec(
      'npm',
      ['install', '-g', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', tarball],
      {cwd: dir, env: npmEnv, timeout: 180_000},
    )
    const installLog = installed.stdout + installed.stderr
    // @platformatic/kafka's own dependencies (@platformatic/dynamic-buffer, wasm-utils) declare
    // Node >= 22.19; no version of them says otherwise, so on Node 20 npm warns about them (and
    // only them). From 22.19 on, nothing may warn.
    const warned = [...installLog.matchAll(/EBADENGINE\s+package: '([^@']*@?[^@']+)@/g)].map((m) => m[1])
    if (major > 22 || (major === 22 && minor >= 19)) expect(installLog).not.toContain('EBADENGINE')
    else expect(warned.filter((p) => !p?.startsWith('@platformatic/'))).toEqual([])
    // Production dependencies only: no test runner, bundler or type checker came along.
    const modules = join(prefix, 'lib', 'node_modules', 'evtctl', 'node_modules')
    for (const dev of ['vitest', 'esbuild', 'typescript', '@biomejs'])
      expect(existsSync(join(modules, dev)), dev).toBe(false)
    expect(readdirSync(modules)).toContain('kafkajs')

    const bin = join(prefix, 'bin', 'evtctl')
    const cli = {...sandboxEnv(), PATH: path}
    const ev = (args: string[], input?: string) =>
      new Promise<{code: number; stdout: string; stderr: string}>((done) => {
        const child = execFile(bin, args, {env: cli, cwd: dir}, (err, out, errOut) =>
          done({code: err ? ((err as {code?: number}).code ?? 1) : 0, stdout: out, stderr: errOut}),
        )
        child.stdin!.end(input ?? '')
      })
    const v = await ev(['--version'])
    expect(v.stdout).toBe(`evtctl/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
    const h = await ev(['--help'])
    expect(h.code, h.stderr).toBe(0)
    for (const word of ['USAGE', 'tail', 'publish', 'replay', 'dlq', 'config'])
      expect(h.stdout).toContain(word)
    const p = await ev(['publish', 'packed'], 'a\nb\n')
    expect(p.code, p.stderr).toBe(0)
    const t = await ev(['tail', 'packed', '--from', 'beginning', '--until', 'end', '-o', 'raw'])
    expect(t.stdout).toBe('a\nb\n')
    const topic = await createTopic('packed')
    const k = await ev(['publish', `kafka://${env.KAFKA_BROKERS}/${topic}`], 'over-kafka\n')
    expect(k.code, k.stderr).toBe(0)
    const seen = await kcat(['-b', env.KAFKA_BROKERS!, '-C', '-t', topic, '-e', '-q'])
    expect(seen.stdout.toString()).toBe('over-kafka\n')
  }, 240_000)
})
