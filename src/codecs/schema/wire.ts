/**
 * Confluent's wire format: magic byte 0, a 4-byte big-endian schema id, then the encoded data.
 * Protobuf adds, before the message, the path of the message type in the schema file as a
 * zig-zag varint count and zig-zag varint indexes ([0], the first message, is one 0 byte).
 */
export const MAGIC = 0
export const HEADER_BYTES = 5

export interface Frame {
  id: number
  /** The bytes after the 5-byte header. */
  body: Buffer
}

/** The frame of `bytes`, or undefined when they do not start like one. */
export function readFrame(bytes: Buffer): Frame | undefined {
  if (bytes.length < HEADER_BYTES || bytes[0] !== MAGIC) return undefined
  return {id: bytes.readUInt32BE(1), body: bytes.subarray(HEADER_BYTES)}
}

export function writeFrame(id: number, body: Uint8Array, indexes?: readonly number[]): Buffer {
  const head = Buffer.alloc(HEADER_BYTES)
  head[0] = MAGIC
  head.writeUInt32BE(id >>> 0, 1)
  return Buffer.concat(indexes ? [head, writeMessageIndexes(indexes), body] : [head, body])
}

/** At most this many indexes (nesting depth): anything longer is damage, not a schema. */
const MAX_INDEXES = 100

/** The Protobuf message indexes at the start of `body`, and where the message starts. */
export function readMessageIndexes(body: Buffer): {indexes: number[]; offset: number} {
  let pos = 0
  const next = (): number => {
    const {value, size} = readZigZag32(body, pos)
    pos += size
    return value
  }
  const count = next()
  if (count === 0) return {indexes: [0], offset: pos}
  if (count < 0 || count > MAX_INDEXES) throw new Error(`bad Protobuf message index count ${count}`)
  const indexes: number[] = []
  for (let i = 0; i < count; i++) {
    const ix = next()
    if (ix < 0) throw new Error(`bad Protobuf message index ${ix}`)
    indexes.push(ix)
  }
  return {indexes, offset: pos}
}

export function writeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0])
  const out: number[] = []
  for (const n of [indexes.length, ...indexes]) writeZigZag32(n, out)
  return Buffer.from(out)
}

function readZigZag32(buf: Buffer, pos: number): {value: number; size: number} {
  let raw = 0
  let shift = 0
  for (let i = 0; i < 5; i++) {
    const b = buf[pos + i]
    if (b === undefined) throw new Error('truncated Protobuf message indexes')
    raw |= (b & 0x7f) << shift
    if ((b & 0x80) === 0) return {value: (raw >>> 1) ^ -(raw & 1), size: i + 1}
    shift += 7
  }
  throw new Error('overlong varint in Protobuf message indexes')
}

function writeZigZag32(n: number, out: number[]): void {
  let v = ((n << 1) ^ (n >> 31)) >>> 0
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80)
    v >>>= 7
  }
  out.push(v)
}
