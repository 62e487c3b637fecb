/**
 * The common vocabulary of every schema-diff engine: a change, the compatibility modes as
 * Confluent Schema Registry defines them, and the errors that make an input unusable (exit 2).
 */

export const MODES = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const
export type Mode = (typeof MODES)[number]

export const FORMATS = ['json-schema', 'avro', 'protobuf', 'asyncapi'] as const
export type Format = (typeof FORMATS)[number]

/**
 * Which way a comparison ran. `backward`: readers on the newer schema read data written with the
 * older one (Confluent's `compare(old, new)`). `forward`: readers on the older schema read data
 * written with the newer one (`compare(new, old)`).
 */
export type Direction = 'backward' | 'forward'

/** One difference, as an engine reports it for one direction. */
export interface RawChange {
  /** Confluent's difference type name for JSON Schema and Protobuf; our own for Avro and AsyncAPI. */
  type: string
  /** Where: a JSON pointer (`#/properties/foo`), a Protobuf `#/Message/3`, an Avro field path. */
  path: string
  /** Whether this change alone breaks the direction it was found in. */
  breaking: boolean
  /** A sentence for a developer. */
  message: string
  /** JSON pointer (or Protobuf path) of the change in the reader's (else writer's) document, for its line. */
  pointer?: string
}

/** A change in the report: an engine's change, placed in a file and a direction. */
export interface Change extends RawChange {
  direction: Direction
  /** The schema file the change is about (NEW, or OLD for what was removed). */
  file?: string
  /** 1-based line of the change in `file`, where it can be found. */
  line?: number
  /** Under --against or with several versions: the older version compared (its label). */
  against?: string
}

/** Both sides of one comparison, already read. */
export interface SchemaSource {
  /** Label for messages (a path, or `REF:path`). */
  name: string
  /** Absolute path of the file (on disk, or where it was at a git ref): imports resolve from its folder. */
  path?: string
  text: string
  /**
   * Reads another file (absolute path) for a local $ref or import, from the same side: the disk
   * for NEW, the git ref for OLD under --against. Throws for a path outside the root.
   */
  readFile?: (path: string) => string | undefined
  /** Throws when a path is outside the root (checked for every local $ref, read or not). */
  checkPath?: (path: string) => void
}

export interface EngineOptions {
  jsonSchemaPolicy: 'strict' | 'lenient'
  /** Directories searched for Protobuf imports, after the importing file's own directory. */
  protoPaths: string[]
  /** Local $refs and imports must stay inside this directory. */
  root: string
  /** Absolute time (ms since epoch) after which the comparison gives up: exit 2. */
  deadline: number
}

/**
 * One engine: compares OLD with NEW in one direction. `compare(old, new)` is the BACKWARD check
 * (Confluent's `compare(original, update)`); `compare(new, old)` the FORWARD one.
 */
export interface Engine {
  /** Parses a schema, throwing SchemaInputError when it is unusable. */
  check(source: SchemaSource, opts: EngineOptions): Promise<void>
  /** Changes found when readers on `reader` read data written with `writer`. */
  compare(
    writer: SchemaSource,
    reader: SchemaSource,
    opts: EngineOptions,
    direction: Direction,
  ): Promise<RawChange[]>
}

/**
 * The input cannot be used: unparsable, a remote or escaping $ref, over the time budget. Exit 2,
 * naming the file (and line and column where known).
 */
export class SchemaInputError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly column?: number,
    readonly code = 'SCHEMA_UNUSABLE',
  ) {
    super(message)
    this.name = 'SchemaInputError'
  }

  /** `file:line:column: message` as compilers write it. */
  get located(): string {
    const where = [this.file, this.line, this.column].filter((x) => x !== undefined).join(':')
    return where ? `${where}: ${this.message}` : this.message
  }
}

/** The comparison ran out of its time budget (a pathological schema). */
export class BudgetExceeded extends SchemaInputError {
  constructor(what: string, file?: string) {
    super(what, file, undefined, undefined, 'SCHEMA_TOO_COMPLEX')
  }
}

/** Line and column (1-based) of a character offset in text. */
export function lineColumn(text: string, offset: number): {line: number; column: number} {
  let line = 1
  let last = -1
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      last = i
    }
  }
  return {line, column: offset - last}
}

/** What a breaking change means for which readers. */
export function consequence(breaking: boolean, direction: Direction): string {
  if (!breaking) return ''
  return direction === 'backward'
    ? ': readers on the new schema cannot read some old events'
    : ': readers on the old schema cannot read some new events'
}
