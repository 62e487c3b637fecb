import {describe, expect, test} from 'vitest'
import {MAX_MESSAGE_BYTES, maxMessageBytes, toEntry} from './codec.js'

describe('the queue limit on a message', () => {
  test("comes from the queue's MaximumMessageSize (up to 1 MiB), else SQS's 256 KiB", () => {
    expect(maxMessageBytes({MaximumMessageSize: '1048576'})).toBe(1_048_576)
    expect(maxMessageBytes({MaximumMessageSize: '1024'})).toBe(1024)
    // ElasticMQ and LocalStack may not report it; nonsense is not trusted either.
    expect(maxMessageBytes({})).toBe(MAX_MESSAGE_BYTES)
    expect(maxMessageBytes({MaximumMessageSize: 'x'})).toBe(MAX_MESSAGE_BYTES)
    expect(maxMessageBytes({MaximumMessageSize: '2000000'})).toBe(MAX_MESSAGE_BYTES)
  })

  test('is what a message is checked against', () => {
    const env = {v: 1 as const, value: {utf8: 'x'.repeat(2000)}}
    expect(() => toEntry(env, '0', {fifo: false, maxBytes: 1024})).toThrow(
      /2,000 bytes with attributes; the queue allows 1,024/,
    )
    expect(toEntry(env, '0', {fifo: false, maxBytes: 1_048_576}).MessageBody).toHaveLength(2000)
  })
})
