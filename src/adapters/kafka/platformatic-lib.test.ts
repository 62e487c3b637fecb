import {createRequire} from 'node:module'
import {describe, expect, test} from 'vitest'
import {loadPlatformatic} from './platformatic-lib.js'

describe('@platformatic/kafka loaded with validators compiled on first use', () => {
  test('its option validators still refuse bad options, and accept good ones', async () => {
    const lib = await loadPlatformatic()
    // The library's validators were made lazily (a compiled ajv validator carries its schema)…
    const validators = Object.entries(lib).filter(([name]) => name.endsWith('Validator'))
    expect(validators.length).toBeGreaterThan(10)
    for (const [, v] of validators) expect('schema' in (v as object)).toBe(false)
    // …and Ajv is as it was after the import (evtctl's own schemas compile up front)…
    const fromLib = createRequire(createRequire(import.meta.url).resolve('@platformatic/kafka'))
    const {Ajv2020} = fromLib('ajv/dist/2020.js')
    expect(Ajv2020.prototype.compile.lazy).toBeUndefined()
    expect(() => new Ajv2020().compile({$ref: 'https://example.invalid/x.json'})).toThrow(/resolve/i)
    expect(
      () =>
        new lib.Producer({
          clientId: 'x',
          bootstrapBrokers: ['127.0.0.1:1'],
          strict: true,
          retries: 'x' as never,
        }),
    ).toThrow(/retries/)
    const ok = new lib.Producer({clientId: 'x', bootstrapBrokers: ['127.0.0.1:1'], strict: true})
    await ok.close()
  })
})
