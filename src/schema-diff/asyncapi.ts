import {type Engine, SchemaInputError} from './types.js'

const unsupported = async (): Promise<never> => {
  throw new SchemaInputError(
    'asyncapi is not supported yet',
    undefined,
    undefined,
    undefined,
    'FORMAT_UNSUPPORTED',
  )
}
export const asyncapiEngine: Engine = {check: unsupported, compare: unsupported}
