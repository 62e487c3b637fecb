import type {IncomingMessage} from 'node:http'
import {EvtctlError, ExitCode} from '../../errors.js'

/** How to reach a Confluent-compatible schema registry; secrets already resolved. */
export interface RegistrySettings {
  /** Base URL, e.g. https://sr.example.com or http://127.0.0.1:8080/apis/ccompat/v7. */
  url: string
  username?: string
  password?: string
  /** Bearer token (instead of username and password). */
  token?: string
  /** PEM CA certificates to trust (beside the system's). */
  ca?: string
  /** Do not verify TLS certificates (--insecure). */
  insecure?: boolean
  timeoutMs?: number
  /** The context's schema-registry cache setting (false: no on-disk schema cache). */
  cache?: boolean
}

export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON'

export interface SchemaReference {
  name: string
  subject: string
  version: number
}

export interface RegisteredSchema {
  id: number
  type: SchemaType
  schema: string
  references: SchemaReference[]
  subject?: string
  version?: number
}

/** The registry could not answer: unreachable, refused, not found, or nonsense. */
export class RegistryError extends EvtctlError {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'auth' | 'not-found' | 'bad-response',
    hint?: string,
  ) {
    super(
      message,
      kind === 'not-found' ? 'SCHEMA_NOT_FOUND' : kind === 'auth' ? 'REGISTRY_AUTH' : 'REGISTRY_ERROR',
      kind === 'auth' ? ExitCode.Config : kind === 'not-found' ? ExitCode.NotFound : ExitCode.Unreachable,
      hint,
    )
  }
}

/** Registry answers larger than this are refused (a schema is kilobytes). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024

/**
 * A lean client for the few calls evtctl makes (Confluent Schema Registry API). Schemas are
 * cached by id for the life of the client — one request per id per run, never one per message
 * (deviceinsight/kafkactl#93) — and a failed lookup is remembered too, so a registry that is down
 * costs one timeout per id, not one per message.
 */
export class RegistryClient {
  /** HTTP requests made (the benchmark checks ≤ 1 per schema id). */
  requests = 0
  private readonly ids = new Map<number, Promise<RegisteredSchema>>()
  private readonly versions = new Map<string, Promise<RegisteredSchema>>()
  private readonly base: URL

  constructor(readonly settings: RegistrySettings) {
    this.base = new URL(settings.url.endsWith('/') ? settings.url : `${settings.url}/`)
  }

  /** The URL without credentials, for messages. */
  get where(): string {
    const u = new URL(this.base)
    u.username = ''
    u.password = ''
    return u.toString().replace(/\/$/, '')
  }

  byId(id: number): Promise<RegisteredSchema> {
    let p = this.ids.get(id)
    if (!p) {
      p = this.get(`schemas/ids/${id}`, `schema id ${id}`).then((body) => toSchema(body, {id}))
      // Settled either way: callers handle the rejection; this only keeps Node from warning.
      p.catch(() => {})
      this.ids.set(id, p)
    }
    return p
  }

  /** A subject's version (a number, or 'latest'). */
  subjectVersion(subject: string, version: number | 'latest'): Promise<RegisteredSchema> {
    const key = `${subject}\u0000${version}`
    let p = this.versions.get(key)
    if (!p) {
      p = this.get(
        `subjects/${encodeURIComponent(subject)}/versions/${version}`,
        `subject "${subject}" version ${version}`,
      ).then((body) => {
        const s = toSchema(body, {subject})
        if (!this.ids.has(s.id)) this.ids.set(s.id, Promise.resolve(s))
        return s
      })
      p.catch(() => {})
      this.versions.set(key, p)
    }
    return p
  }

  private async get(path: string, what: string): Promise<unknown> {
    const url = new URL(path, this.base)
    this.requests++
    let res: {status: number; body: string}
    try {
      res = await this.request(url)
    } catch (err) {
      throw new RegistryError(
        `The schema registry at ${this.where} did not answer for ${what}: ${(err as Error).message}.`,
        'unreachable',
        "Check --registry (or the context's schema-registry url) and that the registry runs; use --decode none to read without it.",
      )
    }
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(
        `The schema registry at ${this.where} refused the credentials (HTTP ${res.status}) for ${what}.`,
        'auth',
        'Check schema-registry username/password or token in the context.',
      )
    }
    if (res.status === 404) {
      throw new RegistryError(`The schema registry at ${this.where} has no ${what}.`, 'not-found')
    }
    if (res.status < 200 || res.status >= 300) {
      throw new RegistryError(
        `The schema registry at ${this.where} answered HTTP ${res.status} for ${what}: ${res.body.slice(0, 200)}`,
        res.status >= 500 ? 'unreachable' : 'bad-response',
      )
    }
    try {
      return JSON.parse(res.body)
    } catch {
      throw new RegistryError(
        `The schema registry at ${this.where} sent something that is not JSON for ${what}.`,
        'bad-response',
      )
    }
  }

  private async request(url: URL): Promise<{status: number; body: string}> {
    const s = this.settings
    const http = url.protocol === 'https:' ? await import('node:https') : await import('node:http')
    const headers: Record<string, string> = {
      accept: 'application/vnd.schemaregistry.v1+json, application/json',
    }
    const user = s.username ?? (url.username ? decodeURIComponent(url.username) : undefined)
    const pass = s.password ?? (url.password ? decodeURIComponent(url.password) : undefined)
    if (s.token) headers.authorization = `Bearer ${s.token}`
    else if (user !== undefined)
      headers.authorization = `Basic ${Buffer.from(`${user}:${pass ?? ''}`).toString('base64')}`
    const clean = new URL(url)
    clean.username = ''
    clean.password = ''
    return new Promise((resolve, reject) => {
      const req = http.request(
        clean,
        {
          method: 'GET',
          headers,
          timeout: s.timeoutMs ?? 10_000,
          ...(url.protocol === 'https:'
            ? {rejectUnauthorized: !s.insecure, ...(s.ca ? {ca: s.ca} : {})}
            : {}),
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (c: Buffer) => {
            size += c.length
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`))
              return
            }
            chunks.push(c)
          })
          res.on('end', () =>
            resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}),
          )
          res.on('error', reject)
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer within ${(s.timeoutMs ?? 10_000) / 1000} s`)))
      req.on('error', reject)
      req.end()
    })
  }
}

function toSchema(body: unknown, known: {id?: number; subject?: string}): RegisteredSchema {
  const b = (body ?? {}) as Record<string, unknown>
  if (typeof b.schema !== 'string') {
    throw new RegistryError('The schema registry answered without a schema.', 'bad-response')
  }
  const type = (typeof b.schemaType === 'string' ? b.schemaType : 'AVRO').toUpperCase()
  if (type !== 'AVRO' && type !== 'PROTOBUF' && type !== 'JSON') {
    throw new RegistryError(`The schema registry returned a schema of unknown type ${type}.`, 'bad-response')
  }
  const id = typeof b.id === 'number' ? b.id : known.id
  if (id === undefined)
    throw new RegistryError('The schema registry answered without a schema id.', 'bad-response')
  return {
    id,
    type,
    schema: b.schema,
    references: Array.isArray(b.references) ? (b.references as SchemaReference[]) : [],
    ...(typeof b.subject === 'string' ? {subject: b.subject} : known.subject ? {subject: known.subject} : {}),
    ...(typeof b.version === 'number' ? {version: b.version} : {}),
  }
}
