import {stat} from 'node:fs/promises'
import {UsageError} from '../errors.js'
import type {NamedContext} from './config.js'
import {dataDir} from './paths.js'
import {parseTarget, type Target} from './targets.js'

/**
 * What `dlq list` looks at: a whole broker (`kafka://HOST:PORT`, `sqs://REGION` or a context's
 * endpoint, `pubsub://PROJECT`, `file://DIR`) or one queue/topic/subscription. A whole broker is a
 * Target without its resource: no topics (Kafka), an empty queue name (SQS) or resource name
 * (Pub/Sub), or a directory (file).
 */
export async function parseScope(
  text: string | undefined,
  ctx: NamedContext | undefined,
  env: NodeJS.ProcessEnv = process.env,
  opts: {chosen?: boolean} = {},
): Promise<Target> {
  if (text === undefined || text.trim() === '') return contextScope(ctx, env)
  const t = text.trim().replace(/\/+$/, '')
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(t)?.[1]?.toLowerCase()
  const rest = scheme ? t.slice(scheme.length + 3) : ''
  if (scheme === 'kafka' && !rest.includes('/')) {
    const k = parseTarget(`${t}/x`, ctx, env, opts) as Extract<Target, {kind: 'kafka'}>
    return {...k, url: t, topics: []}
  }
  if (scheme === 'sqs' && /^[a-z0-9-]+$/.test(rest)) {
    const s = parseTarget(`${t}/x`, ctx, env, opts) as Extract<Target, {kind: 'sqs'}>
    return {...s, url: t, queueName: ''}
  }
  if (scheme === 'pubsub' && /^[^/]+$/.test(rest)) {
    const p = parseTarget(`${t}/topics/x`, ctx, env, opts) as Extract<Target, {kind: 'pubsub'}>
    return {...p, url: t, name: ''}
  }
  if (scheme === 'file' && rest !== '' && !rest.endsWith('.jsonl')) {
    const f = parseTarget(t, ctx, env, opts) as Extract<Target, {kind: 'file'}>
    if (await isDirectory(f.path)) return {...f, url: `file://${f.path}`, name: ''}
  }
  return parseTarget(t, ctx, env, opts)
}

/** Whether `target` is a whole broker (see parseScope), not one resource. */
export function isWholeBroker(target: Target): boolean {
  switch (target.kind) {
    case 'kafka':
      return target.topics.length === 0
    case 'sqs':
      return target.queueName === ''
    case 'pubsub':
      return target.name === ''
    case 'file':
      return target.name === ''
  }
}

/** The broker of the current context; with none, the embedded file broker's data directory. */
function contextScope(ctx: NamedContext | undefined, env: NodeJS.ProcessEnv): Target {
  if (!ctx || ctx.broker === 'file') {
    const dir = ctx?.dir ?? dataDir(env)
    return {kind: 'file', url: `file://${dir}`, path: dir, name: '', ...(ctx ? {context: ctx} : {})}
  }
  // A bare name resolved through the context, its resource then dropped.
  const one = parseTarget('x', ctx, env)
  switch (one.kind) {
    case 'kafka':
      return {...one, url: `kafka://${one.brokers.join(',')}`, topics: []}
    case 'sqs':
      return {...one, url: one.endpoint ?? `sqs://${one.region}`, queueName: ''}
    case 'pubsub':
      return {...one, url: `pubsub://${one.project}`, name: ''}
    default:
      throw new UsageError(`Context "${ctx.name}" names no broker to list.`, 'Give a target.', 'BAD_TARGET')
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}
