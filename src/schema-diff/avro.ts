import {type Engine, SchemaInputError} from './types.js'

const unsupported = async (): Promise<never> => {
  throw new SchemaInputError(
    'avro is not supported yet',
    undefined,
    undefined,
    undefined,
    'FORMAT_UNSUPPORTED',
  )
}
export const avroEngine: Engine = {check: unsupported, compare: unsupported}
