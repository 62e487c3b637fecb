import {createRequire, Module} from 'node:module'

/**
 * A drop-in for kafkajs 2.2.4's record decoder (src/protocol/recordBatch/record/v0/decoder.js),
 * installed before kafkajs loads. Same output, plus `headerList`:
 * - headers in wire order, repeats and all: kafkajs folds them into an object, which loses how
 *   repeated names interleave (a=1, b=2, a=3 came out as a=[1,3], b=2);
 * - where the key, value and headers lie in the record's bytes (`rawBuffer`, `rawStart`, `rawEnd`),
 *   which a copy to another topic writes as they are (raw-batch.ts);
 * - key, value and headers read only when asked for (see KafkaRecord);
 * - offsets and timestamps with plain numbers where they fit (kafkajs parses the batch's base
 *   offset and timestamp from decimal strings with its Long class for every record: measured
 *   ~0.3 s per million records, and much garbage).
 */

/** kafkajs's protocol Decoder: the parts the record decoder uses. */
interface Decoder {
  buffer: Buffer
  offset: number
  readInt8(): number
  readVarInt(): number
  readVarLong(): {toString(): string}
  readVarIntBytes(): Buffer | null
  readVarIntString(): string | null
}

interface BatchContext {
  firstOffset: string
  firstTimestamp: string
  magicByte: number
  isControlBatch?: boolean
  timestampType: number
  maxTimestamp: string
  /** Our cache of the parsed base values, per record batch. */
  [BASE]?: {offset: number; timestamp: number}
}

const BASE = Symbol('evtctl:base')
const LOG_APPEND_TIME = 1
/** Below this, base + delta (a 32-bit varint) is still an exact number. */
const SAFE_BASE = Number.MAX_SAFE_INTEGER - 2 ** 32

/**
 * A zigzag varlong as a number while it has at most 7 bytes (49 bits: exact), else undefined and
 * the decoder's position untouched (the caller falls back to kafkajs's Long reader).
 */
function readSmallVarLong(d: Decoder): number | undefined {
  const buf = d.buffer
  let at = d.offset
  let n = 0
  let scale = 1
  for (let i = 0; i < 7; i++) {
    const byte = buf[at++]!
    n += (byte & 0x7f) * scale
    if (byte < 0x80) {
      d.offset = at
      return n % 2 === 0 ? n / 2 : -(n + 1) / 2
    }
    scale *= 128
  }
  return undefined
}

/** Where the field after the last varint read by varintAt starts. */
let afterVarint = 0

/** The zigzag varint at `at` in `buf` (afterVarint: where the next field starts). */
function varintAt(buf: Buffer, at: number): number {
  let n = 0
  for (let shift = 0; shift <= 28; shift += 7) {
    const byte = buf[at++]
    if (byte === undefined) break
    n |= (byte & 0x7f) << shift
    if (byte < 0x80) {
      afterVarint = at
      return (n >>> 1) ^ -(n & 1)
    }
  }
  throw new RangeError('a record field length is cut short or longer than 5 bytes')
}

/** Skips a length-prefixed field (length -1: null) at `at`; returns where the next one starts. */
function skipField(buf: Buffer, at: number): number {
  const len = varintAt(buf, at)
  return len > 0 ? afterVarint + len : afterVarint
}

/** Where a record's key, value and headers (from `at`) end, found by skipping over them. */
export function skipFields(buf: Buffer, at: number): number {
  at = skipField(buf, skipField(buf, at))
  const count = varintAt(buf, at)
  at = afterVarint
  for (let h = 0; h < count; h++) at = skipField(buf, skipField(buf, at))
  if (at > buf.length) throw new RangeError('a record is shorter than its fields say')
  return at
}

/**
 * A record as kafkajs's decoder returns one, with key, value and headers read when first asked
 * for. kafkajs decodes a whole fetch response at once, and its records wait there until the read
 * hands them over: made eagerly, their key, value and header objects outlived the young
 * generation and were promoted (most of a Kafka copy's GC time); made here, they die young.
 */
class KafkaRecord {
  readonly magicByte: number
  readonly attributes: number
  readonly timestamp: string
  readonly offset: string
  readonly isControlRecord: boolean
  readonly batchContext: BatchContext
  /** Positioned at the key's length: where key, value and headers start (`rawStart`). */
  readonly #decoder: Decoder
  readonly rawStart: number
  #key: Buffer | null | undefined
  #value: Buffer | null = null
  #headerList: Array<[string, Buffer | null]> | undefined
  #rawEnd = -1

  constructor(
    decoder: Decoder,
    magicByte: number,
    attributes: number,
    timestamp: string,
    offset: string,
    isControlRecord: boolean,
    batchContext: BatchContext,
  ) {
    this.#decoder = decoder
    this.rawStart = decoder.offset
    this.magicByte = magicByte
    this.attributes = attributes
    this.timestamp = timestamp
    this.offset = offset
    this.isControlRecord = isControlRecord
    this.batchContext = batchContext
  }

  /** Reads key, value and headers (once). */
  #read(): Array<[string, Buffer | null]> {
    if (this.#headerList) return this.#headerList
    const d = this.#decoder
    // The key may have been read alone already (a copy's partitioner): skipped, not sliced again.
    if (this.#key === undefined) {
      d.offset = this.rawStart
      this.#key = d.readVarIntBytes()
    } else d.offset = skipField(d.buffer, this.rawStart)
    this.#value = d.readVarIntBytes()
    const count = d.readVarInt()
    const list: Array<[string, Buffer | null]> = new Array(Math.max(count, 0))
    for (let i = 0; i < count; i++) list[i] = [d.readVarIntString() as string, d.readVarIntBytes()]
    this.#headerList = list
    return list
  }

  /** The key alone (what a copy's partitioner needs): value and headers stay unread. */
  get key(): Buffer | null {
    if (this.#key === undefined) {
      const d = this.#decoder
      const at = d.offset
      d.offset = this.rawStart
      this.#key = d.readVarIntBytes()
      d.offset = at
    }
    return this.#key
  }

  get value(): Buffer | null {
    this.#read()
    return this.#value
  }

  /** Headers in wire order, repeats and all. */
  get headerList(): Array<[string, Buffer | null]> {
    return this.#read()
  }

  /** kafkajs's shape (repeated names grouped), for anything of kafkajs's that reads it. */
  get headers(): Record<string, Buffer | null | Array<Buffer | null>> {
    const headers: Record<string, Buffer | null | Array<Buffer | null>> = {}
    for (const [name, v] of this.#read()) {
      const seen = headers[name]
      headers[name] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v]
    }
    return headers
  }

  /** The bytes key, value and headers lie in: the record's own (kafkajs hands each its slice). */
  get rawBuffer(): Buffer {
    return this.#decoder.buffer
  }

  /** Just past the last header: found by skipping over the fields, nothing made of them. */
  get rawEnd(): number {
    if (this.#rawEnd < 0) this.#rawEnd = skipFields(this.#decoder.buffer, this.rawStart)
    return this.#rawEnd
  }
}

function decodeRecord(decoder: Decoder, batchContext: BatchContext = {} as BatchContext): KafkaRecord {
  const {
    firstOffset,
    firstTimestamp,
    magicByte,
    isControlBatch = false,
    timestampType,
    maxTimestamp,
  } = batchContext
  let base = batchContext[BASE]
  if (!base) {
    base = {offset: Number(firstOffset), timestamp: Number(firstTimestamp)}
    batchContext[BASE] = base
  }
  const attributes = decoder.readInt8()

  const smallDelta = readSmallVarLong(decoder)
  let timestamp: string
  if (timestampType === LOG_APPEND_TIME && maxTimestamp) {
    timestamp = maxTimestamp
    if (smallDelta === undefined) decoder.readVarLong()
  } else if (smallDelta !== undefined && Math.abs(base.timestamp) < SAFE_BASE) {
    timestamp = String(base.timestamp + smallDelta)
  } else {
    const delta = smallDelta === undefined ? BigInt(decoder.readVarLong().toString()) : BigInt(smallDelta)
    timestamp = String(BigInt(firstTimestamp) + delta)
  }

  const offsetDelta = decoder.readVarInt()
  const offset =
    base.offset < SAFE_BASE
      ? String(base.offset + offsetDelta)
      : String(BigInt(firstOffset) + BigInt(offsetDelta))

  return new KafkaRecord(decoder, magicByte, attributes, timestamp, offset, isControlBatch, batchContext)
}

let installed = false

/** Puts the decoder in Node's module cache under kafkajs's path. Call before loading kafkajs. */
export function installRecordDecoder(): void {
  if (installed) return
  installed = true
  const req = createRequire(import.meta.url)
  const path = req.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js')
  if (req.cache[path]) return // kafkajs was loaded first: keep its own decoder
  const m = new Module(path)
  m.filename = path
  m.loaded = true
  m.exports = decodeRecord
  req.cache[path] = m
}

export const forTests = {decodeRecord, readSmallVarLong, skipFields}
