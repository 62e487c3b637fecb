import type {Envelope} from '../envelope/envelope.js'
import type {Payload} from '../envelope/payload.js'
import {jsonDecoder} from './json.js'
import {binaryDecoder, textDecoder} from './text.js'
import {type Decoded, DecodeFailure, type Decoder, NOT_DECODED, SchemaDecoded} from './types.js'

/**
 * The decoders tried in order. Schema decoders (Avro, Protobuf, JSON Schema; ./schema/) are put
 * in front of these by commands that decode, and loaded only then.
 */
export const DEFAULT_CHAIN: readonly Decoder[] = [jsonDecoder, textDecoder, binaryDecoder]

/** The envelope's key and value as decoded: one view per event, shared by filters and renderers. */
export interface EventView {
  key: Decoded | null
  value: Decoded | null
}

const views = new WeakMap<Envelope, EventView>()

/**
 * The decoded view of `env`, made once per envelope. A promise only when a decoder is
 * asynchronous (a schema not fetched yet): callers that can wait (tail, before filtering and
 * writing) await it; renderers then find it made. `keyChain` decodes the key (default: `chain`).
 */
export function prepareView(
  env: Envelope,
  chain: readonly Decoder[] = DEFAULT_CHAIN,
  keyChain: readonly Decoder[] = chain,
): EventView | Promise<EventView> {
  const made = views.get(env)
  if (made) return made
  const view = decodeView(env, chain, keyChain)
  return view instanceof Promise ? view.then((v) => remember(env, v)) : remember(env, view)
}

/**
 * The decoded view of `env`, not remembered: for a read whose filters and renderer never ask
 * for it (tail -o jsonl without filters reads what addDecoded wrote into the envelope). A
 * WeakMap entry per message cost ~5% of a decoded tail, most of it in garbage collection.
 */
export function decodeView(
  env: Envelope,
  chain: readonly Decoder[] = DEFAULT_CHAIN,
  keyChain: readonly Decoder[] = chain,
): EventView | Promise<EventView> {
  const key = decode(env.key, keyChain)
  const value = decode(env.value, chain)
  if (key instanceof Promise || value instanceof Promise) {
    return Promise.all([key, value]).then(([k, v]) => ({key: k, value: v}))
  }
  return {key, value}
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
    if (data instanceof Promise) return data.then((v) => settle(p, chain, i, d, v))
    if (data === NOT_DECODED) continue
    return settle(p, chain, i, d, data)
  }
  return null
}

function settle(
  p: Payload,
  chain: readonly Decoder[],
  i: number,
  d: Decoder,
  v: unknown,
): Decoded | null | Promise<Decoded | null> {
  if (v === NOT_DECODED) return decode(p, chain, i + 1)
  if (v instanceof SchemaDecoded) return {codec: v.codec, structured: true, data: v.data, schema: v.schema}
  if (v instanceof DecodeFailure) {
    // Shown as the rest of the chain would show it, with the reason beside it.
    const rest = decode(p, chain, i + 1)
    const withError = (r: Decoded | null): Decoded | null =>
      r && {...r, error: v.error, ...(v.schema ? {schema: v.schema} : {})}
    return rest instanceof Promise ? rest.then(withError) : withError(rest)
  }
  return {codec: d.name, structured: d.structured, data: v}
}

/**
 * Writes what a schema decoding found into the envelope, beside the bytes (which stay as they
 * are): schema, decoded or decodeError, and the same for the key. Returns how many of key and
 * value failed to decode (0–2).
 */
export function addDecoded(env: Envelope, view: EventView): number {
  // What this read found replaces what a stored copy (a decoded capture) carried.
  if (env.schema !== undefined || env.decoded !== undefined || env.decodeError !== undefined) {
    delete env.schema
    delete env.decoded
    delete env.decodeError
  }
  if (env.keySchema !== undefined || env.keyDecoded !== undefined || env.keyDecodeError !== undefined) {
    delete env.keySchema
    delete env.keyDecoded
    delete env.keyDecodeError
  }
  let failed = 0
  const v = view.value
  if (v?.schema || v?.error) {
    if (v.schema) env.schema = v.schema
    if (v.error !== undefined) {
      env.decodeError = v.error
      failed++
    } else env.decoded = v.data
  }
  const k = view.key
  if (k?.schema || k?.error) {
    if (k.schema) env.keySchema = k.schema
    if (k.error !== undefined) {
      env.keyDecodeError = k.error
      failed++
    } else env.keyDecoded = k.data
  }
  return failed
}

/**
 * Decodes an event with schema decoder chains (from BaseCommand.schemaDecoding) so that filters
 * and renderers see the decoded values, without adding anything to the envelope: for reads that
 * send the envelope on (replay --where). One await per schema id, not per message.
 */
export function prepareDecoded(
  env: Envelope,
  decoding: {value: readonly Decoder[]; key: readonly Decoder[]} | undefined,
): void | Promise<void> {
  if (!decoding) return
  const v = prepareView(env, decoding.value, decoding.key)
  if (v instanceof Promise) return v.then(() => undefined)
}
