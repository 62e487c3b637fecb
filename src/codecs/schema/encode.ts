import {UsageError} from '../../errors.js'
import {RegistryClient, type RegistrySettings, type SchemaType} from './client.js'
import {loadLocalSchema} from './local.js'
import {type Compiled, SchemaSource} from './source.js'
import {writeFrame} from './wire.js'

export interface EncodeSpec {
  format: 'avro' | 'protobuf' | 'json-schema'
  subject?: string
  version?: number | 'latest'
  schemaId?: number
  /** Protobuf: the message type (default: the schema's first message). */
  messageType?: string
  valueSchema?: string
  protoPath?: readonly string[]
}

const TYPE: Record<EncodeSpec['format'], SchemaType> = {
  avro: 'AVRO',
  protobuf: 'PROTOBUF',
  'json-schema': 'JSON',
}

export interface Encoder {
  /** What the values are written with, for messages: "Avro schema id 3 (orders-value)". */
  label: string
  /** JSON value → the bytes to send (framed when a schema id is known); throws UsageError naming `where` and the field. */
  encode(value: unknown, where: string): Buffer
  registry?: RegistryClient
}

/**
 * How publish --encode writes values: with a registry schema (--subject, latest or
 * --schema-version; or --schema-id), framed with its id; or with a local schema, unframed unless
 * --schema-id says which id to frame with.
 */
export async function encoderFor(spec: EncodeSpec, settings: RegistrySettings | undefined): Promise<Encoder> {
  const want = TYPE[spec.format]
  let compiled: Compiled
  let registry: RegistryClient | undefined
  const local = await loadLocalSchema({
    part: 'value',
    file: spec.valueSchema,
    protoPath: spec.protoPath,
    messageType:
      spec.format === 'protobuf' && (spec.valueSchema || spec.protoPath?.length)
        ? spec.messageType
        : undefined,
    forced: want,
  })
  if (local) {
    if (spec.subject !== undefined)
      throw new UsageError(
        'Give either --subject (a registry schema) or a local schema, not both.',
        undefined,
        'BAD_SCHEMA',
      )
    compiled = spec.schemaId !== undefined ? {...local, ref: {...local.ref, id: spec.schemaId}} : local
  } else {
    if (!settings) {
      throw new UsageError(
        `--encode ${spec.format} needs a schema: --subject S (or --schema-id N) with a registry (--registry URL, or schema-registry in the context), or a local one (--value-schema, --proto-path with --value-type).`,
        undefined,
        'NO_SCHEMA',
      )
    }
    if (spec.subject === undefined && spec.schemaId === undefined) {
      throw new UsageError(
        `--encode ${spec.format} with a registry needs --subject S (latest, or --schema-version N) or --schema-id N.`,
        'Example: --encode avro --subject orders-value',
        'NO_SCHEMA',
      )
    }
    registry = new RegistryClient(settings)
    const source = new SchemaSource(registry)
    compiled =
      spec.schemaId !== undefined
        ? await source.compiled(spec.schemaId)
        : await source.forSubject(spec.subject!, spec.version ?? 'latest')
  }
  if (compiled.type !== want) {
    throw new UsageError(
      `--encode ${spec.format}, but ${describe(compiled)} is ${compiled.type === 'JSON' ? 'a JSON Schema' : compiled.type}.`,
      `Use --encode ${compiled.type === 'AVRO' ? 'avro' : compiled.type === 'PROTOBUF' ? 'protobuf' : 'json-schema'}, or another schema.`,
      'SCHEMA_TYPE_MISMATCH',
    )
  }
  const id = compiled.ref.id
  const label = describe(compiled)
  let write: (value: unknown) => Buffer
  if (compiled.type === 'AVRO') {
    const avro = compiled.avro
    write = (v) => (id === undefined ? avro.encode(v) : writeFrame(id, avro.encode(v)))
  } else if (compiled.type === 'JSON') {
    const json = compiled.json
    write = (v) => (id === undefined ? json.encode(v) : writeFrame(id, json.encode(v)))
  } else {
    const proto = compiled.proto
    let type: ReturnType<typeof proto.lookup>
    try {
      type = spec.messageType ? proto.lookup(spec.messageType) : proto.messageAt([0])
    } catch (err) {
      throw new UsageError(
        `--value-type ${spec.messageType}: ${(err as Error).message}.`,
        undefined,
        'BAD_SCHEMA',
      )
    }
    // Framed data names the message by its index path in the registry schema's own file.
    let indexes: number[] | undefined
    try {
      indexes = id === undefined ? undefined : proto.indexesOf(type)
    } catch (err) {
      throw new UsageError(`Cannot frame ${type.name}: ${(err as Error).message}.`, undefined, 'BAD_SCHEMA')
    }
    write = (v) =>
      indexes === undefined ? proto.encode(type, v) : writeFrame(id!, proto.encode(type, v), indexes)
  }
  return {
    label,
    ...(registry ? {registry} : {}),
    encode(value, where) {
      try {
        return write(value)
      } catch (err) {
        throw new UsageError(
          `${where} does not fit ${label}: ${(err as Error).message}.`,
          'Nothing was sent. Fix the input (Avro JSON encoding: a union value is {"type": value}; Protobuf: the JSON mapping, lowerCamelCase field names).',
          'INVALID_VALUE',
        )
      }
    },
  }
}

function describe(c: Compiled): string {
  const kind = c.type === 'AVRO' ? 'Avro schema' : c.type === 'PROTOBUF' ? 'Protobuf schema' : 'JSON Schema'
  const bits = [c.ref.id !== undefined ? `id ${c.ref.id}` : 'local', c.ref.subject].filter(Boolean)
  return `the ${kind} ${bits.join(' ')}`
}
