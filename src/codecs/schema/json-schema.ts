import type {AnySchema, ErrorObject, ValidateFunction} from 'ajv'

export interface JsonSchemaCodec {
  /** Framed JSON Schema data is JSON text: parsed, not validated (reading never judges data). */
  decode(bytes: Buffer): unknown
  /** Validates `value`; throws JsonInputError naming the field. Returns the bytes to send. */
  encode(value: unknown): Buffer
}

export class JsonInputError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message)
  }
}

type AjvClass = new (
  opts: Record<string, unknown>,
) => {
  addSchema(schema: AnySchema, key?: string): unknown
  compile(schema: AnySchema): ValidateFunction
}

/** The ajv class for the schema's draft: 2020-12, 2019-09, or draft-07 (also reads 6 and most of 4). */
async function ajvFor(schema: Record<string, unknown>): Promise<AjvClass> {
  const dialect = typeof schema.$schema === 'string' ? schema.$schema : ''
  const load = async (m: Promise<unknown>) => {
    const mod = (await m) as {default?: unknown}
    return ((mod.default as {default?: unknown})?.default ?? mod.default ?? mod) as AjvClass
  }
  if (dialect.includes('2020-12')) return load(import('ajv/dist/2020.js'))
  if (dialect.includes('2019-09')) return load(import('ajv/dist/2019.js'))
  return load(import('ajv'))
}

/** Compiles a JSON Schema (text); `references` are schemas it $refs, by the name it uses. */
export async function compileJsonSchema(
  schema: string,
  references: ReadonlyArray<{name: string; text: string}> = [],
): Promise<JsonSchemaCodec> {
  const parsed = JSON.parse(schema) as Record<string, unknown>
  const Ajv = await ajvFor(parsed)
  // Formats (date-time, email…) are not checked: ajv needs a plug-in for them.
  const ajv = new Ajv({allErrors: true, strict: false, validateFormats: false, validateSchema: false})
  for (const r of references) ajv.addSchema(JSON.parse(r.text) as AnySchema, r.name)
  const validate = ajv.compile(parsed as AnySchema)
  return {
    decode(bytes) {
      return JSON.parse(bytes.toString('utf8'))
    },
    encode(value) {
      if (!validate(value)) {
        const errs = (validate.errors ?? []) as ErrorObject[]
        const first = errs[0]
        const path = first ? fieldOf(first) : ''
        throw new JsonInputError(
          errs
            .slice(0, 3)
            .map((e) => `field "${fieldOf(e) || '(top level)'}": ${e.message ?? 'invalid'}`)
            .join('; '),
          path,
        )
      }
      return Buffer.from(JSON.stringify(value), 'utf8')
    },
  }
}

/** "/items/0/id" → "items[0].id"; a missing required property names the property. */
function fieldOf(e: ErrorObject): string {
  const parts = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  const missing = (e.params as {missingProperty?: string}).missingProperty
  if (missing) parts.push(missing)
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '')
}
