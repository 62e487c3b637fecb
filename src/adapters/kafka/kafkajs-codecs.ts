/**
 * Snappy, LZ4 and ZSTD for kafkajs, which ships only gzip and otherwise refuses to read a batch
 * ("Snappy compression not implemented") — and most production topics are compressed so.
 * - snappy and lz4: @platformatic/wasm-utils (WebAssembly, no build step; what @platformatic/kafka
 *   itself uses). The Java client frames snappy the xerial way (a magic header, then
 *   length-prefixed blocks); librdkafka writes plain snappy. Both are read.
 * - zstd: Node's zlib where it has zstd (22.15+), else fzstd (pure JavaScript; decompression
 *   only). Publishing goes through @platformatic/kafka, so kafkajs never compresses here.
 * The libraries load on the first compressed batch, not with kafkajs.
 */

import {zlibZstd} from '../../util/zstd.js'

/** kafkajs's codec interface (src/protocol/message/compression). */
interface Codec {
  compress(encoder: {buffer: Buffer}): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]) // \x82SNAPPY\0
const XERIAL_HEADER = 16 // magic, version, compatible version

let wasm: Promise<typeof import('@platformatic/wasm-utils')> | undefined
const loadWasm = () => {
  wasm ??= import('@platformatic/wasm-utils')
  return wasm
}

/** Plain or xerial-framed snappy, as bytes. Exported for tests. */
export async function snappyDecompress(buf: Buffer): Promise<Buffer> {
  const {snappyDecompress: raw} = await loadWasm()
  if (buf.length < XERIAL_HEADER || !buf.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC))
    return raw(buf)
  const blocks: Buffer[] = []
  let at = XERIAL_HEADER
  while (at + 4 <= buf.length) {
    const size = buf.readUInt32BE(at)
    at += 4
    blocks.push(raw(buf.subarray(at, at + size)))
    at += size
  }
  return Buffer.concat(blocks)
}

function readOnly(name: string, decompress: (b: Buffer) => Promise<Buffer>): () => Codec {
  return () => ({
    compress: async () => {
      throw new Error(`evtctl does not compress with kafkajs (${name}); publishing uses @platformatic/kafka`)
    },
    decompress,
  })
}

/** Registers the codecs on kafkajs's codec table. */
export function registerCodecs(kafkajs: {
  CompressionTypes: Record<string, number>
  CompressionCodecs: Record<number, () => Codec>
}): void {
  const {CompressionTypes: t, CompressionCodecs: codecs} = kafkajs
  codecs[t.Snappy!] = readOnly('snappy', snappyDecompress)
  codecs[t.LZ4!] = readOnly('lz4', async (b) => (await loadWasm()).lz4Decompress(b))
  codecs[t.ZSTD!] = readOnly('zstd', async (b) => {
    if (zlibZstd) return zlibZstd.decompress(b)
    const {decompress} = await import('fzstd')
    const out = decompress(b)
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  })
}
