import {z} from 'zod'
import {UsageError} from '../errors.js'
import {ENVELOPE_VERSION, type Envelope} from './envelope.js'

/**
 * Reading envelopes back: the zod schema and decodeEnvelope. Apart from ./envelope.ts, so that
 * commands that only write envelopes (tail) or read plain lines (publish) never load zod (~27 ms
 * of start-up).
 */
const payloadSchema = z.union([
  z.strictObject({json: z.unknown()}),
  z.strictObject({utf8: z.string()}),
  z.strictObject({base64: z.base64()}),
])

const headerSchema = z.tuple([z.string(), payloadSchema.nullable()])

export const metaSchema = z
  .object({
    messageId: z.string().optional(),
    orderingKey: z.string().optional(),
    groupId: z.string().optional(),
    dedupId: z.string().optional(),
    sequenceNumber: z.string().optional(),
    deliveryAttempt: z.number().int().optional(),
    receiveCount: z.number().int().optional(),
    /** Attribute data types where not plain String (SQS: Number, Binary, custom suffixes), by header name. */
    attributeTypes: z.record(z.string(), z.string()).optional(),
    /** Broker system fields we do not model one by one (SQS system attributes, …). */
    system: z.record(z.string(), z.string()).optional(),
    /** Where a stored envelope came from, when a file topic or capture holds a copy. */
    origin: z
      .strictObject({
        source: z.string(),
        partition: z.number().int().optional(),
        offset: z.string().optional(),
      })
      .optional(),
    dlq: z.record(z.string(), z.unknown()).optional(),
  })
  .catchall(z.unknown())

/** The schema a decoding read used (tail --decode); informational, never sent. */
const schemaRefSchema = z.object({
  id: z.number().int().nonnegative().optional(),
  subject: z.string().optional(),
  type: z.enum(['AVRO', 'PROTOBUF', 'JSON']),
  message: z.string().optional(),
})

export const envelopeSchema = z.strictObject({
  v: z.literal(ENVELOPE_VERSION),
  source: z.string().optional(),
  partition: z.number().int().min(0).optional(),
  offset: z.string().optional(),
  // ISO 8601 with a zone (what tail writes), so "yesterday" is refused rather than replaced by now.
  timestamp: z.iso
    .datetime({offset: true, error: 'expected an ISO 8601 time with a zone, e.g. 2026-11-23T10:04:05.123Z'})
    .refine((t) => !Number.isNaN(Date.parse(t)), 'not a real date')
    .optional(),
  timestampType: z.enum(['create', 'append']).optional(),
  key: payloadSchema.nullable().optional(),
  headers: z.array(headerSchema).optional(),
  value: payloadSchema.nullable(),
  // Written by tail --decode beside the bytes; accepted so a decoded capture replays as it is.
  schema: schemaRefSchema.optional(),
  decoded: z.unknown().optional(),
  decodeError: z.string().optional(),
  keySchema: schemaRefSchema.optional(),
  keyDecoded: z.unknown().optional(),
  keyDecodeError: z.string().optional(),
  meta: metaSchema.optional(),
})

/**
 * Parses and validates one line. `where` names the line in errors ("line 12 of orders.jsonl").
 * Throws UsageError (exit 2).
 */
export function decodeEnvelope(line: string, where = 'input'): Envelope {
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch (err) {
    throw new UsageError(
      `${where} is not valid JSON: ${(err as Error).message}.`,
      'Each line must be one envelope as written by "evtctl tail -o jsonl". Use "--input lines" to send plain text lines.',
      'BAD_ENVELOPE',
    )
  }
  const parsed = envelopeSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const path = issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : ''
    throw new UsageError(
      `${where} is not a valid envelope${path}: ${issue.message}.`,
      'An envelope needs "v":1 and "value" ({"json":…}, {"utf8":"…"}, {"base64":"…"} or null); see "The event envelope" in the README. For lines of plain JSON or text, use --input lines.',
      'BAD_ENVELOPE',
    )
  }
  // Return the input object, not zod's copy: key order inside meta and json stays as written.
  return raw as Envelope
}
