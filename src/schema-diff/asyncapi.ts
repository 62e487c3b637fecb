/**
 * AsyncAPI 2.x and 3.x documents: channels, operations and messages matched by id, each
 * message's payload and headers checked with the engine for its schemaFormat (JSON Schema by
 * default, Avro, Protobuf), and document-level changes classified. Nothing is "unclassified":
 *
 * | change | breaking? | why |
 * |---|---|---|
 * | channel or operation removed | yes | its consumers or producers lose their contract |
 * | channel or operation added | no | nobody used it before |
 * | message removed from a channel/operation | backward: yes | new readers cannot read old events of that type |
 * | message added to a channel/operation | forward: yes | old readers receive events they do not know |
 * | payload / headers changed | by the payload's engine under the mode | |
 * | contentType or schemaFormat changed | yes | the bytes are encoded another way |
 * | info.version, descriptions, summaries, titles | never | documentation only |
 *
 * `$ref`s inside the document (`#/components/...`) are followed; refs to other files or the
 * network are unusable input here.
 */
import {COMPATIBLE_LENIENT, COMPATIBLE_STRICT, compareNodes, describe, makeTick} from './json-schema.js'
import {JsonSchemaDocument} from './json-schema-model.js'
import {
  type Direction,
  type Engine,
  type EngineOptions,
  type RawChange,
  SchemaInputError,
  type SchemaSource,
} from './types.js'

type Json = Record<string, unknown>

interface Located {
  node: Json
  /** JSON pointer of the resolved node in its document (`/components/messages/Order`). */
  pointer: string
}

interface MessageInfo extends Located {
  id: string
}

interface ChannelInfo extends Located {
  id: string
  messages: Map<string, MessageInfo>
}

interface OperationInfo extends Located {
  id: string
  channel: string
  action: string
  messages: Map<string, MessageInfo>
}

interface Doc {
  name: string
  json: Json
  major: 2 | 3
  channels: Map<string, ChannelInfo>
  operations: Map<string, OperationInfo>
}

const esc = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1')

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function at(json: unknown, pointer: string): unknown {
  let cur = json
  for (const raw of pointer.split('/').slice(1)) {
    const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~')
    if (!isObj(cur) && !Array.isArray(cur)) return undefined
    cur = (cur as Json)[part]
  }
  return cur
}

/** Follows `$ref`s inside the document. */
function deref(doc: {name: string; json: Json}, node: unknown, pointer: string): Located {
  let cur = node
  let ptr = pointer
  for (let i = 0; isObj(cur) && typeof cur.$ref === 'string'; i++) {
    const ref = cur.$ref
    if (i > 32)
      throw new SchemaInputError(
        `$ref "${ref}" is part of a cycle`,
        doc.name,
        undefined,
        undefined,
        'REF_CYCLE',
      )
    if (/^[a-z][a-z0-9+.-]*:/i.test(ref))
      throw new SchemaInputError(
        `remote $ref "${ref}" is not fetched (evtctl never reads the network)`,
        doc.name,
        undefined,
        undefined,
        'REMOTE_REF',
      )
    if (!ref.startsWith('#'))
      throw new SchemaInputError(
        `$ref "${ref}" names another file; AsyncAPI documents are checked with their own components only`,
        doc.name,
        undefined,
        undefined,
        'EXTERNAL_REF',
      )
    ptr = ref.slice(1)
    cur = at(doc.json, ptr)
    if (cur === undefined)
      throw new SchemaInputError(
        `$ref "${ref}" points to nothing`,
        doc.name,
        undefined,
        undefined,
        'REF_NOT_FOUND',
      )
  }
  if (!isObj(cur))
    throw new SchemaInputError(
      `expected an object at #${ptr}`,
      doc.name,
      undefined,
      undefined,
      'SCHEMA_INVALID',
    )
  return {node: cur, pointer: ptr}
}

function messageId(m: Located, fallback: string): string {
  const n = m.node
  if (typeof n.messageId === 'string') return n.messageId
  if (typeof n.name === 'string') return n.name
  const comp = /^\/components\/messages\/([^/]+)$/.exec(m.pointer)
  return comp ? comp[1]!.replaceAll('~1', '/').replaceAll('~0', '~') : fallback
}

async function parseDoc(source: SchemaSource): Promise<Doc> {
  const {parseYaml} = await import('./yaml.js')
  const json = parseYaml(source.text, source.name)
  if (!isObj(json) || typeof json.asyncapi !== 'string')
    throw new SchemaInputError(
      'not an AsyncAPI document (no "asyncapi" version)',
      source.name,
      undefined,
      undefined,
      'SCHEMA_INVALID',
    )
  const major = Number(json.asyncapi.split('.')[0])
  if (major !== 2 && major !== 3)
    throw new SchemaInputError(
      `AsyncAPI ${json.asyncapi} is not supported (2.x and 3.x are)`,
      source.name,
      undefined,
      undefined,
      'SCHEMA_INVALID',
    )
  const doc: Doc = {name: source.name, json, major, channels: new Map(), operations: new Map()}
  const channels = isObj(json.channels) ? json.channels : {}
  for (const [id, raw] of Object.entries(channels)) {
    const ch = deref(doc, raw, `/channels/${esc(id)}`)
    const info: ChannelInfo = {...ch, id, messages: new Map()}
    if (major === 3) {
      for (const [mid, m] of Object.entries(isObj(ch.node.messages) ? ch.node.messages : {})) {
        info.messages.set(mid, {...deref(doc, m, `${ch.pointer}/messages/${esc(mid)}`), id: mid})
      }
    } else {
      for (const action of ['publish', 'subscribe'] as const) {
        const op = ch.node[action]
        if (!isObj(op)) continue
        const opId = typeof op.operationId === 'string' ? op.operationId : `${action} ${id}`
        const opPointer = `${ch.pointer}/${action}`
        const operation: OperationInfo = {
          node: op,
          pointer: opPointer,
          id: opId,
          channel: id,
          action,
          messages: new Map(),
        }
        if (op.message !== undefined) {
          const m = deref(doc, op.message, `${opPointer}/message`)
          const list: Located[] = Array.isArray(m.node.oneOf)
            ? m.node.oneOf.map((x, i) => deref(doc, x, `${m.pointer}/oneOf/${i}`))
            : [m]
          list.forEach((x, i) => {
            const mid = messageId(x, String(i))
            operation.messages.set(mid, {...x, id: mid})
            info.messages.set(mid, {...x, id: mid})
          })
        }
        doc.operations.set(opId, operation)
      }
    }
    doc.channels.set(id, info)
  }
  if (major === 3) {
    const ops = isObj(json.operations) ? json.operations : {}
    for (const [id, raw] of Object.entries(ops)) {
      const op = deref(doc, raw, `/operations/${esc(id)}`)
      const chRef =
        isObj(op.node.channel) && typeof op.node.channel.$ref === 'string' ? op.node.channel.$ref : ''
      const channel = decodeURIComponent(chRef.replace(/^#\/channels\//, ''))
        .replaceAll('~1', '/')
        .replaceAll('~0', '~')
      const operation: OperationInfo = {
        ...op,
        id,
        channel,
        action: String(op.node.action ?? ''),
        messages: new Map(),
      }
      const refs = Array.isArray(op.node.messages)
        ? op.node.messages
        : [...(doc.channels.get(channel)?.messages.keys() ?? [])].map((k) => ({
            $ref: `#/channels/${esc(channel)}/messages/${esc(k)}`,
          }))
      refs.forEach((r, i) => {
        const ref = isObj(r) && typeof r.$ref === 'string' ? r.$ref : ''
        const mid = ref
          ? decodeURIComponent(ref.split('/').pop()!).replaceAll('~1', '/').replaceAll('~0', '~')
          : String(i)
        operation.messages.set(mid, {...deref(doc, r, `${op.pointer}/messages/${i}`), id: mid})
      })
      doc.operations.set(id, operation)
    }
  }
  return doc
}

/** The payload's schema and the format it is written in. */
function payloadOf(
  message: Located,
  major: 2 | 3,
):
  | {schema: unknown; pointer: string; format: 'json-schema' | 'avro' | 'protobuf'; schemaFormat: string}
  | undefined {
  const m = message.node
  let schema = m.payload
  let pointer = `${message.pointer}/payload`
  let schemaFormat = typeof m.schemaFormat === 'string' ? m.schemaFormat : ''
  if (major === 3 && isObj(schema) && 'schemaFormat' in schema && 'schema' in schema) {
    schemaFormat = String(schema.schemaFormat)
    schema = schema.schema
    pointer = `${pointer}/schema`
  }
  if (schema === undefined) return undefined
  const format = /avro/i.test(schemaFormat)
    ? 'avro'
    : /protobuf/i.test(schemaFormat)
      ? 'protobuf'
      : 'json-schema'
  return {schema, pointer, format, schemaFormat}
}

interface Ctx {
  direction: Direction
  out: RawChange[]
  opts: EngineOptions
  /** Documents as OLD and NEW (whatever the direction). */
  older: Doc
  newer: Doc
}

function add(ctx: Ctx, type: string, breaking: boolean, pointer: string, message: string): void {
  ctx.out.push({type, path: `#${pointer}`, breaking, message, pointer: `#${pointer}`})
}

async function comparePayloads(
  ctx: Ctx,
  writer: {doc: Doc; msg: MessageInfo},
  reader: {doc: Doc; msg: MessageInfo},
  label: string,
): Promise<void> {
  const w = payloadOf(writer.msg, writer.doc.major)
  const r = payloadOf(reader.msg, reader.doc.major)
  const newer = ctx.direction === 'backward' ? r : w
  const newerMsg = ctx.direction === 'backward' ? reader.msg : writer.msg
  for (const field of ['contentType'] as const) {
    const a = writer.msg.node[field] ?? writer.doc.json.defaultContentType
    const b = reader.msg.node[field] ?? reader.doc.json.defaultContentType
    if (a !== b)
      add(
        ctx,
        'CONTENT_TYPE_CHANGED',
        true,
        `${newerMsg.pointer}/contentType`,
        `message ${label}: content type changed, so the bytes are encoded another way`,
      )
  }
  if (!w || !r) {
    if (w && !r)
      add(
        ctx,
        'PAYLOAD_REMOVED',
        false,
        newerMsg.pointer,
        `message ${label}: the payload schema was removed (anything is accepted)`,
      )
    if (!w && r)
      add(
        ctx,
        'PAYLOAD_ADDED',
        true,
        newerMsg.pointer,
        `message ${label}: a payload schema was added where anything was accepted`,
      )
  } else if (w.format !== r.format) {
    add(
      ctx,
      'SCHEMA_FORMAT_CHANGED',
      true,
      newer!.pointer,
      `message ${label}: the payload schema format changed from ${w.format} to ${r.format}`,
    )
  } else {
    await compareSchemas(
      ctx,
      w.format,
      {doc: writer.doc, schema: w.schema, pointer: w.pointer},
      {doc: reader.doc, schema: r.schema, pointer: r.pointer},
      newer!.pointer,
      `message ${label} payload`,
    )
  }
  const wh = writer.msg.node.headers
  const rh = reader.msg.node.headers
  const hp = `${newerMsg.pointer}/headers`
  if (wh !== undefined && rh !== undefined)
    await compareSchemas(
      ctx,
      'json-schema',
      {doc: writer.doc, schema: wh, pointer: `${writer.msg.pointer}/headers`},
      {doc: reader.doc, schema: rh, pointer: `${reader.msg.pointer}/headers`},
      hp,
      `message ${label} headers`,
    )
  else if (wh === undefined && rh !== undefined)
    add(
      ctx,
      'HEADERS_SCHEMA_ADDED',
      true,
      hp,
      `message ${label}: a headers schema was added where any headers were accepted`,
    )
  else if (wh !== undefined && rh === undefined)
    add(
      ctx,
      'HEADERS_SCHEMA_REMOVED',
      false,
      ctx.direction === 'backward' ? newerMsg.pointer : hp,
      `message ${label}: the headers schema was removed`,
    )
}

async function compareSchemas(
  ctx: Ctx,
  format: 'json-schema' | 'avro' | 'protobuf',
  w: {doc: Doc; schema: unknown; pointer: string},
  r: {doc: Doc; schema: unknown; pointer: string},
  newerPointer: string,
  label: string,
): Promise<void> {
  const prefix = (p: string) => `#${newerPointer}${p.replace(/^#\/?/, '/').replace(/\/$/, '')}`
  if (format === 'json-schema') {
    const tick = makeTick(ctx.opts.deadline, `${w.doc.name} and ${r.doc.name}`)
    const load = (d: Doc, pointer: string) =>
      new JsonSchemaDocument(d.json, {name: d.name, tick}, false, pointer)
    const set = ctx.opts.jsonSchemaPolicy === 'lenient' ? COMPATIBLE_LENIENT : COMPATIBLE_STRICT
    for (const d of compareNodes(load(w.doc, w.pointer).root, load(r.doc, r.pointer).root, set, tick)) {
      const breaking = !set.has(d.type)
      const path = prefix(d.path)
      ctx.out.push({
        type: d.type,
        path,
        breaking,
        message: `${label}: ${describe(d.type, d.path, breaking, ctx.direction, d.detail)}`,
        pointer: path,
      })
    }
    return
  }
  const asSource = (d: Doc, s: unknown, pointer: string): SchemaSource => ({
    name: `${d.name}#${pointer}`,
    text: typeof s === 'string' ? s : JSON.stringify(s),
  })
  const engine: Engine =
    format === 'avro'
      ? (await import('./avro.js')).avroEngine
      : (await import('./protobuf.js')).protobufEngine
  const changes = await engine.compare(
    asSource(w.doc, w.schema, w.pointer),
    asSource(r.doc, r.schema, r.pointer),
    ctx.opts,
    ctx.direction,
  )
  for (const c of changes) {
    const path = prefix(c.path)
    // Protobuf paths name messages and field numbers inside a string: the line is the payload's.
    ctx.out.push({
      ...c,
      path,
      message: `${label}: ${c.message}`,
      pointer: format === 'avro' ? path : `#${newerPointer}`,
    })
  }
}

function docNotes(ctx: Ctx): void {
  const a = ctx.older.json
  const b = ctx.newer.json
  const va = isObj(a.info) ? a.info.version : undefined
  const vb = isObj(b.info) ? b.info.version : undefined
  if (va !== vb)
    add(
      ctx,
      'INFO_VERSION_CHANGED',
      false,
      '/info/version',
      `info.version changed from ${va} to ${vb}: documentation only, never breaking`,
    )
  if (a.asyncapi !== b.asyncapi)
    add(
      ctx,
      'ASYNCAPI_VERSION_CHANGED',
      false,
      '/asyncapi',
      `the AsyncAPI version changed from ${a.asyncapi} to ${b.asyncapi}: the document format, not the events`,
    )
}

function textChanges(ctx: Ctx, older: Json, newer: Json, pointer: string, what: string): void {
  for (const key of ['description', 'summary', 'title']) {
    if (older[key] !== newer[key])
      add(
        ctx,
        `${key.toUpperCase()}_CHANGED`,
        false,
        `${pointer}/${key}`,
        `${what}: ${key} changed: documentation only, never breaking`,
      )
  }
}

export async function compareAsyncapi(
  writerSrc: SchemaSource,
  readerSrc: SchemaSource,
  opts: EngineOptions,
  direction: Direction,
): Promise<RawChange[]> {
  const writer = await parseDoc(writerSrc)
  const reader = await parseDoc(readerSrc)
  const [older, newer] = direction === 'backward' ? [writer, reader] : [reader, writer]
  const ctx: Ctx = {direction, out: [], opts, older, newer}
  docNotes(ctx)
  for (const id of [...new Set([...older.channels.keys(), ...newer.channels.keys()])].sort()) {
    const a = older.channels.get(id)
    const b = newer.channels.get(id)
    if (!b) {
      add(
        ctx,
        'CHANNEL_REMOVED',
        true,
        `/channels/${esc(id)}`,
        `channel ${id} was removed: its producers and consumers lose their contract`,
      )
      continue
    }
    if (!a) {
      add(ctx, 'CHANNEL_ADDED', false, b.pointer, `channel ${id} was added: nobody used it before`)
      continue
    }
    textChanges(ctx, a.node, b.node, b.pointer, `channel ${id}`)
    if (isObj(a.node) && isObj(b.node) && (a.node.address ?? null) !== (b.node.address ?? null))
      add(
        ctx,
        'CHANNEL_ADDRESS_CHANGED',
        true,
        `${b.pointer}/address`,
        `channel ${id}: its address changed from ${a.node.address} to ${b.node.address}: clients of the old address get nothing`,
      )
    await compareMessageSets(ctx, a.messages, b.messages, b.pointer, `channel ${id}`)
  }
  for (const id of [...new Set([...older.operations.keys(), ...newer.operations.keys()])].sort()) {
    const a = older.operations.get(id)
    const b = newer.operations.get(id)
    if (!b) {
      add(ctx, 'OPERATION_REMOVED', true, a!.pointer, `operation ${id} was removed`)
      continue
    }
    if (!a) {
      add(ctx, 'OPERATION_ADDED', false, b.pointer, `operation ${id} was added`)
      continue
    }
    if (a.action !== b.action || a.channel !== b.channel)
      add(
        ctx,
        'OPERATION_CHANGED',
        true,
        b.pointer,
        `operation ${id} now ${b.action}s on ${b.channel} (was ${a.action} on ${a.channel})`,
      )
    textChanges(ctx, a.node, b.node, b.pointer, `operation ${id}`)
    // Messages of an operation: added or removed only (their payloads are checked per channel).
    await compareMessageSets(ctx, a.messages, b.messages, b.pointer, `operation ${id}`, false)
  }
  return ctx.out
}

async function compareMessageSets(
  ctx: Ctx,
  olderSet: Map<string, MessageInfo>,
  newerSet: Map<string, MessageInfo>,
  newerPointer: string,
  where: string,
  payloads = true,
): Promise<void> {
  for (const mid of [...new Set([...olderSet.keys(), ...newerSet.keys()])].sort()) {
    const a = olderSet.get(mid)
    const b = newerSet.get(mid)
    if (!b) {
      const breaking = ctx.direction === 'backward'
      add(
        ctx,
        'MESSAGE_REMOVED',
        breaking,
        newerPointer,
        `${where}: message ${mid} was removed${breaking ? ': readers on the new document cannot read old events of that type' : ''}`,
      )
    } else if (!a) {
      const breaking = ctx.direction === 'forward'
      add(
        ctx,
        'MESSAGE_ADDED',
        breaking,
        b.pointer,
        `${where}: message ${mid} was added${breaking ? ': readers on the old document receive events they do not know' : ''}`,
      )
    } else if (payloads) {
      textChanges(ctx, a.node, b.node, b.pointer, `message ${mid}`)
      const [w, r] = ctx.direction === 'backward' ? [a, b] : [b, a]
      const [wd, rd] = ctx.direction === 'backward' ? [ctx.older, ctx.newer] : [ctx.newer, ctx.older]
      await comparePayloads(ctx, {doc: wd, msg: w}, {doc: rd, msg: r}, mid)
    }
  }
}

export const asyncapiEngine: Engine = {
  async check(source) {
    await parseDoc(source)
  },
  compare(writer, reader, opts, direction) {
    return compareAsyncapi(writer, reader, opts, direction)
  },
}
