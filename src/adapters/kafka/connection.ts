import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {promisify} from 'node:util'
import {z} from 'zod'
import type {Target} from '../../config/targets.js'
import {AuthError, ConfigError} from '../../errors.js'
import {warning} from '../../events.js'
import type {AdapterOptions} from '../types.js'
import {type KafkaConnection, readPem} from './kafkajs-port.js'

type KafkaTarget = Extract<Target, {kind: 'kafka'}>

/** A read that lost the cluster keeps reconnecting this long before it gives up (exit 4). */
export const RECONNECT_TIMEOUT_MS = 60_000

/** Kafka settings a context may carry (beside `brokers`). Secrets are redacted by `config view`. */
const kafkaContextSchema = z.object({
  'client-id': z.string().optional(),
  tls: z
    .union([
      z.boolean(),
      z.object({
        'ca-file': z.string().optional(),
        'cert-file': z.string().optional(),
        'key-file': z.string().optional(),
        insecure: z.boolean().optional(),
      }),
    ])
    .optional(),
  sasl: z
    .object({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']),
      username: z.string().optional(),
      password: z.string().optional(),
      'password-env': z.string().optional(),
      'token-command': z.string().optional(),
      'token-file': z.string().optional(),
    })
    .optional(),
  'connection-timeout-ms': z.number().int().positive().optional(),
  'request-timeout-ms': z.number().int().positive().optional(),
  /** How long a read keeps reconnecting after it lost the cluster (restart, leader move). */
  'reconnect-timeout-ms': z.number().int().nonnegative().optional(),
})

/**
 * Connection settings from the target and its context; without a context, from
 * EVTCTL_KAFKA_SASL_MECHANISM / _USERNAME / _PASSWORD. TLS is verified unless --insecure.
 */
export function kafkaConnection(
  target: KafkaTarget,
  opts: AdapterOptions,
  env = process.env,
): KafkaConnection {
  const parsed = kafkaContextSchema.safeParse(target.context ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(
      `Context "${target.context?.name}" has an invalid Kafka setting at "${issue.path.join('.')}": ${issue.message}.`,
      'See "Kafka" in the README for the context format.',
    )
  }
  const ctx = parsed.data
  let ssl: KafkaConnection['ssl']
  if (ctx.tls || opts.insecure) {
    const t = typeof ctx.tls === 'object' ? ctx.tls : {}
    const insecure = Boolean(opts.insecure || t.insecure)
    if (insecure)
      opts.emit?.(
        warning(
          'TLS_NOT_VERIFIED',
          'TLS certificates are NOT verified (--insecure): anyone on the path can read and alter traffic.',
        ),
      )
    ssl =
      !t['ca-file'] && !t['cert-file'] && !t['key-file'] && !insecure
        ? true
        : {
            rejectUnauthorized: !insecure,
            ...(t['ca-file'] ? {ca: readPem(t['ca-file'])} : {}),
            ...(t['cert-file'] ? {cert: readPem(t['cert-file'])} : {}),
            ...(t['key-file'] ? {key: readPem(t['key-file'])} : {}),
          }
  }
  const sasl = ctx.sasl ?? saslFromEnv(env)
  return {
    brokers: target.brokers,
    clientId: ctx['client-id'] ?? 'evtctl',
    ...(ssl ? {ssl} : {}),
    ...(sasl ? {sasl: toSasl(sasl, target, env)} : {}),
    connectionTimeoutMs: ctx['connection-timeout-ms'] ?? 3_000,
    requestTimeoutMs: ctx['request-timeout-ms'] ?? 10_000,
    reconnectTimeoutMs: ctx['reconnect-timeout-ms'] ?? RECONNECT_TIMEOUT_MS,
  }
}

type SaslSettings = NonNullable<z.infer<typeof kafkaContextSchema>['sasl']>

function saslFromEnv(env: NodeJS.ProcessEnv): SaslSettings | undefined {
  const mechanism = env.EVTCTL_KAFKA_SASL_MECHANISM?.toLowerCase()
  if (!mechanism) return undefined
  const m = z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']).safeParse(mechanism)
  if (!m.success) {
    throw new ConfigError(
      `EVTCTL_KAFKA_SASL_MECHANISM="${mechanism}" is not a SASL mechanism.`,
      'Use plain, scram-sha-256, scram-sha-512 or oauthbearer.',
    )
  }
  return {
    mechanism: m.data,
    username: env.EVTCTL_KAFKA_SASL_USERNAME,
    'password-env': 'EVTCTL_KAFKA_SASL_PASSWORD',
  }
}

function toSasl(
  s: SaslSettings,
  target: KafkaTarget,
  env: NodeJS.ProcessEnv,
): NonNullable<KafkaConnection['sasl']> {
  const where = target.context ? `context "${target.context.name}"` : 'the EVTCTL_KAFKA_SASL_* variables'
  if (s.mechanism === 'oauthbearer') {
    const command = s['token-command']
    const file = s['token-file']
    if (!command && !file) {
      throw new ConfigError(
        `SASL OAUTHBEARER in ${where} needs token-command or token-file.`,
        'See "Kafka" in the README.',
      )
    }
    return {
      mechanism: 'oauthbearer',
      token: async () => {
        try {
          const text = command
            ? (await promisify(execFile)('sh', ['-c', command], {timeout: 30_000})).stdout
            : await readFile(file!, 'utf8')
          return text.trim()
        } catch (err) {
          // Never echo the command's output: it may hold the token.
          throw new AuthError(
            `Could not get an OAUTHBEARER token from ${command ? 'token-command' : `token-file ${file}`} (${(err as NodeJS.ErrnoException).code ?? 'failed'}).`,
            'Run the token command by hand, or check the token file.',
          )
        }
      },
    }
  }
  const password = s.password ?? (s['password-env'] ? env[s['password-env']] : undefined)
  if (!s.username || password === undefined) {
    throw new ConfigError(
      `SASL ${s.mechanism.toUpperCase()} in ${where} needs a username and a password (or password-env).`,
      'See "Kafka" in the README for the context format.',
    )
  }
  return {mechanism: s.mechanism, username: s.username, password}
}
