import {createRequire} from 'node:module'
import {describe, expect, test} from 'vitest'
import {loadPlatformatic} from './platformatic-lib.js'

describe('@platformatic/kafka loaded with validators compiled on first use', () => {
  test('its option validators still refuse bad options, and accept good ones', async () => {
    const lib = await loadPlatformatic()
    // The patch is in place (the library's layout is what it expects).
    const fromLib = createRequire(createRequire(import.meta.url).resolve('@platformatic/kafka'))
    expect(fromLib('ajv/dist/2020.js').Ajv2020.prototype.compile.lazy).toBe(true)
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
