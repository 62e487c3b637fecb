import type {Message, MessageAttributeValue, SendMessageBatchRequestEntry} from '@aws-sdk/client-sqs'
import type {Envelope, Header} from '../../envelope/envelope.js'
import {payloadBytes, toPayload} from '../../envelope/payload.js'

/** The attribute that marks a body as base64 of binary data (SQS bodies allow only XML-legal text). */
export const ENCODING_ATTRIBUTE = 'evtctl.encoding'
/** SQS's limit on a message, body and attributes together (256 KiB). */
export const MAX_MESSAGE_BYTES = 262_144
const MAX_ATTRIBUTES = 10

/** Characters an SQS body may hold: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. */
const XML_ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

/** An SQS message as an envelope. Attributes become headers (sorted by name: SQS keeps no order). */
export function toEnvelope(url: string, m: Message): Envelope {
  const attrs = m.MessageAttributes ?? {}
  const sys = m.Attributes ?? {}
  const base64Body = attrs[ENCODING_ATTRIBUTE]?.StringValue === 'base64'
  const body = m.Body ?? ''
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

export class EntryError extends Error {}

/**
 * An envelope as a SendMessageBatch entry, or EntryError saying why SQS cannot take it.
 * Binary (or XML-illegal) values go base64 in the body, marked by the evtctl.encoding attribute.
 */
export function toEntry(
  env: Envelope,
  id: string,
  opts: {fifo: boolean; groupId?: string; dedupId?: string; delaySeconds?: number},
): SendMessageBatchRequestEntry {
  if (env.value === null) throw new EntryError('SQS cannot send a message without a body (a tombstone)')
  const bytes = payloadBytes(env.value)
  if (bytes.length === 0) throw new EntryError('SQS cannot send an empty body')
  const text = 'base64' in env.value ? undefined : bytes.toString('utf8')
  const binary = text === undefined || XML_ILLEGAL.test(text)
  const body = binary ? bytes.toString('base64') : text!
  const attributes: Record<string, MessageAttributeValue> = {}
  for (const [name, value] of env.headers ?? []) {
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
  if (size > MAX_MESSAGE_BYTES) {
    throw new EntryError(
      `message is ${size.toLocaleString('en')} bytes with attributes; SQS allows ${MAX_MESSAGE_BYTES.toLocaleString('en')}`,
    )
  }
  const entry: SendMessageBatchRequestEntry = {Id: id, MessageBody: body}
  if (Object.keys(attributes).length) entry.MessageAttributes = attributes
  if (opts.delaySeconds !== undefined) entry.DelaySeconds = opts.delaySeconds
  if (opts.fifo) {
    const group = opts.groupId ?? env.meta?.groupId
    if (!group) throw new EntryError('a FIFO queue needs a message group id: give --group-id or meta.groupId')
    entry.MessageGroupId = group
    const dedup = opts.dedupId ?? env.meta?.dedupId
    if (dedup) entry.MessageDeduplicationId = dedup
  }
  return entry
}

function attributeBytes(attrs: Record<string, MessageAttributeValue>): number {
  let n = 0
  for (const [name, a] of Object.entries(attrs)) {
    n += Buffer.byteLength(name) + Buffer.byteLength(a.DataType ?? '')
    n += a.BinaryValue ? a.BinaryValue.length : Buffer.byteLength(a.StringValue ?? '')
  }
  return n
}
