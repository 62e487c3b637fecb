import {readdir, readFile, stat} from 'node:fs/promises'
import {extname, join, relative} from 'node:path'
import {UsageError} from '../../errors.js'
import type {SchemaType} from './client.js'
import {type Compiled, compileText} from './source.js'

export interface LocalSchemaSpec {
  /** --value-schema / --key-schema: an .avsc, a JSON Schema .json, or a .proto (with --…-type). */
  file?: string
  /** --proto-path: folders whose .proto files are loaded. */
  protoPath?: readonly string[]
  /** --value-type / --key-type: the Protobuf message, e.g. acme.orders.v1.Order. */
  messageType?: string
  /** --decode / --encode when it names a format. */
  forced?: SchemaType
  /** 'value' or 'key', for messages. */
  part: 'value' | 'key'
}

const MAX_PROTO_FILES = 2000

/** A schema from local files (no registry), or undefined when none was given for this part. */
export async function loadLocalSchema(spec: LocalSchemaSpec): Promise<Compiled | undefined> {
  const flag = (s: string) => `--${spec.part}-${s}`
  if (!spec.file && !spec.messageType) return undefined
  const isProto = spec.messageType !== undefined || extname(spec.file ?? '') === '.proto'
  if (isProto) {
    if (!spec.messageType) {
      throw new UsageError(
        `${flag('schema')} ${spec.file} is a .proto file: say which message with ${flag('type')} pkg.Message.`,
        `Example: ${flag('schema')} order.proto ${flag('type')} acme.Order`,
        'BAD_SCHEMA',
      )
    }
    const files = [
      ...(spec.file ? [{name: spec.file, text: await readText(spec.file, flag('schema'))}] : []),
      ...(await protoFiles(spec.protoPath ?? [])),
    ]
    if (files.length === 0) {
      throw new UsageError(
        `${flag('type')} ${spec.messageType} needs .proto files: give --proto-path DIR or ${flag('schema')} FILE.proto.`,
        undefined,
        'BAD_SCHEMA',
      )
    }
    const {compileProtobuf} = await import('./protobuf.js')
    let proto: Awaited<ReturnType<typeof compileProtobuf>>
    try {
      proto = await compileProtobuf(files[0]!, files.slice(1))
    } catch (err) {
      throw new UsageError(
        `The .proto files could not be compiled: ${(err as Error).message}`,
        undefined,
        'BAD_SCHEMA',
      )
    }
    try {
      proto.lookup(spec.messageType)
    } catch {
      throw new UsageError(
        `${flag('type')} ${spec.messageType}: no such message in the .proto files given.`,
        'Name it with its package, e.g. acme.orders.v1.Order.',
        'BAD_SCHEMA',
      )
    }
    return {
      type: 'PROTOBUF',
      ref: {type: 'PROTOBUF', message: spec.messageType},
      proto,
      message: spec.messageType,
    }
  }
  const file = spec.file!
  const text = await readText(file, flag('schema'))
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new UsageError(
      `${flag('schema')} ${file} is not JSON: ${(err as Error).message}.`,
      undefined,
      'BAD_SCHEMA',
    )
  }
  const type: SchemaType = spec.forced ?? (extname(file) === '.avsc' || looksAvro(parsed) ? 'AVRO' : 'JSON')
  try {
    return await compileText(type, text, [], {type})
  } catch (err) {
    throw new UsageError(
      `${flag('schema')} ${file} is not a valid ${type === 'AVRO' ? 'Avro' : 'JSON'} schema: ${(err as Error).message}`,
      undefined,
      'BAD_SCHEMA',
    )
  }
}

function looksAvro(s: unknown): boolean {
  if (typeof s === 'string' || Array.isArray(s)) return true
  const o = s as Record<string, unknown>
  return (
    o?.$schema === undefined &&
    (Array.isArray(o?.fields) || Array.isArray(o?.symbols) || o?.type === 'record')
  )
}

async function readText(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    throw new UsageError(`Cannot read ${flag} ${file}.`, 'Check the path.', 'BAD_SCHEMA')
  }
}

/** Every .proto file under the folders, named by their path relative to the folder (the import name). */
async function protoFiles(dirs: readonly string[]): Promise<Array<{name: string; text: string}>> {
  const out: Array<{name: string; text: string}> = []
  for (const dir of dirs) {
    const st = await stat(dir).catch(() => undefined)
    if (!st?.isDirectory())
      throw new UsageError(`--proto-path ${dir} is not a folder.`, undefined, 'BAD_SCHEMA')
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, {withFileTypes: true})) {
        const p = join(d, e.name)
        if (e.isDirectory()) await walk(p)
        else if (e.isFile() && e.name.endsWith('.proto')) {
          if (out.length >= MAX_PROTO_FILES)
            throw new UsageError(
              `--proto-path has more than ${MAX_PROTO_FILES} .proto files.`,
              undefined,
              'BAD_SCHEMA',
            )
          out.push({name: relative(dir, p), text: await readFile(p, 'utf8')})
        }
      }
    }
    await walk(dir)
  }
  return out
}
