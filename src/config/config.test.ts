import {mkdtempSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'
import {currentContext, loadConfig, redact, saveConfig} from './config.js'

const tmp = () => join(mkdtempSync(join(tmpdir(), 'evtctl-cfg-')), 'evtctl', 'config.yaml')

describe('config', () => {
  test('a missing file is an empty config', async () => {
    expect(await loadConfig(tmp())).toEqual({contexts: {}})
  })

  test('saves with mode 0600 in a 0700 directory and loads back', async () => {
    const file = tmp()
    const config = {
      'current-context': 'local',
      contexts: {local: {broker: 'kafka' as const, brokers: ['h:1']}},
    }
    await saveConfig(config, file)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700)
    expect(await loadConfig(file)).toEqual(config)
  })

  test('invalid YAML and invalid shape are config errors (exit 3)', async () => {
    const file = tmp()
    await saveConfig({contexts: {}}, file)
    writeFileSync(file, 'contexts: [unclosed')
    await expect(loadConfig(file)).rejects.toMatchObject({exitCode: 3})
    writeFileSync(file, 'contexts:\n  x:\n    broker: rabbit\n')
    await expect(loadConfig(file)).rejects.toThrow(/contexts.x.broker/)
  })

  test('current context: override wins; unknown names list the known ones', () => {
    const config = {
      'current-context': 'a',
      contexts: {a: {broker: 'file' as const}, b: {broker: 'kafka' as const}},
    }
    expect(currentContext(config)?.name).toBe('a')
    expect(currentContext(config, 'b')?.name).toBe('b')
    expect(currentContext({contexts: {}})).toBeUndefined()
    expect(() => currentContext(config, 'c')).toThrow(
      expect.objectContaining({exitCode: 3, hint: expect.stringContaining('a, b')}),
    )
  })

  test('redact hides secrets at any depth and keeps the rest', () => {
    const out = redact({
      broker: 'kafka',
      sasl: {mechanism: 'scram-sha-512', username: 'u', password: 'hunter2'},
      token: 't',
      aws: {secretAccessKey: 's', sessionToken: 'x', region: 'eu'},
      list: [{apiKey: 'k'}],
    })
    expect(JSON.stringify(out)).not.toMatch(/hunter2|"t"|"s"|"x"|"k"/)
    expect(out).toMatchObject({
      broker: 'kafka',
      sasl: {mechanism: 'scram-sha-512', username: 'u', password: '<redacted>'},
    })
  })
})
