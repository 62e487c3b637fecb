import {chmod, mkdir, readFile, rename, stat, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'
import {parse, stringify} from 'yaml'
import {z} from 'zod'
import {ConfigError} from '../errors.js'
import {type Emit, warning} from '../events.js'
import {configFile} from './paths.js'

/**
 * Contexts live in $XDG_CONFIG_HOME/evtctl/config.yaml (mode 0600). A context names one broker
 * and how to reach it. Secrets may be stored here; `config view` redacts them.
 */
const contextSchema = z
  .object({
    broker: z.enum(['kafka', 'sqs', 'pubsub', 'file']),
    production: z.boolean().optional(),
    // kafka
    brokers: z.array(z.string()).optional(),
    // sqs
    region: z.string().optional(),
    endpoint: z.string().optional(),
    profile: z.string().optional(),
    // pubsub
    project: z.string().optional(),
    'emulator-host': z.string().optional(),
    // file
    dir: z.string().optional(),
  })
  .catchall(z.unknown())

const configSchema = z.object({
  'current-context': z.string().optional(),
  contexts: z.record(z.string(), contextSchema).default({}),
})

export type Context = z.infer<typeof contextSchema>
export type Config = z.infer<typeof configSchema>
export type NamedContext = Context & {name: string}

/** Every setting a context may hold (the Kafka adapter validates its own: sasl, tls, …). */
const KNOWN_CONTEXT_KEYS = new Set([
  ...Object.keys(contextSchema.shape),
  'client-id',
  'tls',
  'sasl',
  'connection-timeout-ms',
  'request-timeout-ms',
  'reconnect-timeout-ms',
  // Any broker: the schema registry used to decode and encode (see src/codecs/schema/setup.ts).
  'schema-registry',
])

/**
 * Reads the config file. `emit` hears what is read but suspicious: a file others may read (it
 * may hold secrets) and settings evtctl does not know (a typo would otherwise go unnoticed).
 */
export async function loadConfig(file = configFile(), emit?: Emit): Promise<Config> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
    const mode = (await stat(file)).mode & 0o777
    if (emit && mode & 0o077) {
      emit(
        warning(
          'CONFIG_READABLE_BY_OTHERS',
          `${file} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}) and may hold secrets. Run: chmod 600 ${file}`,
        ),
      )
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {contexts: {}}
    throw new ConfigError(`Cannot read ${file}: ${(err as Error).message}.`, 'Check the file permissions.')
  }
  let raw: unknown
  try {
    raw = parse(text) ?? {}
  } catch (err) {
    throw new ConfigError(
      `${file} is not valid YAML: ${(err as Error).message}`,
      'Fix the file, or move it away and recreate contexts with "evtctl config set-context".',
    )
  }
  const parsed = configSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(
      `${file} is not a valid evtctl config at "${issue.path.join('.')}": ${issue.message}.`,
      'See "Configuration" in the README for the format.',
    )
  }
  if (emit)
    for (const message of unknownSettings(raw as Record<string, unknown>))
      emit(warning('CONFIG_UNKNOWN_SETTING', message))
  return parsed.data
}

function unknownSettings(raw: Record<string, unknown>): string[] {
  const out: string[] = []
  for (const key of Object.keys(raw)) {
    if (key !== 'current-context' && key !== 'contexts')
      out.push(`Unknown setting "${key}" in the config file is ignored.`)
  }
  const contexts = (raw.contexts ?? {}) as Record<string, Record<string, unknown>>
  for (const [name, ctx] of Object.entries(contexts)) {
    for (const key of Object.keys(ctx ?? {})) {
      if (!KNOWN_CONTEXT_KEYS.has(key)) {
        out.push(
          `Context "${name}" has an unknown setting "${key}"; it is ignored. Known: ${[...KNOWN_CONTEXT_KEYS].join(', ')}.`,
        )
      }
    }
  }
  return out
}

/** Writes atomically with mode 0600 in a 0700 directory: the file may hold secrets. */
export async function saveConfig(config: Config, file = configFile()): Promise<void> {
  await mkdir(dirname(file), {recursive: true, mode: 0o700})
  // mkdir leaves an existing directory as it was: a 0755 one is tightened too.
  await chmod(dirname(file), 0o700)
  const tmp = `${file}.${process.pid}.tmp`
  const ordered = {'current-context': config['current-context'], contexts: config.contexts}
  await writeFile(tmp, stringify(ordered), {mode: 0o600})
  await chmod(tmp, 0o600)
  await rename(tmp, file)
}

/** EVTCTL_CONTEXT / --context win over current-context. undefined = no context (embedded file broker). */
export function currentContext(config: Config, override?: string): NamedContext | undefined {
  const name = override || config['current-context']
  if (!name) return undefined
  const ctx = config.contexts[name]
  if (!ctx) {
    const known = Object.keys(config.contexts)
    throw new ConfigError(
      `Context "${name}" does not exist.`,
      known.length > 0
        ? `Known contexts: ${known.join(', ')}. Run "evtctl config get-contexts".`
        : 'Create one with "evtctl config set-context NAME --broker kafka --brokers 127.0.0.1:9092".',
      'CONTEXT_NOT_FOUND',
    )
  }
  return {...ctx, name}
}

/** YAML text of a config, for `config view`. */
export function formatConfig(config: Config): string {
  return stringify(config)
}

const SECRET_KEY = /pass(word)?|secret|token|credential|private|api[-_]?key|session/i

/** A deep copy with every secret-looking value replaced. Used by `config view` and --debug output. */
export function redact<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redact(v)) as T
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && v !== null && typeof v !== 'object' ? '<redacted>' : redact(v)
    }
    return out as T
  }
  if (typeof value === 'string') return redactUrl(value) as T
  return value
}

/** A URL's password replaced (`http://user:<redacted>@host`); other text unchanged. */
export function redactUrl(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi, '$1:<redacted>@')
}
