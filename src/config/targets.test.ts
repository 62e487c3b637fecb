import {describe, expect, test} from 'vitest'
import type {NamedContext} from './config.js'
import {parseTarget} from './targets.js'

const env = {XDG_DATA_HOME: '/data', HOME: '/home/u'} as NodeJS.ProcessEnv

describe('parseTarget', () => {
  test('bare name without any context → embedded file broker in the XDG data dir', () => {
    expect(parseTarget('orders', undefined, env)).toEqual({
      kind: 'file',
      url: 'file:///data/evtctl/orders.jsonl',
      path: '/data/evtctl/orders.jsonl',
      name: 'orders',
    })
  })

  test('file:// relative and absolute', () => {
    expect(parseTarget('file:///tmp/a/b.jsonl')).toMatchObject({
      kind: 'file',
      path: '/tmp/a/b.jsonl',
      name: 'b',
    })
    expect(parseTarget('file://./events/x.jsonl')).toMatchObject({path: `${process.cwd()}/events/x.jsonl`})
  })

  test('kafka:// with several bootstrap servers and topics', () => {
    expect(parseTarget('kafka://h1:9092,h2:9092/orders,payments')).toMatchObject({
      kind: 'kafka',
      brokers: ['h1:9092', 'h2:9092'],
      topics: ['orders', 'payments'],
    })
  })

  test.each([
    ['kafka://h:notaport/t', /Bootstrap server "h:notaport" .* not HOST:PORT/],
    ['kafka://h/t', /Bootstrap server "h" .* not HOST:PORT/],
    ['kafka://h:9092,h2:0/t', /Bootstrap server "h2:0"/],
    ['kafka://h:70000/t', /Bootstrap server "h:70000"/],
    ['kafka://h:/t', /Bootstrap server "h:"/],
  ])('kafka: %j is a usage error (exit 2), not an unreachable broker', (text, msg) => {
    expect(() => parseTarget(text)).toThrow(msg)
    expect(() => parseTarget(text)).toThrow(expect.objectContaining({exitCode: 2, code: 'BAD_TARGET'}))
  })

  test('kafka: IPv6 and host names with ports are accepted', () => {
    expect(parseTarget('kafka://[::1]:9092,kafka-1.example.com:9093/t')).toMatchObject({
      brokers: ['[::1]:9092', 'kafka-1.example.com:9093'],
    })
  })

  test.each([
    ['kafka://alice:s3cret@h:9092/t', 'kafka://alice:***@h:9092/t'],
    ['kafka://alice:s3/cr@t@h:9092/t', 'kafka://alice:***@h:9092/t'],
    ['kafka://alice:s3cret@h:notaport/t', 'kafka://alice:***@h:notaport/t'],
    ['kafka://alice@h:9092/t', 'kafka://alice@h:9092/t'],
  ])(
    'kafka: credentials in %j are refused (exit 2) with a context hint; the password is never echoed',
    (text, shown) => {
      let err: unknown
      try {
        parseTarget(text)
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({
        exitCode: 2,
        code: 'BAD_TARGET',
        hint: expect.stringMatching(/context.*sasl/),
      })
      const {message, hint} = err as {message: string; hint: string}
      expect(message).toContain(`"${shown}" has credentials in the URL`)
      for (const secret of ['s3cret', 's3/cr@t', 's3', 'cr@t']) {
        expect(message + hint).not.toContain(secret)
        expect(JSON.stringify(err)).not.toContain(secret)
      }
    },
  )

  test('pubsub:// topics and subscriptions', () => {
    expect(parseTarget('pubsub://acme/topics/orders')).toMatchObject({
      project: 'acme',
      resource: 'topics',
      name: 'orders',
    })
    expect(parseTarget('pubsub://acme/subscriptions/orders-sub')).toMatchObject({
      resource: 'subscriptions',
      name: 'orders-sub',
    })
  })

  test('sqs:// and queue URLs (AWS and ElasticMQ)', () => {
    expect(parseTarget('sqs://us-east-1/orders.fifo')).toMatchObject({
      kind: 'sqs',
      region: 'us-east-1',
      queueName: 'orders.fifo',
    })
    expect(parseTarget('https://sqs.eu-west-1.amazonaws.com/123456789012/orders')).toMatchObject({
      kind: 'sqs',
      region: 'eu-west-1',
      queueName: 'orders',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders',
      endpoint: undefined,
    })
    expect(parseTarget('http://127.0.0.1:9324/000000000000/orders')).toMatchObject({
      queueName: 'orders',
      endpoint: 'http://127.0.0.1:9324',
    }) // Look-alikes of AWS are not AWS: they get their own origin as endpoint (checked later).
    for (const host of [
      'sqs.us-east-1.amazonaws.com.evil.example',
      'sqs.us-east-1.amazonaws.comevil.example',
    ]) {
      expect(parseTarget(`https://${host}/1/q`)).toMatchObject({
        region: undefined,
        endpoint: `https://${host}`,
      })
    }
    expect(parseTarget('https://eu-west-1.queue.amazonaws.com/1/q')).toMatchObject({
      region: 'eu-west-1',
      endpoint: undefined,
    })
  })

  test('bare names resolve through the context', () => {
    const kafka: NamedContext = {name: 'local', broker: 'kafka', brokers: ['127.0.0.1:9092']}
    expect(parseTarget('orders', kafka)).toMatchObject({
      kind: 'kafka',
      url: 'kafka://127.0.0.1:9092/orders',
      context: kafka,
    })
    const sqs: NamedContext = {
      name: 's',
      broker: 'sqs',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9324',
    }
    expect(parseTarget('orders', sqs)).toMatchObject({
      kind: 'sqs',
      url: 'sqs://us-east-1/orders',
      endpoint: 'http://127.0.0.1:9324',
    })
    const ps: NamedContext = {name: 'p', broker: 'pubsub', project: 'demo'}
    expect(parseTarget('orders', ps)).toMatchObject({url: 'pubsub://demo/topics/orders'})
    expect(parseTarget('subscriptions/orders-sub', ps)).toMatchObject({
      url: 'pubsub://demo/subscriptions/orders-sub',
    })
    const file: NamedContext = {name: 'f', broker: 'file', dir: '/srv/topics'}
    expect(parseTarget('orders', file)).toMatchObject({path: '/srv/topics/orders.jsonl'})
  })

  test.each([
    ['', /empty/],
    ['amqp://x/y', /Unknown target scheme "amqp:\/\/"/],
    ['kafka://h1:9092', /needs bootstrap servers and a topic/],
    ['pubsub://acme/orders', /not a Pub\/Sub target/],
    ['sqs://orders', /not an SQS target/],
    ['has space', /neither a URL nor a plain/],
  ])('%j is a usage error with a hint', (text, msg) => {
    expect(() => parseTarget(text)).toThrow(msg)
    expect(() => parseTarget(text)).toThrow(
      expect.objectContaining({exitCode: 2, hint: expect.stringMatching(/\S/)}),
    )
  })

  test('a context missing what a bare name needs says which flag sets it', () => {
    expect(() => parseTarget('orders', {name: 'k', broker: 'kafka'})).toThrow(
      expect.objectContaining({hint: expect.stringContaining('--brokers')}),
    )
  })
})
