import {describe, expect, test} from 'vitest'
import type {Envelope} from '../envelope/envelope.js'
import {DEFAULT_CHAIN, decode, prepareView, viewOf} from './chain.js'
import {type Decoder, NOT_DECODED} from './types.js'

describe('the decoder chain', () => {
  test('JSON however stored, text, binary: the first decoder that reads a payload', () => {
    expect(decode({json: {a: 1}})).toEqual({codec: 'json', structured: true, data: {a: 1}})
    expect(decode({utf8: '{"a": 1}'})).toEqual({codec: 'json', structured: true, data: {a: 1}})
    expect(decode({utf8: '{not json'})).toEqual({codec: 'text', structured: false, data: '{not json'})
    expect(decode({base64: 'AAE='})).toEqual({codec: 'binary', structured: false, data: {base64: 'AAE='}})
    expect(decode(null)).toBeNull()
  })

  test('an asynchronous decoder (a registry lookup) is awaited once; one that declines passes on', async () => {
    let calls = 0
    const framed: Decoder = {
      name: 'framed',
      structured: true,
      canDecode: (p) => 'utf8' in p && p.utf8.startsWith('F:'),
      decode: async (p) => {
        calls++
        const text = (p as {utf8: string}).utf8
        return text === 'F:bad' ? NOT_DECODED : {inner: text.slice(2)}
      },
    }
    const chain = [framed, ...DEFAULT_CHAIN]
    const env: Envelope = {v: 1, key: {utf8: 'F:bad'}, value: {utf8: 'F:x'}}
    const pending = prepareView(env, chain)
    expect(pending).toBeInstanceOf(Promise)
    const view = await pending
    expect(view.value).toEqual({codec: 'framed', structured: true, data: {inner: 'x'}})
    expect(view.key).toEqual({codec: 'text', structured: false, data: 'F:bad'})
    // Made once per event: renderers and filters share it.
    expect(viewOf(env)).toBe(view)
    expect(calls).toBe(2)
  })

  test('the envelope is never changed by decoding', () => {
    const env: Envelope = {v: 1, value: {utf8: '{"a": 1}'}}
    const before = JSON.stringify(env)
    viewOf(env)
    expect(JSON.stringify(env)).toBe(before)
  })
})
