import {describe, expect, test} from 'vitest'
import type {NamedContext} from '../../config/config.js'
import {parseTarget} from '../../config/targets.js'
import {sqsClientConfig} from './sqs-adapter.js'

const creds = {AWS_ACCESS_KEY_ID: 'AKIAEXAMPLELEAK1234', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't'}
const config = (url: string, env: NodeJS.ProcessEnv = creds, profile?: string, ctx?: NamedContext) => {
  const t = parseTarget(url, ctx, env)
  if (t.kind !== 'sqs') throw new Error('not sqs')
  return sqsClientConfig(t, env, profile)
}
const placeholder = {accessKeyId: 'local', secretAccessKey: 'local'}

describe('where AWS credentials may go (#18.1)', () => {
  test('AWS itself gets the standard chain (no placeholders), with the profile', () => {
    const c = config('https://sqs.eu-west-1.amazonaws.com/123456789012/q', creds, 'p')
    expect(c).not.toHaveProperty('credentials')
    expect(c).toMatchObject({region: 'eu-west-1', profile: 'p'})
    expect(config('sqs://us-east-1/q')).not.toHaveProperty('credentials')
  })

  test('a host that only looks like AWS is not AWS: refused, also with a current context and its profile', () => {
    const ctx: NamedContext = {name: 'prod', broker: 'sqs', region: 'us-east-1', profile: 'prodprofile'}
    for (const url of [
      'https://sqs.us-east-1.amazonaws.com.evil.example/1/q',
      'https://sqs.us-east-1.amazonaws.comevil.example/1/q',
    ]) {
      expect(() => config(url, creds, undefined, ctx), url).toThrow(
        expect.objectContaining({exitCode: 3, code: 'ENDPOINT_NOT_CONFIGURED'}),
      )
    }
  })

  test('an unconfigured loopback host gets placeholders, whatever the environment holds', () => {
    for (const url of [
      'http://127.0.0.1:9324/000000000000/q',
      'http://localhost:4566/000000000000/q',
      'http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/q',
    ]) {
      const c = config(url, {...creds, AWS_PROFILE: 'default'})
      expect(c, url).toMatchObject({credentials: placeholder})
      expect(c, url).not.toHaveProperty('profile')
    }
  })

  test('--profile to an unconfigured host is exit 3 naming how to configure it', () => {
    expect(() => config('http://127.0.0.1:9324/000000000000/q', creds, 'prod')).toThrow(
      expect.objectContaining({exitCode: 3, message: expect.stringMatching(/--profile prod would send/)}),
    )
  })

  test('any other host nobody configured is exit 3, before a client exists', () => {
    for (const url of ['http://10.0.0.5:9324/000000000000/q', 'https://sqs.evil-amazonaws.com/1/q']) {
      expect(() => config(url), url).toThrow(
        expect.objectContaining({
          exitCode: 3,
          hint: expect.stringMatching(/--endpoint .*AWS_ENDPOINT_URL_SQS=/),
        }),
      )
    }
  })

  test('a host configured by AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL or the context gets the chain', () => {
    const url = 'http://10.0.0.5:9324/000000000000/q'
    expect(config(url, {...creds, AWS_ENDPOINT_URL_SQS: 'http://10.0.0.5:9324'})).not.toHaveProperty(
      'credentials',
    )
    expect(config(url, {...creds, AWS_ENDPOINT_URL: 'http://10.0.0.5:9324/'})).not.toHaveProperty(
      'credentials',
    )
    const ctx = {name: 'mq', broker: 'sqs', endpoint: 'http://10.0.0.5:9324', profile: 'mq'} as NamedContext
    expect(config(url, creds, undefined, ctx)).toMatchObject({profile: 'mq'})
    expect(config(url, creds, undefined, ctx)).not.toHaveProperty('credentials')
    // Ignored when the SDK is told to ignore configured endpoints.
    expect(() =>
      config(url, {
        ...creds,
        AWS_ENDPOINT_URL_SQS: 'http://10.0.0.5:9324',
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      }),
    ).toThrow(expect.objectContaining({exitCode: 3}))
  })
})

describe('time-outs (#18.4)', () => {
  test('every client has connection and request time-outs that throw', () => {
    expect(config('sqs://us-east-1/q').requestHandler).toEqual({
      connectionTimeout: 3_000,
      requestTimeout: 5_000,
      throwOnRequestTimeout: true,
    })
  })
})

describe('calls without call options', () => {
  test('reuse the middleware stack the client resolved for their command (dlq list over many queues)', () => {
    expect(config('sqs://us-east-1/q')).toMatchObject({cacheMiddleware: true})
    expect(config('http://127.0.0.1:9324/000000000000/q')).toMatchObject({cacheMiddleware: true})
  })
})
