/**
 * Topic, queue and subscription names for completion, asked of the context's broker with a short
 * time-out and cached for a minute under $XDG_CACHE_HOME/evtctl/completion. A TAB never waits more
 * than BUDGET_MS for the broker: what does not come in time is taken from the last answer (however
 * old) and fetched again in the background, for the next TAB.
 */
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdir, readdir, readFile, rename, stat, writeFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {Target} from '../config/targets.js'

/** How long a TAB waits for the broker. */
export const BUDGET_MS = 250
/** How long a cached answer is used without asking again. */
export const FRESH_MS = 60_000
/** How long a background refresh may take. */
const REFRESH_MS = 10_000

export function cacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'evtctl', 'completion')
}

export async function contextNames(env: NodeJS.ProcessEnv): Promise<string[]> {
  const {loadConfig} = await import('../config/config.js')
  const {configFile} = await import('../config/paths.js')
  return Object.keys((await loadConfig(configFile(env))).contexts).sort()
}

/** The whole broker of `context` (undefined: EVTCTL_CONTEXT, else the current one, else the embedded broker). */
async function scopeOf(context: string | undefined, env: NodeJS.ProcessEnv): Promise<Target> {
  const [{currentContext, loadConfig}, {configFile}, {parseScope}] = await Promise.all([
    import('../config/config.js'),
    import('../config/paths.js'),
    import('../config/scope.js'),
  ])
  const config = await loadConfig(configFile(env))
  const ctx = currentContext(config, context ?? env.EVTCTL_CONTEXT)
  return parseScope(undefined, ctx, env)
}

/** Names a bare target of this broker takes, as the broker lists them now. */
export async function listNames(scope: Target): Promise<string[]> {
  switch (scope.kind) {
    case 'file': {
      const files = await readdir(scope.path).catch(() => [] as string[])
      return files.filter((f) => f.endsWith('.jsonl')).map((f) => f.slice(0, -'.jsonl'.length))
    }
    case 'kafka': {
      const [{kafkaConnection}, {createKafkaPort}] = await Promise.all([
        import('../adapters/kafka/connection.js'),
        import('../adapters/kafka/default-port.js'),
      ])
      const admin = createKafkaPort(kafkaConnection(scope, {})).admin()
      await admin.connect()
      try {
        return (await admin.listTopics()).filter((t) => !t.startsWith('__'))
      } finally {
        await admin.disconnect().catch(() => {})
      }
    }
    case 'sqs': {
      const [{sqsClientConfig}, {createSdkPort}] = await Promise.all([
        import('../adapters/sqs/sqs-adapter.js'),
        import('../adapters/sqs/sdk-port.js'),
      ])
      const sqs = createSdkPort(sqsClientConfig(scope))
      try {
        const names: string[] = []
        let token: string | undefined
        do {
          const page = await sqs.listQueues({MaxResults: 1000, ...(token ? {NextToken: token} : {})})
          for (const url of page.QueueUrls ?? []) names.push(url.replace(/^.*\//, ''))
          token = page.NextToken
        } while (token)
        return names
      } finally {
        sqs.destroy()
      }
    }
    case 'pubsub': {
      const {createClientPort} = await import('../adapters/pubsub/client-port.js')
      const emulatorHost = scope.context?.['emulator-host'] ?? process.env.PUBSUB_EMULATOR_HOST
      const ps = createClientPort({project: scope.project, ...(emulatorHost ? {emulatorHost} : {})})
      try {
        // Topics as bare names, subscriptions as `subscriptions/NAME` (how a bare target names
        // them). Topics come from their subscriptions: the port has no topic listing.
        const subs = await ps.listSubscriptionDetails()
        const topics = new Set(subs.map((s) => s.topic).filter(Boolean))
        return [...topics, ...subs.map((s) => `subscriptions/${s.name}`)]
      } finally {
        await ps.close().catch(() => {})
      }
    }
  }
}

interface Cached {
  at: number
  names: string[]
}

function keyOf(context: string | undefined, scope: Target): string {
  return createHash('sha256')
    .update(JSON.stringify([context ?? '', scope.url]))
    .digest('hex')
    .slice(0, 24)
}

async function readCache(file: string): Promise<Cached | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Cached
  } catch {
    return undefined
  }
}

async function writeCache(file: string, names: string[]): Promise<void> {
  await mkdir(join(file, '..'), {recursive: true, mode: 0o700})
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify({at: Date.now(), names: [...new Set(names)].sort()}), {mode: 0o600})
  await rename(tmp, file)
}

/**
 * Names for a TAB: the cache when under a minute old; else the broker, for up to BUDGET_MS; else
 * the cache however old (or none), with a refresh started in the background.
 */
export async function cachedTargetNames(
  context: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const scope = await scopeOf(context, env)
  // The embedded broker is a directory: always read fresh, nothing to cache.
  if (scope.kind === 'file') return listNames(scope)
  const file = join(cacheDir(env), `${keyOf(context, scope)}.json`)
  const cached = await readCache(file)
  if (cached && Date.now() - cached.at < FRESH_MS) return cached.names
  let timer: NodeJS.Timeout | undefined
  const late = Symbol('late')
  const answer = await Promise.race([
    listNames(scope).catch(() => late),
    new Promise<typeof late>((r) => {
      timer = setTimeout(() => r(late), BUDGET_MS)
    }),
  ])
  clearTimeout(timer)
  if (answer !== late) {
    await writeCache(file, answer as string[]).catch(() => {})
    return (answer as string[]).sort()
  }
  await refreshInBackground(context, file)
  return cached?.names ?? []
}

/** Starts `evtctl __complete-refresh`, unless one started for this cache in the last REFRESH_MS. */
async function refreshInBackground(context: string | undefined, file: string): Promise<void> {
  const marker = `${file}.refreshing`
  const since = await stat(marker).then(
    (s) => Date.now() - s.mtimeMs,
    () => Number.POSITIVE_INFINITY,
  )
  if (since < REFRESH_MS) return
  await mkdir(join(file, '..'), {recursive: true, mode: 0o700}).catch(() => {})
  await writeFile(marker, '').catch(() => {})
  const bin = process.argv[1]
  if (!bin) return
  spawn(process.execPath, [bin, '__complete-refresh', context ?? ''], {
    detached: true,
    stdio: 'ignore',
  }).unref()
}

/** The background half: ask the broker with a longer time-out and write the cache. */
export async function refreshTargetNames(context: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  const scope = await scopeOf(context, env)
  if (scope.kind === 'file') return
  const file = join(cacheDir(env), `${keyOf(context, scope)}.json`)
  let timer: NodeJS.Timeout | undefined
  const names = await Promise.race([
    listNames(scope),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), REFRESH_MS)
    }),
  ]).finally(() => clearTimeout(timer))
  await writeCache(file, names)
}
