import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PubSub} from '@google-cloud/pubsub'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {ROOT} from '../../scripts/brokers.mjs'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {sandboxEnv, start} from '../e2e/helpers.js'

/**
 * The emulator going away under a tail. The shared emulator must stay up for other tests, so this
 * file starts a private one (the harness with its own EVTCTL_BROKER_STATE) and kills that.
 */
const shared = brokerEnv()
const stateDir = mkdtempSync(join(tmpdir(), 'evtctl-pubsub-gone-'))
const project = 'evtctl-local'

function brokers(...args: string[]): Promise<{code: number | null; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'brokers.mjs'), ...args], {
      env: {...process.env, EVTCTL_BROKER_STATE: stateDir},
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (b) => {
      stderr += b
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stderr}))
  })
}

const emulator = (): {pid: number; port: number} =>
  JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).pubsub

/** Starts the private emulator (again) and makes a topic on it; returns the tail's environment and URL. */
async function privateTopic(): Promise<{cli: NodeJS.ProcessEnv; url: string}> {
  const r = await brokers('up', 'pubsub')
  expect(r.code, r.stderr).toBe(0)
  const host = `127.0.0.1:${emulator().port}`
  expect(host).not.toBe(shared.PUBSUB_EMULATOR_HOST)
  process.env.METADATA_SERVER_DETECTION ??= 'none'
  const ps = new PubSub({projectId: project, apiEndpoint: host, emulatorMode: true})
  const topic = uniqueName('gone')
  try {
    await ps.createTopic(topic)
  } finally {
    await ps.close()
  }
  return {cli: {...sandboxEnv(), PUBSUB_EMULATOR_HOST: host}, url: `pubsub://${project}/topics/${topic}`}
}

/** Kills the private emulator's JVM, as a crash would (never the shared one). */
function killEmulator() {
  const {pid} = emulator()
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain(stateDir)
  process.kill(pid, 'SIGKILL')
}

async function reading(tail: ReturnType<typeof start>) {
  for (let i = 0; i < 150 && !/temporary subscription/.test(tail.err()); i++)
    await new Promise((r) => setTimeout(r, 100))
  expect(tail.err()).toMatch(/temporary subscription/)
  await new Promise((r) => setTimeout(r, 500))
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))])

describe.skipIf(!shared.PUBSUB_EMULATOR_HOST)('pubsub: the emulator goes away under a tail', () => {
  beforeAll(() => {
    // Nothing of the shared harness may be touched: a private state directory only.
    expect(stateDir).not.toBe(join(ROOT, '.brokers'))
  })
  afterAll(async () => {
    await brokers('down')
    rmSync(stateDir, {recursive: true, force: true})
  }, 60_000)

  test('a following tail ends with exit 4 within a minute, naming the temporary subscription it could not delete', async () => {
    const {cli, url} = await privateTopic()
    const tail = start(['tail', url], cli)
    await reading(tail)
    const sub = /temporary subscription (evtctl-tail-\S+)/.exec(tail.err())![1]!
    killEmulator()
    const code = await within(tail.done, 75_000)
    if (code === 'timeout') tail.child.kill('SIGKILL')
    expect(code, tail.err()).toBe(4)
    expect(tail.err()).toMatch(/Cannot reach Pub\/Sub|Lost Pub\/Sub/)
    expect(tail.err()).toMatch(new RegExp(`could not delete.*${sub}`, 'i'))
    expect(tail.err()).not.toMatch(/^\s+at /m)
  }, 150_000)

  test('Ctrl-C with the emulator gone exits 130 within seconds and names what was left behind', async () => {
    const {cli, url} = await privateTopic()
    const tail = start(['tail', url], cli)
    await reading(tail)
    const sub = /temporary subscription (evtctl-tail-\S+)/.exec(tail.err())![1]!
    killEmulator()
    await new Promise((r) => setTimeout(r, 1_000))
    const t0 = Date.now()
    tail.child.kill('SIGINT')
    const code = await within(tail.done, 30_000)
    if (code === 'timeout') tail.child.kill('SIGKILL')
    expect(code, tail.err()).toBe(130)
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(tail.err()).toMatch(new RegExp(`could not delete.*${sub}`, 'i'))
  }, 150_000)
})
