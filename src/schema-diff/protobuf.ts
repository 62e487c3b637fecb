import {type Engine, SchemaInputError} from './types.js'

const unsupported = async (): Promise<never> => {
  throw new SchemaInputError(
    'protobuf is not supported yet',
    undefined,
    undefined,
    undefined,
    'FORMAT_UNSUPPORTED',
  )
}
export const protobufEngine: Engine = {check: unsupported, compare: unsupported}
