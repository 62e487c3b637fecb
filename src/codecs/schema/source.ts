import type {SchemaRef} from '../types.js'
import type {AvroCodec} from './avro.js'
import {
  type RegisteredSchema,
  type RegistryClient,
  RegistryError,
  type SchemaReference,
  type SchemaType,
} from './client.js'
import type {SchemaDiskCache} from './disk-cache.js'
import type {JsonSchemaCodec} from './json-schema.js'
import type {ProtobufCodec} from './protobuf.js'

/** A schema ready to read and write data. */
export type Compiled =
  | {type: 'AVRO'; ref: SchemaRef; avro: AvroCodec}
  | {
      type: 'PROTOBUF'
      ref: SchemaRef
      proto: ProtobufCodec /** local: the message type chosen */
      message?: string
    }
  | {type: 'JSON'; ref: SchemaRef; json: JsonSchemaCodec}

/**
 * Registry schemas compiled by id, once per run; synchronous access once compiled (the hot path).
 * With a disk cache, a schema (and what it references) fetched by id once is read from disk in
 * later runs; an entry that does not compile is ignored and fetched again.
 */
export class SchemaSource {
  private readonly pending = new Map<number, Promise<Compiled>>()
  private readonly ready = new Map<number, Compiled>()

  constructor(
    readonly registry: RegistryClient,
    readonly disk?: SchemaDiskCache,
  ) {}

  compiledNow(id: number): Compiled | undefined {
    return this.ready.get(id)
  }

  compiled(id: number): Promise<Compiled> {
    let p = this.pending.get(id)
    if (!p) {
      p = this.load(id).then((c) => {
        this.ready.set(id, c)
        return c
      })
      p.catch(() => {})
      this.pending.set(id, p)
    }
    return p
  }

  private async load(id: number): Promise<Compiled> {
    const cached = await this.disk?.get(id)
    if (cached) {
      try {
        return await compileWith(this.registry, cached.schema, cached.deps)
      } catch {
        // A damaged entry: fetched again below, and written over.
      }
    }
    const s = await this.registry.byId(id)
    const deps = await referencedSchemas(this.registry, s.references)
    const c = await compileWith(this.registry, s, deps)
    await this.disk?.put({schema: s, deps})
    return c
  }

  /** A subject's version ('latest' or a number) or a schema id, compiled: for publish --encode. */
  async forSubject(subject: string, version: number | 'latest'): Promise<Compiled> {
    const s = await this.registry.subjectVersion(subject, version)
    const c = await this.compiled(s.id)
    return {...c, ref: {...c.ref, subject}}
  }
}

/** Compiles a registry schema with the texts of its references (fetched by subject and version). */
async function compileWith(
  registry: RegistryClient,
  s: RegisteredSchema,
  deps: ReadonlyArray<{name: string; text: string}>,
): Promise<Compiled> {
  const ref: SchemaRef = {id: s.id, type: s.type, ...(s.subject ? {subject: s.subject} : {})}
  try {
    return await compileText(s.type, s.schema, deps, ref)
  } catch (err) {
    throw new RegistryError(
      `Schema id ${s.id} from ${registry.where} could not be compiled (${s.type}): ${(err as Error).message}`,
      'bad-response',
    )
  }
}

export async function compileText(
  type: SchemaType,
  text: string,
  deps: ReadonlyArray<{name: string; text: string}>,
  ref: SchemaRef,
): Promise<Compiled> {
  if (type === 'AVRO') {
    const {compileAvro} = await import('./avro.js')
    return {
      type,
      ref,
      avro: await compileAvro(
        text,
        deps.map((d) => d.text),
      ),
    }
  }
  if (type === 'PROTOBUF') {
    const {compileProtobuf} = await import('./protobuf.js')
    return {type, ref, proto: await compileProtobuf({name: 'main.proto', text}, deps)}
  }
  const {compileJsonSchema} = await import('./json-schema.js')
  return {type, ref, json: await compileJsonSchema(text, deps)}
}

/** Referenced schemas, each before those that use it; each subject/version fetched once. */
async function referencedSchemas(
  registry: RegistryClient,
  refs: readonly SchemaReference[],
  seen = new Set<string>(),
  depth = 0,
): Promise<Array<{name: string; text: string}>> {
  if (depth > 32) throw new RegistryError('Schema references nest deeper than 32 levels.', 'bad-response')
  const out: Array<{name: string; text: string}> = []
  for (const r of refs) {
    const key = `${r.subject}\u0000${r.version}`
    if (seen.has(key)) continue
    seen.add(key)
    const s = await registry.subjectVersion(r.subject, r.version)
    out.push(...(await referencedSchemas(registry, s.references, seen, depth + 1)))
    out.push({name: r.name, text: s.schema})
  }
  return out
}
