import type {Payload} from '../envelope/payload.js'

/**
 * A decoder turns a payload's bytes into the data people filter on and look at. It never
 * changes the envelope: the bytes stay the source of truth (a capture replays byte-exact).
 * Decoders form a chain (./chain.ts); the first that can read a payload decodes it.
 */
export interface Decoder {
  /** Its name in the view: 'json', 'text', 'binary' (later 'avro', 'protobuf'). */
  readonly name: string
  /** Whether this decoder's data has fields that paths such as {value.a.b} can reach. */
  readonly structured: boolean
  /** A cheap look at the payload (no full parse): might this decoder read it? */
  canDecode(p: Payload): boolean
  /**
   * The decoded data, or NOT_DECODED when the payload turned out not to be this format (the
   * chain then asks the next decoder). May be a promise (a schema fetched from a registry).
   */
  decode(p: Payload): unknown
}

/** What Decoder.decode returns for a payload it cannot read after all. */
export const NOT_DECODED: unique symbol = Symbol('not decoded')

/** A payload as the chain decoded it. */
export interface Decoded {
  /** The decoder that read it. */
  codec: string
  structured: boolean
  data: unknown
}
