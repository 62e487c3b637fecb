import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {promisify} from 'node:util'
import {ConfigError, UsageError} from '../../errors.js'
import {type Emit, warning} from '../../events.js'
import {DEFAULT_CHAIN} from '../chain.js'
import type {Decoder} from '../types.js'
import {RegistryClient, type RegistrySettings, type SchemaType} from './client.js'
import {type DecodeMode, schemaDecoder} from './decoder.js'
import {SchemaDiskCache} from './disk-cache.js'
import {loadLocalSchema} from './local.js'
import {SchemaSource} from './source.js'

/** What a context may say about its schema registry (`schema-registry:` in config.yaml). */
export interface RegistryContextSettings {
  url?: string
  username?: string
  password?: string
  'password-env'?: string
  'password-command'?: string
  token?: string
  'token-env'?: string
  'token-command'?: string
  'ca-file'?: string
  'timeout-ms'?: number
  /** false: no on-disk schema cache for this registry (--no-schema-cache for one run). */
  cache?: boolean
}

const KNOWN = new Set([
  'url',
  'username',
  'password',
  'password-env',
  'password-command',
  'token',
  'token-env',
  'token-command',
  'ca-file',
  'timeout-ms',
  'cache',
])

export interface SchemaFlags {
  /** --decode / --encode; undefined = auto when a registry or a local schema is given. */
  mode?: DecodeMode | 'none'
  registry?: string
  valueSchema?: string
  keySchema?: string
  protoPath?: readonly string[]
  valueType?: string
  keyType?: string
  /** --[no-]schema-cache; undefined: the context's schema-registry cache setting (default on). */
  cache?: boolean
}

/**
 * The registry to use: --registry, else the context's schema-registry url. The context's
 * credentials go only to the context's own registry (the same URL); another URL gets none, and
 * a warning says so.
 */
export async function registrySettings(
  flagUrl: string | undefined,
  context: (Record<string, unknown> & {name?: string}) | undefined,
  opts: {insecure?: boolean; emit?: Emit; env?: NodeJS.ProcessEnv} = {},
): Promise<RegistrySettings | undefined> {
  const raw = context?.['schema-registry']
  let ctx: RegistryContextSettings | undefined
  if (raw !== undefined) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigError(
        `Context "${context?.name}" has an invalid schema-registry setting: expected a mapping with url, username, password…`,
        'See "Schema registry" in the README.',
      )
    }
    for (const k of Object.keys(raw)) {
      if (!KNOWN.has(k)) {
        throw new ConfigError(
          `Context "${context?.name}" has an unknown schema-registry setting "${k}". Known: ${[...KNOWN].join(', ')}.`,
          'See "Schema registry" in the README.',
        )
      }
    }
    ctx = raw as RegistryContextSettings
    if (ctx.cache !== undefined && typeof ctx.cache !== 'boolean') {
      throw new ConfigError(
        `Context "${context?.name}": schema-registry cache must be true or false, not ${JSON.stringify(ctx.cache)}.`,
        'See "Schemas" in the README.',
      )
    }
  }
  const url = flagUrl ?? ctx?.url
  if (!url) return undefined
  let parsed: URL
  try {
    parsed = new URL(url)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http')
  } catch {
    throw new UsageError(
      `--registry "${url}" is not an http(s) URL.`,
      'Example: --registry https://sr.example.com',
      'BAD_REGISTRY',
    )
  }
  const sameAsContext = ctx?.url !== undefined && sameUrl(ctx.url, url)
  if (ctx && !sameAsContext && hasCredentials(ctx)) {
    opts.emit?.(
      warning(
        'CONTEXT_NOT_USED',
        `The schema registry credentials of context "${context?.name}" are not sent to ${redactedUrl(parsed)}: they belong to ${ctx.url ?? 'no URL'}.`,
      ),
    )
  }
  const own = sameAsContext || flagUrl === undefined ? ctx : undefined
  if (opts.insecure && parsed.protocol === 'https:') {
    opts.emit?.(
      warning('TLS_NOT_VERIFIED', "The schema registry's TLS certificate is NOT verified (--insecure)."),
    )
  }
  const env = opts.env ?? process.env
  return {
    url,
    ...(own?.username !== undefined ? {username: own.username} : {}),
    ...(own ? await secret(own, 'password', env, context?.name) : {}),
    ...(own ? await secret(own, 'token', env, context?.name) : {}),
    ...(own?.['ca-file'] ? {ca: await readCa(own['ca-file'])} : {}),
    ...(own?.['timeout-ms'] ? {timeoutMs: own['timeout-ms']} : {}),
    // Not a secret: any registry the context names (by url) follows its cache setting.
    ...(ctx?.cache !== undefined ? {cache: ctx.cache} : {}),
    ...(opts.insecure ? {insecure: true} : {}),
  }
}

function hasCredentials(c: RegistryContextSettings): boolean {
  // Every known setting but where the registry is and how long to wait for it.
  return [...KNOWN]
    .filter((k) => k !== 'url' && k !== 'timeout-ms' && k !== 'cache')
    .some((k) => c[k as keyof RegistryContextSettings] !== undefined)
}

function sameUrl(a: string, b: string): boolean {
  const norm = (u: string) => u.replace(/\/+$/, '')
  return norm(a) === norm(b)
}

function redactedUrl(u: URL): string {
  const c = new URL(u)
  c.password = ''
  c.username = ''
  return c.toString()
}

/** password / token, from the value, a variable (…-env) or a command (…-command) — never echoed. */
async function secret(
  c: RegistryContextSettings,
  what: 'password' | 'token',
  env: NodeJS.ProcessEnv,
  contextName: string | undefined,
): Promise<Partial<Record<'password' | 'token', string>>> {
  const value = c[what]
  if (value !== undefined) return {[what]: value}
  const fromEnv = c[`${what}-env`]
  if (fromEnv !== undefined) {
    const v = env[fromEnv]
    if (v === undefined)
      throw new ConfigError(
        `Context "${contextName}": schema-registry ${what}-env names ${fromEnv}, which is not set.`,
        `Export ${fromEnv}, or change the context.`,
      )
    return {[what]: v}
  }
  const command = c[`${what}-command`]
  if (command !== undefined) {
    try {
      const {stdout} = await promisify(execFile)('sh', ['-c', command], {timeout: 30_000})
      return {[what]: stdout.trim()}
    } catch (err) {
      throw new ConfigError(
        `Context "${contextName}": schema-registry ${what}-command failed (${(err as NodeJS.ErrnoException).code ?? 'failed'}).`,
        'Run the command by hand to see why.',
      )
    }
  }
  return {}
}

async function readCa(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    throw new ConfigError(`Cannot read the schema registry ca-file ${file}.`, 'Check the path.')
  }
}

export interface Decoding {
  value: readonly Decoder[]
  key: readonly Decoder[]
  registry?: RegistryClient
}

/**
 * The decoder chains for keys and values, or undefined when nothing is to be decoded with a
 * schema (--decode none, or auto with no registry and no local schema). Throws UsageError for
 * a --decode naming a format with nothing to read it with.
 */
export async function decodingFor(
  flags: SchemaFlags,
  settings: RegistrySettings | undefined,
  opts: {
    /** The on-disk schema cache's directory (schemaCacheDir); without it, no disk cache. */
    cacheDir?: string
    /** Avro values as JSON text (see schemaDecoder): nothing but the JSONL encoder reads them. */
    jsonText?: boolean
  } = {},
): Promise<Decoding | undefined> {
  if (flags.mode === 'none') return undefined
  const mode = flags.mode ?? 'auto'
  const forced: SchemaType | undefined =
    mode === 'avro' ? 'AVRO' : mode === 'protobuf' ? 'PROTOBUF' : mode === 'json-schema' ? 'JSON' : undefined
  const [value, key] = await Promise.all([
    loadLocalSchema({
      part: 'value',
      file: flags.valueSchema,
      messageType: flags.valueType,
      protoPath: flags.protoPath,
      forced,
    }),
    loadLocalSchema({
      part: 'key',
      file: flags.keySchema,
      messageType: flags.keyType,
      protoPath: flags.protoPath,
      forced,
    }),
  ])
  if (!settings && !value && !key) {
    if (mode === 'auto') return undefined
    throw new UsageError(
      `--decode ${mode} needs a schema: a registry (--registry URL, or schema-registry in the context) or a local one (--value-schema, --proto-path with --value-type).`,
      undefined,
      'NO_SCHEMA',
    )
  }
  const registry = settings ? new RegistryClient(settings) : undefined
  const cached = registry && opts.cacheDir !== undefined && (flags.cache ?? settings?.cache ?? true)
  const source = registry
    ? new SchemaSource(registry, cached ? new SchemaDiskCache(opts.cacheDir!, settings!.url) : undefined)
    : undefined
  return {
    value: [schemaDecoder({mode, source, local: value, jsonText: opts.jsonText}), ...DEFAULT_CHAIN],
    key: [
      schemaDecoder({mode: key ? mode : 'auto', source, local: key, jsonText: opts.jsonText}),
      ...DEFAULT_CHAIN,
    ],
    ...(registry ? {registry} : {}),
  }
}
