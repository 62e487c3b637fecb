import {createHash, randomBytes} from 'node:crypto'
import {chmod, lstat, mkdir, readFile, rename, unlink, writeFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {RegisteredSchema, SchemaReference, SchemaType} from './client.js'

/** Where schemas fetched by id are kept: $XDG_CACHE_HOME/evtctl/schemas (else ~/.cache/…). */
export function schemaCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'evtctl', 'schemas')
}

/** A schema as fetched by id, with the texts of the schemas it references (depth first). */
export interface CachedSchema {
  schema: RegisteredSchema
  deps: Array<{name: string; text: string}>
}

const FORMAT = 1

/**
 * Schemas by registry and id, on disk: a registry never changes what an id means, so an entry
 * never expires, and a second run decodes without asking the registry at all. Only lookups by
 * id are kept ("the latest version of a subject" changes, and is always asked for). A file holds
 * the registry's URL without credentials, the id and the schema texts — never a user name,
 * password or token (they are not part of the key either). The directory is used only when it is
 * a directory of this user (not a symlink). Best effort: a file that cannot be
 * read, parsed or written is ignored (the schema is fetched, and the file written again); the
 * directory is 0700, the files 0600, each written whole (a temporary file renamed).
 */
export class SchemaDiskCache {
  private made?: Promise<boolean>

  readonly registry: string

  /** `registryUrl`: kept without credentials, query or fragment (never a secret on disk). */
  constructor(
    readonly dir: string,
    registryUrl: string,
  ) {
    const u = new URL(registryUrl)
    u.username = ''
    u.password = ''
    u.search = ''
    u.hash = ''
    this.registry = u.toString().replace(/\/+$/, '')
  }

  /** The file for `id`: a hash of the registry URL and the id (any URL makes a safe name). */
  fileOf(id: number): string {
    const key = createHash('sha256').update(`${this.registry}\u0000${id}`).digest('hex')
    return join(this.dir, `${key.slice(0, 40)}.json`)
  }

  async get(id: number): Promise<CachedSchema | undefined> {
    if (!(await this.ensureDir())) return undefined
    let text: string
    try {
      text = await readFile(this.fileOf(id), 'utf8')
    } catch {
      return undefined
    }
    try {
      return parseEntry(JSON.parse(text), this.registry, id)
    } catch {
      return undefined
    }
  }

  async put(entry: CachedSchema): Promise<void> {
    try {
      if (!(await this.ensureDir())) return
      const file = this.fileOf(entry.schema.id)
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
      const s = entry.schema
      const body = {
        format: FORMAT,
        registry: this.registry,
        id: s.id,
        type: s.type,
        schema: s.schema,
        references: s.references,
        ...(s.subject !== undefined ? {subject: s.subject} : {}),
        ...(s.version !== undefined ? {version: s.version} : {}),
        deps: entry.deps,
        sha256: checksum(s.type, s.schema, entry.deps),
      }
      await writeFile(tmp, `${JSON.stringify(body)}\n`, {mode: 0o600, flag: 'wx'})
      try {
        await rename(tmp, file)
      } catch {
        await unlink(tmp).catch(() => {})
      }
    } catch {
      // A cache that cannot be written only costs the next run a request.
    }
  }

  private ensureDir(): Promise<boolean> {
    this.made ??= (async () => {
      try {
        await mkdir(this.dir, {recursive: true, mode: 0o700})
        // Only a real directory of this user is trusted (not a symlink, not someone else's: their
        // schemas would decide what this run shows).
        const st = await lstat(this.dir)
        if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) return false
        // mkdir's mode applies only to a directory it made (and under the umask): make sure.
        await chmod(this.dir, 0o700)
        return true
      } catch {
        return false
      }
    })()
    return this.made
  }
}

/** A cache file's entry, or a throw when it is damaged or belongs to another registry or id. */
function parseEntry(b: unknown, registry: string, id: number): CachedSchema {
  const e = b as Record<string, unknown>
  const type = e.type as SchemaType
  if (
    e.format !== FORMAT ||
    e.registry !== registry ||
    e.id !== id ||
    (type !== 'AVRO' && type !== 'PROTOBUF' && type !== 'JSON') ||
    typeof e.schema !== 'string' ||
    !Array.isArray(e.references) ||
    !Array.isArray(e.deps) ||
    !e.deps.every(
      (d: {name?: unknown; text?: unknown}) => typeof d?.name === 'string' && typeof d.text === 'string',
    ) ||
    e.sha256 !== checksum(type, e.schema, e.deps as CachedSchema['deps'])
  )
    throw new Error('not a schema cache entry')
  return {
    schema: {
      id,
      type,
      schema: e.schema,
      references: e.references as SchemaReference[],
      ...(typeof e.subject === 'string' ? {subject: e.subject} : {}),
      ...(typeof e.version === 'number' ? {version: e.version} : {}),
    },
    deps: e.deps as CachedSchema['deps'],
  }
}

/** Over what decoding uses: a file changed on disk (a flipped bit, an edit) is not trusted. */
function checksum(type: string, schema: string, deps: CachedSchema['deps']): string {
  return createHash('sha256')
    .update(JSON.stringify([type, schema, deps]))
    .digest('hex')
}
