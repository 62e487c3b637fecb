import type {Envelope} from '../envelope/envelope.js'
import type {Payload} from '../envelope/payload.js'
import {jsonDecoder} from './json.js'
import {binaryDecoder, textDecoder} from './text.js'
import {type Decoded, type Decoder, NOT_DECODED} from './types.js'

/** The decoders tried in order. Avro, Protobuf and JSON Schema (registry-framed) come first later. */
export const DEFAULT_CHAIN: readonly Decoder[] = [jsonDecoder, textDecoder, binaryDecoder]

/** The envelope's key and value as decoded: one view per event, shared by filters and renderers. */
export interface EventView {
  key: Decoded | null
  value: Decoded | null
}

const views = new WeakMap<Envelope, EventView>()

/**
 * The decoded view of `env`, made once per envelope. A promise only when a decoder is
 * asynchronous (none of the built-in ones is): callers that can wait (tail, before filtering
 * and writing) await it; renderers then find it made.
 */
export function prepareView(
  env: Envelope,
  chain: readonly Decoder[] = DEFAULT_CHAIN,
): EventView | Promise<EventView> {
  const made = views.get(env)
  if (made) return made
  const key = decode(env.key, chain)
  const value = decode(env.value, chain)
  if (key instanceof Promise || value instanceof Promise) {
    return Promise.all([key, value]).then(([k, v]) => remember(env, {key: k, value: v}))
  }
  return remember(env, {key, value})
}

/** The view of `env`, decoded now if it was not prepared (synchronous decoders only). */
export function viewOf(env: Envelope): EventView {
  const v = prepareView(env)
  if (v instanceof Promise) throw new Error('an asynchronous decoder needs prepareView() awaited first')
  return v
}

function remember(env: Envelope, view: EventView): EventView {
  views.set(env, view)
  return view
}

/** The first decoder of the chain that reads `p`. */
export function decode(
  p: Payload | null | undefined,
  chain: readonly Decoder[] = DEFAULT_CHAIN,
  from = 0,
): Decoded | null | Promise<Decoded | null> {
  if (p == null) return null
  for (let i = from; i < chain.length; i++) {
    const d = chain[i]!
    if (!d.canDecode(p)) continue
    const data = d.decode(p)
    if (data instanceof Promise) {
      return data.then((v) =>
        v === NOT_DECODED ? decode(p, chain, i + 1) : {codec: d.name, structured: d.structured, data: v},
      )
    }
    if (data === NOT_DECODED) continue
    return {codec: d.name, structured: d.structured, data}
  }
  return null
}
