/**
 * `--against GIT_REF`: file content at a ref, read with git itself (`git cat-file --batch`, one
 * process for every file), never a checkout and never the network. Also lists the schema files
 * under a directory at the ref, so a removed file is seen.
 */
import {execFile, execFileSync, spawn} from 'node:child_process'
import {relative, resolve, sep} from 'node:path'
import {promisify} from 'node:util'
import {SchemaInputError} from './types.js'

const run = promisify(execFile)

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const {stdout} = await run('git', args, {
      cwd,
      maxBuffer: 256 * 1024 * 1024,
      env: {...process.env, GIT_OPTIONAL_LOCKS: '0'},
    })
    return stdout
  } catch (err) {
    const e = err as {stderr?: string; code?: string | number}
    if (e.code === 'ENOENT')
      throw new SchemaInputError(
        '--against needs git, which is not on PATH',
        undefined,
        undefined,
        undefined,
        'GIT_MISSING',
      )
    throw new SchemaInputError(
      `git ${args[0]} failed: ${
        String(e.stderr ?? err)
          .trim()
          .split('\n')[0]
      }`,
      undefined,
      undefined,
      undefined,
      'GIT_FAILED',
    )
  }
}

const roots = new Map<string, Promise<string | undefined>>()

/** The work tree's root, or undefined outside a repository (asked of git once per folder). */
export function gitRoot(cwd: string): Promise<string | undefined> {
  let root = roots.get(cwd)
  if (!root) {
    root = git(cwd, ['rev-parse', '--show-toplevel']).then(
      (out) => out.trim(),
      () => undefined,
    )
    roots.set(cwd, root)
  }
  return root
}

/** The commit a ref names; a bad ref is unusable input. */
export async function resolveRef(root: string, ref: string): Promise<string> {
  if (ref.startsWith('-'))
    throw new SchemaInputError(`"${ref}" is not a git ref`, undefined, undefined, undefined, 'BAD_REF')
  try {
    const {stdout} = await run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], {cwd: root})
    return stdout.trim()
  } catch {
    throw new SchemaInputError(
      `--against ${ref}: no such commit, branch or tag in ${root}`,
      undefined,
      undefined,
      undefined,
      'BAD_REF',
    )
  }
}

/** Paths (relative to the root, `/`-separated) of files under `dir` at a commit. */
export async function filesAt(root: string, commit: string, dir: string): Promise<string[]> {
  const rel = toGitPath(root, dir)
  const out = await git(root, ['ls-tree', '-r', '-z', '--name-only', commit, '--', rel === '' ? '.' : rel])
  return out.split('\0').filter(Boolean)
}

export function toGitPath(root: string, path: string): string {
  return relative(root, resolve(path)).split(sep).join('/')
}

/** Reads many blobs at a commit in one `git cat-file --batch`; absent ones are undefined. */
export class GitReader {
  private readonly cache = new Map<string, string | undefined>()
  constructor(
    readonly root: string,
    readonly commit: string,
  ) {}

  async readAll(paths: readonly string[]): Promise<Map<string, string | undefined>> {
    const todo = [...new Set(paths)].filter((p) => !this.cache.has(p))
    if (todo.length) {
      const results = await catFileBatch(
        this.root,
        todo.map((p) => `${this.commit}:${p}`),
      )
      todo.forEach((p, i) => {
        this.cache.set(p, results[i])
      })
    }
    return new Map(paths.map((p) => [p, this.cache.get(p)]))
  }

  /** One file, synchronously (a $ref or an import met while comparing): from the cache, else git. */
  readSync(path: string): string | undefined {
    if (this.cache.has(path)) return this.cache.get(path)
    let text: string | undefined
    try {
      text = execFileSync('git', ['cat-file', 'blob', `${this.commit}:${path}`], {
        cwd: this.root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 64 * 1024 * 1024,
      })
    } catch {
      text = undefined
    }
    this.cache.set(path, text)
    return text
  }
}

function catFileBatch(cwd: string, specs: string[]): Promise<Array<string | undefined>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], {cwd, stdio: ['pipe', 'pipe', 'pipe']})
    const chunks: Buffer[] = []
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => chunks.push(b))
    child.stderr.on('data', (b: Buffer) => {
      stderr += b
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) {
        reject(
          new SchemaInputError(
            `git cat-file failed: ${stderr.trim()}`,
            undefined,
            undefined,
            undefined,
            'GIT_FAILED',
          ),
        )
        return
      }
      const buf = Buffer.concat(chunks)
      const out: Array<string | undefined> = []
      let pos = 0
      for (let i = 0; i < specs.length; i++) {
        const nl = buf.indexOf(10, pos)
        const header = buf.subarray(pos, nl).toString()
        pos = nl + 1
        const m = /^\S+ (\w+) (\d+)$/.exec(header)
        if (!m) {
          out.push(undefined) // "<spec> missing"
          continue
        }
        const size = Number(m[2])
        out.push(m[1] === 'blob' ? buf.subarray(pos, pos + size).toString('utf8') : undefined)
        pos += size + 1
      }
      resolvePromise(out)
    })
    child.stdin.end(`${specs.join('\n')}\n`)
  })
}
