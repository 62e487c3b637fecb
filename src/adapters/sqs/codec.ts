import type {Message, MessageAttributeValue, SendMessageBatchRequestEntry} from '@aws-sdk/client-sqs'
import type {Envelope, Header} from '../../envelope/envelope.js'
import {payloadBytes, toPayload} from '../../envelope/payload.js'

/** The attribute that marks a body as base64 of binary data (SQS bodies allow only XML-legal text). */
export const ENCODING_ATTRIBUTE = 'evtctl.encoding'
/** Attribute names evtctl keeps for its own markers: refused in user headers, never taken from them. */
const RESERVED_PREFIX = 'evtctl.'
/**
 * The limit on a message, body and attributes together, when the queue does not say
 * (MaximumMessageSize; ElasticMQ does not report it): SQS's long-standing 256 KiB.
 */
export const MAX_MESSAGE_BYTES = 262_144
/** The most MaximumMessageSize can be (1 MiB). */
const MAX_MESSAGE_BYTES_LIMIT = 1_048_576
const MAX_ATTRIBUTES = 10

/** Characters an SQS body may hold: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. */
const XML_ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

/** An SQS message as an envelope. Attributes become headers (sorted by name: SQS keeps no order). */
export function toEnvelope(url: string, m: Message): Envelope {
  const attrs = m.MessageAttributes ?? {}
  const sys = m.Attributes ?? {}
  const body = m.Body ?? ''
  // Only our own marker: the value we write, on a body that is base64 as we write it (canonical),
  // so another sender's attribute of that name never turns its text into bytes.
  const base64Body =
    attrs[ENCODING_ATTRIBUTE]?.StringValue === 'base64' &&
    (attrs[ENCODING_ATTRIBUTE]?.DataType ?? 'String') === 'String' &&
    isCanonicalBase64(body)
  const headers: Header[] = []
  const attributeTypes: Record<string, string> = {}
  for (const name of Object.keys(attrs).sort()) {
    if (name === ENCODING_ATTRIBUTE && base64Body) continue
    const a = attrs[name]!
    const type = a.DataType ?? 'String'
    if (type !== 'String') attributeTypes[name] = type
    headers.push([
      name,
      a.BinaryValue ? toPayload(a.BinaryValue) : toPayload(Buffer.from(a.StringValue ?? '', 'utf8')),
    ])
  }
  const sent = Number(sys.SentTimestamp)
  const env: Envelope = {
    v: 1,
    source: url,
    offset: m.MessageId,
    ...(Number.isFinite(sent) ? {timestamp: new Date(sent).toISOString()} : {}),
    ...(headers.length ? {headers} : {}),
    value: toPayload(base64Body ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8')),
    meta: {
      ...(m.MessageId ? {messageId: m.MessageId} : {}),
      ...(sys.MessageGroupId ? {groupId: sys.MessageGroupId} : {}),
      ...(sys.MessageDeduplicationId ? {dedupId: sys.MessageDeduplicationId} : {}),
      ...(sys.SequenceNumber ? {sequenceNumber: sys.SequenceNumber} : {}),
      ...(sys.ApproximateReceiveCount ? {receiveCount: Number(sys.ApproximateReceiveCount)} : {}),
      ...(Object.keys(attributeTypes).length ? {attributeTypes} : {}),
      ...(Object.keys(sys).length ? {system: {...sys}} : {}),
      ...(sys.DeadLetterQueueSourceArn ? {dlq: {sourceArn: sys.DeadLetterQueueSourceArn}} : {}),
    },
  }
  return env
}

/**
 * Why SQS cannot take a message. With a hint, the problem is in the settings (flags, queue) rather
 * than in one message: on the first message, publish refuses to start (exit 2) instead.
 */
export class EntryError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message)
  }
}

export interface EntryOptions {
  fifo: boolean
  groupId?: string
  dedupId?: string
  delaySeconds?: number
  /** The queue's MaximumMessageSize (default MAX_MESSAGE_BYTES). */
  maxBytes?: number
  /** The FIFO queue derives deduplication ids from bodies (ContentBasedDeduplication). */
  contentDedup?: boolean
}

/** A queue's limit on a message from its attributes (MaximumMessageSize), else 256 KiB. */
export function maxMessageBytes(attributes: Record<string, string | undefined>): number {
  const n = Number(attributes.MaximumMessageSize)
  return Number.isInteger(n) && n > 0 && n <= MAX_MESSAGE_BYTES_LIMIT ? n : MAX_MESSAGE_BYTES
}

function isCanonicalBase64(text: string): boolean {
  return (
    text.length % 4 === 0 &&
    /^[A-Za-z0-9+/]*={0,2}$/.test(text) &&
    Buffer.from(text, 'base64').toString('base64') === text
  )
}

/**
 * An envelope as a SendMessageBatch entry, or EntryError saying why SQS cannot take it.
 * Binary (or XML-illegal) values go base64 in the body, marked by the evtctl.encoding attribute.
 */
export function toEntry(env: Envelope, id: string, opts: EntryOptions): SendMessageBatchRequestEntry {
  const maxBytes = opts.maxBytes ?? MAX_MESSAGE_BYTES
  if (env.value === null) throw new EntryError('SQS cannot send a message without a body (a tombstone)')
  const bytes = payloadBytes(env.value)
  if (bytes.length === 0) throw new EntryError('SQS cannot send an empty body')
  const text = 'base64' in env.value ? undefined : bytes.toString('utf8')
  const binary = text === undefined || XML_ILLEGAL.test(text)
  const body = binary ? bytes.toString('base64') : text!
  const attributes: Record<string, MessageAttributeValue> = {}
  for (const [name, value] of env.headers ?? []) {
    if (name.toLowerCase().startsWith(RESERVED_PREFIX)) {
      throw new EntryError(
        `header "${name}" is reserved: attributes named ${RESERVED_PREFIX}* carry evtctl's own markers (${ENCODING_ATTRIBUTE} marks a base64 body), so a header of that name would be misread`,
        `Rename the header (for example -H x-${name.slice(RESERVED_PREFIX.length)}=…), or drop it from the envelopes.`,
      )
    }
    if (value === null) throw new EntryError(`header "${name}" has no value; SQS attributes need one`)
    if (attributes[name]) throw new EntryError(`header "${name}" repeats; SQS attribute names are unique`)
    const type = env.meta?.attributeTypes?.[name] ?? ('base64' in value ? 'Binary' : 'String')
    attributes[name] = type.startsWith('Binary')
      ? {DataType: type, BinaryValue: payloadBytes(value)}
      : {DataType: type, StringValue: payloadBytes(value).toString('utf8')}
  }
  if (binary) attributes[ENCODING_ATTRIBUTE] = {DataType: 'String', StringValue: 'base64'}
  if (Object.keys(attributes).length > MAX_ATTRIBUTES) {
    throw new EntryError(
      `${Object.keys(attributes).length} attributes${binary ? ' (one marks the base64 body)' : ''}; SQS allows ${MAX_ATTRIBUTES}`,
    )
  }
  const size = Buffer.byteLength(body) + attributeBytes(attributes)
  if (size > maxBytes) {
    throw new EntryError(
      `message is ${size.toLocaleString('en')} bytes with attributes; the queue allows ${maxBytes.toLocaleString('en')} (its MaximumMessageSize)`,
    )
  }
  const entry: SendMessageBatchRequestEntry = {Id: id, MessageBody: body}
  if (Object.keys(attributes).length) entry.MessageAttributes = attributes
  if (opts.delaySeconds !== undefined) entry.DelaySeconds = opts.delaySeconds
  if (opts.fifo) {
    const group = opts.groupId ?? env.meta?.groupId
    if (!group) {
      throw new EntryError(
        'no message group id, which a FIFO queue needs',
        'Give --group-id G, or keep meta.groupId in --input jsonl envelopes.',
      )
    }
    entry.MessageGroupId = group
    const dedup = opts.dedupId ?? env.meta?.dedupId
    if (dedup) entry.MessageDeduplicationId = dedup
    else if (!opts.contentDedup) {
      throw new EntryError(
        'no deduplication id, which a FIFO queue without content-based deduplication needs',
        'Give --dedup-id ID (several messages get ID-1, ID-2, …), keep meta.dedupId in --input jsonl envelopes, or turn on ContentBasedDeduplication for the queue.',
      )
    }
  }
  return entry
}

/** What an entry counts toward SQS's size limits: its body and attributes (names, types, values). */
export function entryBytes(entry: SendMessageBatchRequestEntry): number {
  return Buffer.byteLength(entry.MessageBody ?? '') + attributeBytes(entry.MessageAttributes ?? {})
}

function attributeBytes(attrs: Record<string, MessageAttributeValue>): number {
  let n = 0
  for (const [name, a] of Object.entries(attrs)) {
    n += Buffer.byteLength(name) + Buffer.byteLength(a.DataType ?? '')
    n += a.BinaryValue ? a.BinaryValue.length : Buffer.byteLength(a.StringValue ?? '')
  }
  return n
}
