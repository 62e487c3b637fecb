/**
 * The diff-schema use case: versions (oldest first) or files against a git ref in, one report
 * out. No oclif, no printing: the command renders the report. Engines are loaded only for the
 * formats met, so a JSON Schema check never loads protobufjs or avsc.
 */
import {readFileSync, realpathSync, statSync} from 'node:fs'
import {extname, isAbsolute, relative, resolve, sep} from 'node:path'
import {
  type Change,
  type Direction,
  type Engine,
  type EngineOptions,
  type Format,
  type Mode,
  type RawChange,
  SchemaInputError,
  type SchemaSource,
} from './types.js'

export interface DiffSchemaOptions {
  mode: Mode
  /** `auto`: from the extension, or the `asyncapi` key. */
  format: Format | 'auto'
  jsonSchemaPolicy: 'strict' | 'lenient'
  protoPaths: string[]
  /** Local refs and imports must stay inside this directory (the repository root). */
  root: string
  /** Time budget per pair of schemas, in ms. */
  budgetMs: number
}

export type FileStatus = 'changed' | 'unchanged' | 'added' | 'removed'

export interface FileResult {
  file: string
  format: Format
  status: FileStatus
  compatible: boolean
}

export interface DiffSchemaReport {
  compatible: boolean
  compatibility: Mode
  format: Format | 'mixed'
  changes: Change[]
  /** Under --against: one entry per file looked at. */
  files?: FileResult[]
}

const ENGINES: Record<Format, () => Promise<Engine>> = {
  'json-schema': async () => (await import('./json-schema.js')).jsonSchemaEngine,
  avro: async () => (await import('./avro.js')).avroEngine,
  protobuf: async () => (await import('./protobuf.js')).protobufEngine,
  asyncapi: async () => (await import('./asyncapi.js')).asyncapiEngine,
}

export async function engineFor(format: Format): Promise<Engine> {
  return ENGINES[format]()
}

/** Schemas beyond this size are refused before parsing (memory stays bounded). */
export const MAX_SCHEMA_BYTES = 32 * 1024 * 1024

/** The format of a schema file: by `--format`, else its extension, else an `asyncapi` key. */
export function detectFormat(source: SchemaSource, forced: Format | 'auto'): Format {
  if (source.text.length > MAX_SCHEMA_BYTES) {
    throw new SchemaInputError(
      `is larger than ${MAX_SCHEMA_BYTES / 1024 / 1024} MB: not read as a schema`,
      source.name,
      undefined,
      undefined,
      'SCHEMA_TOO_LARGE',
    )
  }
  if (forced !== 'auto') return forced
  const ext = extname(source.name).toLowerCase()
  if (ext === '.avsc') return 'avro'
  if (ext === '.proto') return 'protobuf'
  const head = source.text.slice(0, 4096)
  if (ext === '.yaml' || ext === '.yml') {
    if (/^asyncapi\s*:/m.test(head) || /"asyncapi"\s*:/.test(head)) return 'asyncapi'
    throw new SchemaInputError(
      'cannot tell the schema format of this YAML file (no "asyncapi:" key); give --format',
      source.name,
      undefined,
      undefined,
      'UNKNOWN_FORMAT',
    )
  }
  if (ext === '.json')
    return /^\s*\{\s*"asyncapi"\s*:/.test(head) || /\n\s{0,4}"asyncapi"\s*:/.test(head)
      ? 'asyncapi'
      : 'json-schema'
  throw new SchemaInputError(
    `cannot tell the schema format from the extension "${ext || '(none)'}"; use .json, .avsc, .proto, or give --format`,
    source.name,
    undefined,
    undefined,
    'UNKNOWN_FORMAT',
  )
}

/**
 * The comparisons a mode asks for among versions 0..n-1 (n-1 is the newest): which older
 * version, in which direction. NONE still lists the changes (backward), none breaking.
 */
export function plan(mode: Mode, n: number): Array<{older: number; direction: Direction}> {
  if (n < 2) return []
  const last = n - 2
  const olders = mode.endsWith('_TRANSITIVE') ? Array.from({length: n - 1}, (_, i) => last - i) : [last]
  const dirs: Direction[] = mode.startsWith('FULL')
    ? ['backward', 'forward']
    : mode.startsWith('FORWARD')
      ? ['forward']
      : ['backward']
  return olders.flatMap((older) => dirs.map((direction) => ({older, direction})))
}

function engineOptions(opts: DiffSchemaOptions): EngineOptions {
  return {
    jsonSchemaPolicy: opts.jsonSchemaPolicy,
    protoPaths: opts.protoPaths,
    root: opts.root,
    deadline: Date.now() + opts.budgetMs,
  }
}

/** Throws unless a path is inside the root, also after following symlinks. */
export function rootGuard(root: string): (path: string) => string | undefined {
  const realRoot = safeRealpath(root) ?? root
  return (path: string) => {
    const abs = resolve(path)
    const inside = (p: string) => p === realRoot || p.startsWith(realRoot + sep)
    const real = safeRealpath(abs)
    if (!inside(resolve(realRoot, relative(root, abs))) || (real && !inside(real))) {
      throw new SchemaInputError(
        `"${path}" is outside the repository root ${root}; local references must stay inside it`,
        undefined,
        undefined,
        undefined,
        'REF_OUTSIDE_ROOT',
      )
    }
    return real
  }
}

/** Reads a file for a local $ref or import: inside the root only, never through a symlink out. */
export function localReader(root: string): (path: string) => string | undefined {
  const guard = rootGuard(root)
  return (path: string) => {
    const real = guard(path)
    if (!real) return undefined
    try {
      if (!statSync(real).isFile()) return undefined
      return readFileSync(real, 'utf8')
    } catch {
      return undefined
    }
  }
}

function safeRealpath(p: string): string | undefined {
  try {
    return realpathSync(p)
  } catch {
    return undefined
  }
}

/** Compares versions (oldest first; the last is new) under a mode. */
export async function diffVersions(
  versions: readonly SchemaSource[],
  opts: DiffSchemaOptions,
): Promise<DiffSchemaReport> {
  const formats = versions.map((v) => detectFormat(v, opts.format))
  const format = formats[formats.length - 1]!
  const mismatch = versions.find((_, i) => formats[i] !== format)
  if (mismatch) {
    throw new SchemaInputError(
      `is ${formats[versions.indexOf(mismatch)]} but ${versions[versions.length - 1]!.name} is ${format}: versions must share one format`,
      mismatch.name,
      undefined,
      undefined,
      'FORMAT_MISMATCH',
    )
  }
  const engine = await engineFor(format)
  const newest = versions[versions.length - 1]!
  // Every version must be usable, also where the mode compares only the last two (the compared
  // ones are parsed by the comparison itself).
  const steps = plan(opts.mode, versions.length)
  const compared = new Set(steps.flatMap((s) => [s.older, versions.length - 1]))
  for (const [i, v] of versions.entries())
    if (!compared.has(i)) await guarded(() => engine.check(v, engineOptions(opts)), v.name)
  const changes: Change[] = []
  for (const {older, direction} of steps) {
    const old = versions[older]!
    const [writer, reader] = direction === 'backward' ? [old, newest] : [newest, old]
    const raw = await guarded(
      () => engine.compare(writer, reader, engineOptions(opts), direction),
      `${writer.name} and ${reader.name}`,
    )
    for (const c of raw)
      changes.push(place(c, direction, newest, versions.length > 2 ? old.name : undefined, opts.mode))
  }
  return finish(opts.mode, format, dedupe(changes))
}

/** A schema so deep that the call stack runs out is unusable input, not a crash. */
async function guarded<T>(fn: () => Promise<T>, what: string): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      throw new SchemaInputError(
        `comparing ${what} needs deeper recursion than the stack allows (nesting or chains of $refs too deep)`,
        undefined,
        undefined,
        undefined,
        'SCHEMA_TOO_COMPLEX',
      )
    }
    throw err
  }
}

function place(
  c: RawChange,
  direction: Direction,
  newest: SchemaSource,
  against: string | undefined,
  mode: Mode,
): Change {
  const breaking = mode === 'NONE' ? false : c.breaking
  const {pointer, ...rest} = c
  return {
    ...rest,
    breaking,
    direction,
    file: newest.name,
    ...(against ? {against} : {}),
    ...(pointer ? {pointer} : {}),
  } as Change
}

/** Same type, path and direction against the same version once (FULL over a transitive set). */
function dedupe(changes: Change[]): Change[] {
  const seen = new Set<string>()
  return changes.filter((c) => {
    const k = `${c.file}\0${c.type}\0${c.path}\0${c.direction}\0${c.against ?? ''}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

export function finish(
  mode: Mode,
  format: Format | 'mixed',
  changes: Change[],
  files?: FileResult[],
): DiffSchemaReport {
  const sorted = sortChanges(changes)
  return {
    compatible: !sorted.some((c) => c.breaking),
    compatibility: mode,
    format,
    changes: sorted,
    ...(files ? {files} : {}),
  }
}

/** A stable order (file, direction, path, type): the same input gives byte-identical output. */
export function sortChanges(changes: Change[]): Change[] {
  const key = (c: Change) => [c.file ?? '', c.against ?? '', c.direction, c.path, c.type]
  return [...changes].sort((a, b) => {
    const ka = key(a)
    const kb = key(b)
    for (let i = 0; i < ka.length; i++) {
      if (ka[i]! < kb[i]!) return -1
      if (ka[i]! > kb[i]!) return 1
    }
    return 0
  })
}

/** Lines of changes (for annotations), from the newer file's text. */
export async function locate(
  report: DiffSchemaReport,
  texts: Map<string, {text: string; format: Format}>,
): Promise<void> {
  const byFile = new Map<string, Change[]>()
  for (const c of report.changes) {
    if (!c.file) continue
    const list = byFile.get(c.file) ?? []
    list.push(c)
    byFile.set(c.file, list)
  }
  for (const [file, list] of byFile) {
    const entry = texts.get(file)
    if (!entry) continue
    if (entry.format === 'protobuf') {
      const {protoLineOf} = await import('./protobuf-lines.js')
      for (const c of list) {
        const line = protoLineOf(entry.text, c.pointer ?? c.path)
        if (line) c.line = line
      }
      continue
    }
    const targets = list.map((c) => {
      const pointer = (c as Change & {pointer?: string}).pointer ?? c.path
      return pointer.startsWith('#')
        ? pointer
            .replace(/^#\/?/, '')
            .split('/')
            .filter(Boolean)
            .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
        : undefined
    })
    if (/^\s*[{[]/.test(entry.text) && entry.format !== 'asyncapi') {
      const {jsonLines} = await import('./json-lines.js')
      const lines = jsonLines(
        entry.text,
        targets.map((t) => t ?? []),
      )
      list.forEach((c, i) => {
        if (targets[i] && lines[i]) c.line = lines[i]
      })
      continue
    }
    const {lineOf} = await import('./yaml.js')
    list.forEach((c, i) => {
      const line = targets[i] ? lineOf(entry.text, targets[i]) : undefined
      if (line) c.line = line
    })
  }
  for (const c of report.changes) delete (c as Change & {pointer?: string}).pointer
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/** Whether a schema may read other files: a `$ref` to a file, or a Protobuf import. */
function referencesOtherFiles(text: string, format: Format): boolean {
  if (format === 'protobuf') return /^\s*import\s/m.test(text)
  return /["']?\$ref["']?\s*:\s*["']?(?!#)[^\s"',}]/.test(text)
}

/** The git work tree's root, else the folder itself: local refs and imports stay inside it. */
export async function repositoryRoot(cwd: string): Promise<string> {
  const {gitRoot} = await import('./git.js')
  return (await gitRoot(cwd)) ?? cwd
}

/** OLD NEW or V1 … VN read from disk, compared under the mode, lines found in the newest. */
export async function diffFiles(
  paths: readonly string[],
  opts: DiffSchemaOptions & {cwd: string},
): Promise<DiffSchemaReport> {
  const {readFile} = await import('node:fs/promises')
  const reader = localReader(opts.root)
  const guard = rootGuard(opts.root)
  const versions: SchemaSource[] = []
  for (const p of paths) {
    const abs = resolve(opts.cwd, p)
    const text = await readFile(abs, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new SchemaInputError(
        err.code === 'ENOENT'
          ? 'no such file'
          : err.code === 'EISDIR'
            ? 'is a folder (folders need --against)'
            : err.message,
        p,
        undefined,
        undefined,
        'FILE_NOT_FOUND',
      )
    })
    versions.push({name: p, path: abs, text, readFile: reader, checkPath: guard})
  }
  const report = await diffVersions(versions, opts)
  const newest = versions[versions.length - 1]!
  await locate(report, new Map([[newest.name, {text: newest.text, format: report.format as Format}]]))
  return report
}

const SCHEMA_EXTENSIONS = /\.(json|avsc|proto|ya?ml)$/i
const SKIP_DIRS = new Set(['node_modules', '.git'])

/** Schema files under a directory on disk (no symlinks followed), `/`-separated from the root. */
async function walk(root: string, dir: string, out: string[]): Promise<void> {
  const {readdir} = await import('node:fs/promises')
  const entries = await readdir(dir, {withFileTypes: true})
  for (const e of entries) {
    const p = resolve(dir, e.name)
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) await walk(root, p, out)
    } else if (e.isFile() && SCHEMA_EXTENSIONS.test(e.name)) out.push(relative(root, p).split(sep).join('/'))
  }
}

/** YAML files count as schemas under a directory only when they are AsyncAPI documents. */
function isSchemaFile(path: string, text: string | undefined): boolean {
  if (!/\.ya?ml$/i.test(path)) return true
  return (
    text !== undefined &&
    (/^asyncapi\s*:/m.test(text.slice(0, 4096)) || /"asyncapi"\s*:/.test(text.slice(0, 4096)))
  )
}

/**
 * Each PATH (file or directory) against its content at a git ref: changed files are compared
 * under the mode, a file new since the ref is reported as added, a removed one as breaking
 * (FILE_REMOVED) unless allowRemoved.
 */
export async function diffAgainst(
  paths: readonly string[],
  ref: string,
  opts: DiffSchemaOptions & {allowRemoved: boolean; cwd: string},
): Promise<DiffSchemaReport> {
  const {GitReader, filesAt, gitRoot, resolveRef, toGitPath} = await import('./git.js')
  const root = await gitRoot(opts.cwd)
  if (!root)
    throw new SchemaInputError(
      `--against needs a git repository; ${opts.cwd} is not in one`,
      undefined,
      undefined,
      undefined,
      'NOT_A_REPOSITORY',
    )
  const commit = await resolveRef(root, ref)
  const git = new GitReader(root, commit)
  const {stat, readFile} = await import('node:fs/promises')
  const explicit = new Set<string>()
  const listed = new Set<string>()
  for (const p of paths) {
    const abs = resolve(opts.cwd, p)
    if (!isInside(root, abs)) {
      throw new SchemaInputError(
        `is outside the repository ${root}`,
        p,
        undefined,
        undefined,
        'PATH_OUTSIDE_ROOT',
      )
    }
    const st = await stat(abs).catch(() => undefined)
    const rel = toGitPath(root, abs)
    if (st?.isDirectory()) {
      const found: string[] = []
      await walk(root, abs, found)
      for (const f of found) listed.add(f)
      for (const f of await filesAt(root, commit, abs)) if (SCHEMA_EXTENSIONS.test(f)) listed.add(f)
    } else if (st?.isFile()) {
      explicit.add(rel)
    } else {
      const before = await filesAt(root, commit, abs)
      if (before.length === 0)
        throw new SchemaInputError(
          `does not exist, here or at ${ref}`,
          p,
          undefined,
          undefined,
          'FILE_NOT_FOUND',
        )
      for (const f of before) (before.length === 1 && f === rel ? explicit : listed).add(f)
    }
  }
  const all = [...new Set([...explicit, ...listed])].sort()
  const olds = await git.readAll(all)
  const changes: Change[] = []
  const files: FileResult[] = []
  const texts = new Map<string, {text: string; format: Format}>()
  const newReader = localReader(root)
  const oldReader = (abs: string): string | undefined => {
    const rel = relative(root, abs)
    if (rel.startsWith('..') || isAbsolute(rel)) return newReader(abs) // throws: outside the root
    return git.readSync(rel.split(sep).join('/'))
  }
  const formats = new Set<Format>()
  for (const rel of all) {
    const abs = resolve(root, rel)
    const display = relative(opts.cwd, abs).split(sep).join('/') || rel
    const newText = await readFile(abs, 'utf8').catch(() => undefined)
    const oldText = olds.get(rel)
    // Under a directory, YAML that is not AsyncAPI is not a schema.
    if (!explicit.has(rel) && !isSchemaFile(rel, newText ?? oldText)) continue
    const source = (text: string, side: 'old' | 'new'): SchemaSource => ({
      name: side === 'old' ? `${ref}:${display}` : display,
      path: abs,
      text,
      readFile: side === 'old' ? oldReader : newReader,
      checkPath: rootGuard(root),
    })
    if (newText === undefined && oldText === undefined) continue
    const format = detectFormat(source(newText ?? oldText!, 'new'), opts.format)
    formats.add(format)
    if (oldText === undefined) {
      await (await engineFor(format)).check(source(newText!, 'new'), engineOptions(opts))
      files.push({file: display, format, status: 'added', compatible: true})
      continue
    }
    if (newText === undefined) {
      const breaking = !opts.allowRemoved && opts.mode !== 'NONE'
      changes.push({
        type: 'FILE_REMOVED',
        path: '#/',
        breaking,
        direction: 'backward',
        file: display,
        message: `${display} was removed since ${ref}${breaking ? ': producers and consumers that use it lose their schema (pass --allow-removed if intended)' : ''}`,
      })
      files.push({file: display, format, status: 'removed', compatible: !breaking})
      continue
    }
    // Unchanged text is unchanged schema, unless it reads other files (which may have changed).
    if (oldText === newText && !referencesOtherFiles(newText, format)) {
      files.push({file: display, format, status: 'unchanged', compatible: true})
      continue
    }
    const r = await diffVersions([source(oldText, 'old'), source(newText, 'new')], opts)
    changes.push(...r.changes)
    texts.set(display, {text: newText, format})
    const status = oldText === newText && r.changes.length === 0 ? 'unchanged' : 'changed'
    files.push({file: display, format, status, compatible: r.compatible})
  }
  const format: Format | 'mixed' =
    formats.size === 1
      ? [...formats][0]!
      : formats.size === 0
        ? opts.format === 'auto'
          ? 'json-schema'
          : opts.format
        : 'mixed'
  const report = finish(opts.mode, format, changes, files)
  await locate(report, texts)
  return report
}
