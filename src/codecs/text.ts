import type {Decoder} from './types.js'

/** UTF-8 text that is no other format: the text itself. */
export const textDecoder: Decoder = {
  name: 'text',
  structured: false,
  canDecode: (p) => 'utf8' in p,
  decode: (p) => ('utf8' in p ? p.utf8 : undefined),
}

/** Bytes nothing else reads: shown as {base64}, as the envelope stores them. */
export const binaryDecoder: Decoder = {
  name: 'binary',
  structured: false,
  canDecode: () => true,
  decode: (p) => ('base64' in p ? {base64: p.base64} : p),
}
