import zlib from 'node:zlib'

/**
 * zstd in Node's own zlib: there from Node 22.15 and 23.8 on (not in Node 20). Publishing with
 * `--compression zstd` needs it (@platformatic/kafka compresses with it); reading uses it when
 * there and falls back to fzstd (pure JavaScript) otherwise.
 */
export const zlibZstd: {compress(b: Buffer): Buffer; decompress(b: Buffer): Buffer} | undefined =
  typeof (zlib as {zstdCompressSync?: unknown}).zstdCompressSync === 'function'
    ? {
        compress: (b) => (zlib as unknown as {zstdCompressSync(b: Buffer): Buffer}).zstdCompressSync(b),
        decompress: (b) => (zlib as unknown as {zstdDecompressSync(b: Buffer): Buffer}).zstdDecompressSync(b),
      }
    : undefined
