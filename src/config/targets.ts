import {isAbsolute, join, resolve} from 'node:path'
import {UsageError} from '../errors.js'
import type {NamedContext} from './config.js'
import {dataDir} from './paths.js'

/** A resolved target: which broker, and everything an adapter needs to find the resource. */
export type Target =
  | {kind: 'file'; url: string; path: string; name: string; context?: NamedContext}
  | {kind: 'kafka'; url: string; brokers: string[]; topics: string[]; context?: NamedContext}
  | {
      kind: 'sqs'
      url: string
      queueName: string
      region?: string
      queueUrl?: string
      endpoint?: string
      context?: NamedContext
    }
  | {
      kind: 'pubsub'
      url: string
      project: string
      resource: 'topics' | 'subscriptions'
      name: string
      context?: NamedContext
    }

export type BrokerKind = Target['kind']

const SCHEME_HINT =
  'Use kafka://HOST:PORT/TOPIC, pubsub://PROJECT/topics/NAME, pubsub://PROJECT/subscriptions/NAME, ' +
  'sqs://REGION/QUEUE (or a queue URL), file://PATH.jsonl, or a bare name resolved through the current context.'

const BARE_NAME = /^[A-Za-z0-9._-]+$/

/**
 * `ctx` is the context in use. Its credentials (SASL, TLS client certificates, token commands, an
 * AWS profile) belong to the endpoints it names: a URL naming other hosts gets no context, unless
 * the user chose the context for this run (`chosen`: --context or EVTCTL_CONTEXT).
 */
export function parseTarget(
  input: string,
  ctx?: NamedContext,
  env: NodeJS.ProcessEnv = process.env,
  opts: {chosen?: boolean} = {},
): Target {
  const text = input.trim()
  if (text === '') throw new UsageError('The target is empty.', SCHEME_HINT, 'BAD_TARGET')
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase()
  if (scheme === undefined) return resolveBareName(text, ctx, env)
  const rest = text.slice(scheme.length + 3)
  switch (scheme) {
    case 'file':
      return fileTarget(rest)
    case 'kafka':
      return kafkaTarget(text, rest, ctx, opts.chosen === true)
    case 'pubsub':
      return pubsubTarget(text, rest, ctx)
    case 'sqs':
      return sqsTarget(text, rest, ctx)
    case 'http':
    case 'https':
      return sqsQueueUrl(text, ctx, opts.chosen === true)
    default:
      throw new UsageError(`Unknown target scheme "${scheme}://" in "${input}".`, SCHEME_HINT, 'BAD_TARGET')
  }
}

function fileTarget(rest: string): Target {
  if (rest === '')
    throw new UsageError('file:// needs a path.', 'Example: file://./events/orders.jsonl', 'BAD_TARGET')
  const path = isAbsolute(rest) ? rest : resolve(rest)
  const name = path.replace(/^.*\//, '').replace(/\.jsonl$/, '')
  return {kind: 'file', url: `file://${path}`, path, name}
}

function fileTopic(dir: string, name: string, ctx?: NamedContext): Target {
  const path = join(dir, `${name}.jsonl`)
  return {kind: 'file', url: `file://${path}`, path, name, ...(ctx ? {context: ctx} : {})}
}

/** HOST:PORT, a host name, an IPv4 address or a bracketed IPv6 address, and a port. */
const KAFKA_BOOTSTRAP = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/

/** HOST:PORT (or [IPv6]:PORT) with a port from 1 to 65535: a Kafka bootstrap server. */
export function isBootstrapServer(host: string): boolean {
  const port = Number(KAFKA_BOOTSTRAP.exec(host)?.[2] ?? Number.NaN)
  return port >= 1 && port <= 65535
}

function kafkaTarget(text: string, rest: string, ctx: NamedContext | undefined, chosen: boolean): Target {
  // Topic names cannot hold "@", so one anywhere means user info (a password may even hold "/").
  const at = rest.lastIndexOf('@')
  if (at !== -1) {
    const userinfo = rest.slice(0, at)
    const colon = userinfo.indexOf(':')
    const shown = `kafka://${colon === -1 ? userinfo : `${userinfo.slice(0, colon)}:***`}@${rest.slice(at + 1)}`
    throw new UsageError(
      `"${shown}" has credentials in the URL; evtctl does not take them there (a URL ends up in shell history, process lists and logs).`,
      'Put them in a context instead: evtctl config set-context NAME --broker kafka --brokers HOST:PORT, then add sasl: {mechanism, username, password-env} to it in the config file (see "Kafka" in the README); or set EVTCTL_KAFKA_SASL_MECHANISM, _USERNAME and _PASSWORD.',
      'BAD_TARGET',
    )
  }
  const slash = rest.indexOf('/')
  const hosts = (slash === -1 ? rest : rest.slice(0, slash)).split(',').filter(Boolean)
  const topics = (slash === -1 ? '' : rest.slice(slash + 1)).split(',').filter(Boolean)
  if (hosts.length === 0 || topics.length === 0) {
    throw new UsageError(
      `"${text}" needs bootstrap servers and a topic.`,
      'Example: kafka://127.0.0.1:9092/orders',
      'BAD_TARGET',
    )
  }
  for (const host of hosts) {
    if (!isBootstrapServer(host)) {
      throw new UsageError(
        `Bootstrap server "${host}" in "${text}" is not HOST:PORT with a port from 1 to 65535.`,
        'Example: kafka://127.0.0.1:9092/orders (several: kafka://h1:9092,h2:9092/orders).',
        'BAD_TARGET',
      )
    }
  }
  return {
    kind: 'kafka',
    url: text,
    brokers: hosts,
    topics,
    context: ctx?.broker === 'kafka' && (chosen || sameHosts(hosts, ctx.brokers ?? [])) ? ctx : undefined,
  }
}

function pubsubTarget(text: string, rest: string, ctx?: NamedContext): Target {
  const m = /^([^/]+)\/(topics|subscriptions)\/([^/]+)$/.exec(rest)
  if (!m) {
    throw new UsageError(
      `"${text}" is not a Pub/Sub target.`,
      'Use pubsub://PROJECT/topics/TOPIC or pubsub://PROJECT/subscriptions/SUBSCRIPTION.',
      'BAD_TARGET',
    )
  }
  return {
    kind: 'pubsub',
    url: text,
    project: m[1]!,
    resource: m[2] as 'topics' | 'subscriptions',
    name: m[3]!,
    context: ctx?.broker === 'pubsub' ? ctx : undefined,
  }
}

function sqsTarget(text: string, rest: string, ctx?: NamedContext): Target {
  const m = /^([a-z0-9-]+)\/([A-Za-z0-9_-]+(\.fifo)?)$/.exec(rest)
  if (!m)
    throw new UsageError(
      `"${text}" is not an SQS target.`,
      'Use sqs://REGION/QUEUE, e.g. sqs://us-east-1/orders.',
      'BAD_TARGET',
    )
  const sqsCtx = ctx?.broker === 'sqs' ? ctx : undefined
  return {
    kind: 'sqs',
    url: text,
    region: m[1]!,
    queueName: m[2]!,
    endpoint: sqsCtx?.endpoint,
    context: sqsCtx,
  }
}

/** A queue URL as SQS or a compatible server (ElasticMQ, LocalStack) returns it: .../ACCOUNT/NAME. */
function sqsQueueUrl(text: string, ctx: NamedContext | undefined, chosen: boolean): Target {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`"${text}" is not a valid URL.`, SCHEME_HINT, 'BAD_TARGET')
  }
  const parts = url.pathname.split('/').filter(Boolean)
  if (parts.length !== 2) {
    throw new UsageError(
      `"${text}" is not an SQS queue URL.`,
      'Expected https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE.',
      'BAD_TARGET',
    )
  }
  // The whole host name: sqs.us-east-1.amazonaws.com.evil.example is not AWS (and would
  // otherwise get AWS credentials, the SDK sending each request to the queue URL's host).
  const region = (/^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname) ??
    /^([a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$/.exec(url.hostname))?.[1]
  // The context's profile goes only to AWS itself or to the context's own endpoint.
  const ownEndpoint = ctx?.endpoint !== undefined && originOf(ctx.endpoint) === url.origin
  const sqsCtx = ctx?.broker === 'sqs' && (chosen || region !== undefined || ownEndpoint) ? ctx : undefined
  return {
    kind: 'sqs',
    url: text,
    queueName: parts[1]!,
    queueUrl: text,
    region: region ?? sqsCtx?.region,
    // Not AWS by its whole host name: the URL's origin, which the SQS adapter then checks before
    // any credentials go there.
    endpoint: region ? undefined : url.origin,
    context: sqsCtx,
  }
}

function resolveBareName(name: string, ctx: NamedContext | undefined, env: NodeJS.ProcessEnv): Target {
  const pubsubSub = /^subscriptions\/([A-Za-z0-9._~+%-]+)$/.exec(name)
  if (!BARE_NAME.test(name) && !pubsubSub) {
    throw new UsageError(
      `"${name}" is neither a URL nor a plain topic or queue name.`,
      SCHEME_HINT,
      'BAD_TARGET',
    )
  }
  if (!ctx) return fileTopic(dataDir(env), name)
  switch (ctx.broker) {
    case 'file':
      return fileTopic(ctx.dir ?? dataDir(env), name, ctx)
    case 'kafka': {
      const brokers = ctx.brokers ?? []
      if (brokers.length === 0) throw contextMissing(ctx, 'brokers', '--brokers 127.0.0.1:9092')
      return {
        kind: 'kafka',
        url: `kafka://${brokers.join(',')}/${name}`,
        brokers,
        topics: [name],
        context: ctx,
      }
    }
    case 'sqs': {
      const region = ctx.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
      if (!region) throw contextMissing(ctx, 'region', '--region us-east-1')
      return {
        kind: 'sqs',
        url: `sqs://${region}/${name}`,
        region,
        queueName: name,
        endpoint: ctx.endpoint,
        context: ctx,
      }
    }
    case 'pubsub': {
      if (!ctx.project) throw contextMissing(ctx, 'project', '--project my-project')
      const resource = pubsubSub ? 'subscriptions' : 'topics'
      const short = pubsubSub ? pubsubSub[1]! : name
      return {
        kind: 'pubsub',
        url: `pubsub://${ctx.project}/${resource}/${short}`,
        project: ctx.project,
        resource,
        name: short,
        context: ctx,
      }
    }
  }
}

function contextMissing(ctx: NamedContext, field: string, example: string): UsageError {
  return new UsageError(
    `Context "${ctx.name}" has no ${field}, so a bare name cannot be resolved.`,
    `Run "evtctl config set-context ${ctx.name} ${example}", or give a full URL.`,
    'BAD_CONTEXT',
  )
}

/** Every host of the URL is one of the context's bootstrap servers (case-insensitive). */
function sameHosts(hosts: string[], brokers: string[]): boolean {
  const known = new Set(brokers.map((b) => b.trim().toLowerCase()))
  return hosts.every((h) => known.has(h.toLowerCase()))
}

function originOf(endpoint: string): string | undefined {
  try {
    return new URL(endpoint).origin
  } catch {
    return undefined
  }
}
