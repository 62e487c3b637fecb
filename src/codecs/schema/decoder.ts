import {DecodedJson} from '../../envelope/envelope.js'
import type {Payload} from '../../envelope/payload.js'
import {payloadBytes} from '../../envelope/payload.js'
import {DecodeFailure, type Decoder, NOT_DECODED, SchemaDecoded, type SchemaRef} from '../types.js'
import type {SchemaType} from './client.js'
import type {Compiled, SchemaSource} from './source.js'
import {readFrame, readMessageIndexes} from './wire.js'

export type DecodeMode = 'auto' | 'avro' | 'protobuf' | 'json-schema'

const TYPE_OF_MODE: Record<Exclude<DecodeMode, 'auto'>, SchemaType> = {
  avro: 'AVRO',
  protobuf: 'PROTOBUF',
  'json-schema': 'JSON',
}
const CODEC_OF_TYPE: Record<SchemaType, string> = {AVRO: 'avro', PROTOBUF: 'protobuf', JSON: 'json-schema'}

export interface SchemaDecoderOptions {
  mode: DecodeMode
  /** Registry schemas by id (Confluent framing). */
  source?: SchemaSource
  /** A local schema for this part (key or value). */
  local?: Compiled
  /**
   * Avro values as their JSON text (a DecodedJson), for output that only writes them: set only
   * when no filter or renderer will look at the decoded view.
   */
  jsonText?: boolean
}

/**
 * The decoder put in front of the default chain when decoding is asked for:
 * - framed data (magic byte 0, a schema id) is read with the registry's schema of that id;
 * - with a local schema, data is read with it (framed data: the bytes after the frame);
 * - with --decode naming a format, data that is not framed (and no local schema) is a failure;
 *   under auto it is simply not schema data (JSON, text or bytes, as without decoding).
 * A failure is a DecodeFailure: the message is still shown (as bytes), with the reason.
 */
export function schemaDecoder(opts: SchemaDecoderOptions): Decoder {
  const forced = opts.mode === 'auto' ? undefined : TYPE_OF_MODE[opts.mode]
  const {source, local} = opts
  const text = opts.jsonText === true
  return {
    name: 'schema',
    structured: true,
    canDecode: (p) => local !== undefined || forced !== undefined || mayBeFramed(p),
    decode: (p) => {
      const bytes = framedBase64(p) ?? payloadBytes(p)
      const frame = readFrame(bytes)
      if (frame && source) {
        const ready = source.compiledNow(frame.id)
        if (ready) return readFramed(ready, frame.body, forced, false, text)
        return source.compiled(frame.id).then(
          (c) => readFramed(c, frame.body, forced, false, text),
          // The schema is unknown: the error names its id.
          (err: Error) => new DecodeFailure(`schema id ${frame.id}: ${err.message}`),
        )
      }
      if (local) {
        // Without a registry, framed data is read after its frame; if that fails, as a whole.
        if (frame) {
          const r = readFramed(local, frame.body, undefined, true, text)
          if (r instanceof SchemaDecoded)
            return new SchemaDecoded(r.codec, r.data, {...r.schema, id: frame.id})
        }
        return readWith(local, bytes, local.ref, text)
      }
      if (forced) {
        if (frame)
          return new DecodeFailure(
            `framed with schema id ${frame.id}, but no schema registry is configured (--registry) and no local schema given`,
          )
        return new DecodeFailure(
          bytes.length === 0
            ? 'empty payload, not schema-registry framed data'
            : bytes[0] !== 0
              ? `not schema-registry framed data: the first byte is ${bytes[0]}, not the magic byte 0`
              : `not schema-registry framed data: ${bytes.length} byte(s), shorter than the 5-byte header`,
        )
      }
      return NOT_DECODED
    },
  }
}

function readFramed(
  c: Compiled,
  body: Buffer,
  forced: SchemaType | undefined,
  local = false,
  text = false,
): SchemaDecoded | DecodeFailure {
  if (forced && c.type !== forced) {
    return new DecodeFailure(
      `schema id ${c.ref.id} is ${c.type}, not ${forced} as --decode ${CODEC_OF_TYPE[forced]} says`,
      c.ref,
    )
  }
  if (c.type === 'PROTOBUF') {
    try {
      const {indexes, offset} = readMessageIndexes(body)
      const type = local && c.message ? c.proto.lookup(c.message) : c.proto.messageAt(indexes)
      const message = type.fullName.replace(/^\./, '')
      return new SchemaDecoded('protobuf', c.proto.decode(type, body.subarray(offset)), {...c.ref, message})
    } catch (err) {
      return new DecodeFailure(`Protobuf: ${(err as Error).message}`, c.ref)
    }
  }
  return readWith(c, body, c.ref, text)
}

function readWith(c: Compiled, bytes: Buffer, ref: SchemaRef, text = false): SchemaDecoded | DecodeFailure {
  try {
    if (c.type === 'AVRO') {
      const json = text ? c.avro.decodeJson : undefined
      return new SchemaDecoded('avro', json ? new DecodedJson(json(bytes)) : c.avro.decode(bytes), ref)
    }
    if (c.type === 'JSON') return new SchemaDecoded('json-schema', c.json.decode(bytes), ref)
    const type = c.proto.lookup(c.message!)
    return new SchemaDecoded('protobuf', c.proto.decode(type, bytes), {...ref, message: c.message})
  } catch (err) {
    const what = c.type === 'AVRO' ? 'Avro' : c.type === 'JSON' ? 'JSON' : 'Protobuf'
    return new DecodeFailure(`${what}: ${(err as Error).message}`, ref)
  }
}

/**
 * A cheap look: the payload starts with the magic byte 0 and has room for a schema id. As the
 * envelope stores it: bytes that are not UTF-8 as base64 ("AA…" then a character for 00xxxxxx),
 * UTF-8 ones as text starting with U+0000; JSON never starts with a NUL.
 */
function mayBeFramed(p: Payload): boolean {
  if ('base64' in p) return startsFramed(p.base64)
  if ('utf8' in p) return (p.utf8.length >= 5 && p.utf8.charCodeAt(0) === 0) || startsFramed(p.utf8)
  return false
}

/** Base64 of bytes that start with the magic byte 0: "A", then a character for 00xxxx. */
function startsFramed(b64: string): boolean {
  return b64.length >= 8 && b64.charCodeAt(0) === 65 && b64.charCodeAt(1) >= 65 && b64.charCodeAt(1) <= 80
}

/**
 * Framed data sent as base64 text (SQS bodies must be text, so producers base64 binary data):
 * the bytes, when the text is canonical base64 of a frame; else undefined.
 */
function framedBase64(p: Payload): Buffer | undefined {
  if (!('utf8' in p) || !startsFramed(p.utf8) || p.utf8.length % 4 !== 0) return undefined
  const bytes = Buffer.from(p.utf8, 'base64')
  return bytes.toString('base64') === p.utf8 && bytes.length >= 5 ? bytes : undefined
}
