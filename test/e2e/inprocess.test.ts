import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {afterEach, beforeEach, describe, expect, test, vi} from 'vitest'
import ConfigGetContexts from '../../src/commands/config/get-contexts.js'
import ConfigSetContext from '../../src/commands/config/set-context.js'
import Publish from '../../src/commands/publish.js'
import Tail from '../../src/commands/tail.js'

/**
 * Commands run in-process, as plugin-org's tests run theirs: Command.run(argv) returns the typed
 * result that --json prints, and stdout/stderr are captured here, without spawning a CLI.
 */
const ROOT = resolve(import.meta.dirname, '../..')
let out: string[]
let err: string[]

beforeEach(() => {
  const home = mkdtempSync(join(tmpdir(), 'evtctl-inproc-'))
  vi.stubEnv('XDG_CONFIG_HOME', join(home, 'config'))
  vi.stubEnv('XDG_DATA_HOME', join(home, 'data'))
  vi.stubEnv('EVTCTL_CONTEXT', '')
  out = []
  err = []
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(Buffer.from(chunk).toString())
    return true
  })
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(Buffer.from(chunk).toString())
    return true
  })
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
  process.exitCode = undefined
})

describe('commands in-process', () => {
  test('publish returns its report; tail writes the envelopes', async () => {
    const result = await Publish.run(['orders', '{"id":1}', '--json'], ROOT)
    expect(result).toMatchObject({
      sent: 1,
      failed: [],
      dryRun: false,
      target: expect.stringMatching(/orders\.jsonl$/),
    })
    out = []
    await Tail.run(['orders', '--from', 'beginning', '--until', 'end', '-o', 'jsonl'], ROOT)
    const lines = out.join('').split('\n').filter(Boolean)
    expect(lines.map((l) => JSON.parse(l).value)).toEqual([{json: {id: 1}}])
  })

  test('config set-context and get-contexts return typed results', async () => {
    const set = await ConfigSetContext.run(
      ['local', '--broker', 'kafka', '--brokers', '127.0.0.1:9092', '--use', '--json'],
      ROOT,
    )
    expect(set).toEqual({
      name: 'local',
      context: {broker: 'kafka', brokers: ['127.0.0.1:9092']},
      current: true,
    })
    const got = await ConfigGetContexts.run(['--json'], ROOT)
    expect(got).toEqual({
      current: 'local',
      contexts: [
        {name: 'local', current: true, broker: 'kafka', endpoint: '127.0.0.1:9092', production: false},
      ],
    })
  })

  test('a flag the broker cannot honour is exit 6 with nothing done', async () => {
    await Publish.run(['orders', 'v', '--delay', '5s'], ROOT)
    expect(process.exitCode).toBe(6)
    expect(err.join('')).toMatch(/cannot honour --delay/)
  })
})
