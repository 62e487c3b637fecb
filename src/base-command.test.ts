import {Errors} from '@oclif/core'
import {describe, expect, test} from 'vitest'
import {fromOclif} from './base-command.js'

describe('exit codes come from error types, never from message text (#11.6)', () => {
  test("oclif's errors keep their exit code 2 (usage)", () => {
    expect(fromOclif(new Errors.CLIError('Nonexistent flag: --nope'))?.exitCode).toBe(2)
  })

  test('a bug whose message mentions an argument or a flag is not a usage error', () => {
    expect(
      fromOclif(new TypeError('The "path" argument must be of type string. Received undefined')),
    ).toBeUndefined()
    expect(fromOclif(new Error('flag parsing went wrong inside evtctl'))).toBeUndefined()
  })
})
