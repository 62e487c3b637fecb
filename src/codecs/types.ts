import type {Payload} from '../envelope/payload.js'

/**
 * A decoder turns a payload's bytes into the data people filter on and look at. It never
 * changes the envelope: the bytes stay the source of truth (a capture replays byte-exact).
 * Decoders form a chain (./chain.ts); the first that can read a payload decodes it.
 */
export interface Decoder {
  /** Its name in the view: 'json', 'text', 'binary', 'avro', 'protobuf', 'json-schema'. */
  readonly name: string
  /** Whether this decoder's data has fields that paths such as {value.a.b} can reach. */
  readonly structured: boolean
  /** A cheap look at the payload (no full parse): might this decoder read it? */
  canDecode(p: Payload): boolean
  /**
   * The decoded data, or NOT_DECODED when the payload turned out not to be this format (the
   * chain then asks the next decoder). May be a promise (a schema fetched from a registry).
   * A SchemaDecoded names the decoder and schema that read it; a DecodeFailure says why a payload
   * meant for this decoder could not be read (the chain then shows it as the next decoder would,
   * with the error beside it).
   */
  decode(p: Payload): unknown
}

/** What Decoder.decode returns for a payload it cannot read after all. */
export const NOT_DECODED: unique symbol = Symbol('not decoded')

/** The schema a payload was decoded with (registry id and subject when known). */
export interface SchemaRef {
  id?: number
  subject?: string
  type: 'AVRO' | 'PROTOBUF' | 'JSON'
  /** Protobuf: the message type read. */
  message?: string
}

/** A payload read with a schema. */
export class SchemaDecoded {
  constructor(
    readonly codec: string,
    readonly data: unknown,
    readonly schema: SchemaRef,
  ) {}
}

/** A payload framed for (or forced to) a schema decoder that could not be read. */
export class DecodeFailure {
  constructor(
    readonly error: string,
    readonly schema?: SchemaRef,
  ) {}
}

/** A payload as the chain decoded it. */
export interface Decoded {
  /** The decoder that read it. */
  codec: string
  structured: boolean
  data: unknown
  /** Read with a schema: which. */
  schema?: SchemaRef
  /** A schema decoder was meant to read it and could not: why (data is then the fallback's). */
  error?: string
}
