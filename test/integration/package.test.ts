import {execFile} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {promisify} from 'node:util'
import {describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic} from '../brokers/kafka.js'
import {kcat} from '../brokers/peers.js'
import {sandboxEnv} from '../e2e/helpers.js'

const exec = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const env = brokerEnv()

/**
 * Issue #11.10: what users install is the packed tarball with production dependencies only.
 * Everything loaded at run time must be in `dependencies` (Kafka publish loads @platformatic/kafka).
 */
describe('installed from the packed tarball, production dependencies only', () => {
  test('--version, a file-broker round trip and a Kafka publish work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evtctl-pack-'))
    const {stdout} = await exec('npm', ['pack', '--pack-destination', dir, '--json'], {cwd: ROOT})
    const tarball = join(dir, (JSON.parse(stdout) as Array<{filename: string}>)[0]!.filename)
    const prefix = join(dir, 'prefix')
    await exec('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefix', prefix, tarball], {
      cwd: dir,
      timeout: 180_000,
    })
    const bin = join(prefix, 'node_modules', '.bin', 'evtctl')
    const cli = sandboxEnv()
    const ev = (args: string[], input?: string) =>
      new Promise<{code: number; stdout: string; stderr: string}>((done) => {
        const child = execFile(bin, args, {env: cli, cwd: dir}, (err, out, errOut) =>
          done({code: err ? ((err as {code?: number}).code ?? 1) : 0, stdout: out, stderr: errOut}),
        )
        child.stdin!.end(input ?? '')
      })
    const v = await ev(['--version'])
    expect(v.stdout).toMatch(/^evtctl\/\d/)
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
