import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, test} from 'vitest'
import {ROOT} from '../../scripts/brokers.mjs'
import {brokerEnv} from '../brokers/env.js'

/**
 * `npm run brokers` itself, on a second, private set of brokers (EVTCTL_BROKER_STATE), so the
 * shared brokers other tests use are never touched. ElasticMQ only: the quickest to start.
 */
const shared = brokerEnv()
const stateDir = mkdtempSync(join(tmpdir(), 'evtctl-harness-'))
const script = join(ROOT, 'scripts', 'brokers.mjs')

function brokers(...args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: {...process.env, EVTCTL_BROKER_STATE: stateDir},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b) => {
      stdout += b
    })
    child.stderr.on('data', (b) => {
      stderr += b
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}

const sqsState = (): {pid: number; port: number} =>
  JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).sqs

/** Live JVMs whose command line names the private state directory (what `ps` shows). */
function jvms(): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], {encoding: 'utf8'})
    .split('\n')
    .filter((l) => /\bjava\b/.test(l) && l.includes(`${stateDir}/`))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until(what: () => boolean, ms = 10_000) {
  const end = Date.now() + ms
  while (!what() && Date.now() < end) await new Promise((r) => setTimeout(r, 100))
  return what()
}

describe.skipIf(!shared.SQS_ENDPOINT)('harness: npm run brokers up/down', () => {
  let safe = false
  afterAll(async () => {
    // Whatever happened above: leave no JVM of ours behind (only if the private state dir was honoured).
    if (safe) await brokers('down')
    for (const pid of jvms()) process.kill(pid, 'SIGKILL')
    rmSync(stateDir, {recursive: true, force: true})
  }, 60_000)

  test('up keeps healthy brokers, restarts only a dead one on its old port; down stops every JVM it started', async () => {
    // Two ups at the same time (as two test runs starting together): one broker, one JVM.
    const [a, b] = await Promise.all([brokers('up', 'sqs'), brokers('up', 'sqs')])
    expect(a.code, a.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    // The private state directory is in use (else stop here: down would hit the shared brokers).
    expect(existsSync(join(stateDir, 'state.json'))).toBe(true)
    const first = sqsState()
    expect(`http://127.0.0.1:${first.port}`).not.toBe(shared.SQS_ENDPOINT)
    safe = true
    expect(a.stdout).toContain(`SQS_ENDPOINT=http://127.0.0.1:${first.port}`)
    expect(b.stdout).toContain(`SQS_ENDPOINT=http://127.0.0.1:${first.port}`)
    expect(jvms()).toEqual([first.pid])

    // Healthy: kept as it is.
    const again = await brokers('up', 'sqs')
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toMatch(/sqs already running/)
    expect(sqsState()).toMatchObject({pid: first.pid, port: first.port})

    // Dead (kill -9): restarted, on the same port, and only it.
    process.kill(first.pid, 'SIGKILL')
    expect(await until(() => !alive(first.pid))).toBe(true)
    const restarted = await brokers('up', 'sqs')
    expect(restarted.code, restarted.stderr).toBe(0)
    expect(restarted.stderr).toMatch(
      new RegExp(`sqs is not running \\(was pid ${first.pid}\\); restarting it`),
    )
    const second = sqsState()
    expect(second.pid).not.toBe(first.pid)
    expect(second.port).toBe(first.port)
    expect(jvms()).toEqual([second.pid])

    // State lost (deleted or damaged): up finds the running JVM's leftovers instead of adding a second one…
    writeFileSync(join(stateDir, 'state.json'), '{"sqs": ')
    const afterLoss = await brokers('up', 'sqs')
    expect(afterLoss.code, afterLoss.stderr).toBe(0)
    const third = sqsState()
    expect(jvms()).toEqual([third.pid])
    expect(alive(second.pid)).toBe(false)

    // …and down stops every JVM it ever started, even when state.json knows none of them.
    writeFileSync(join(stateDir, 'state.json'), '{}')
    const down = await brokers('down')
    expect(down.code, down.stderr).toBe(0)
    expect(await until(() => jvms().length === 0)).toBe(true)
    expect(alive(third.pid)).toBe(false)
  }, 180_000)
})
