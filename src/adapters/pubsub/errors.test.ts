import {describe, expect, test} from 'vitest'
import {briefMessage, mapPubsubError} from './errors.js'

const where = {what: 'Topic "t"', project: 'p', endpoint: 'the emulator at 127.0.0.1:1'}

describe('Pub/Sub error messages', () => {
  test('keep the cause of a retried gax failure, not its wrapping (message seen with the emulator gone)', () => {
    const err = Object.assign(
      new Error(
        'Total timeout of API google.pubsub.v1.Subscriber exceeded 8000 milliseconds retrying error Error: 14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:43211. Resolution note:   before any response was received.',
      ),
      {code: 4},
    )
    expect(briefMessage(err)).toBe('connect ECONNREFUSED 127.0.0.1:43211')
    expect(mapPubsubError(err, where)).toMatchObject({exitCode: 4})
  })

  test('drop the status prefix and the list of earlier attempts', () => {
    const err = {code: 7, details: 'User not authorized to perform this action. : Previous errors [x]'}
    expect(briefMessage(err)).toBe('User not authorized to perform this action')
  })

  test('an invalid name (INVALID_ARGUMENT) is a usage error, exit 2', () => {
    const err = {code: 3, details: 'Invalid [topics] name: (name=projects/p/topics/g1)'}
    expect(mapPubsubError(err, where)).toMatchObject({exitCode: 2})
  })
})
