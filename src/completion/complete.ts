/**
 * `evtctl __complete WORD…`: what the shell scripts (./scripts.ts) call on TAB. Its own bundle
 * entry (dist/complete.js), loaded by bin/run.js without oclif: commands and flags come from
 * oclif.manifest.json, contexts from the config file, names from the broker (./names.ts).
 * Prints one candidate a line, or `:files` for the shell's own file completion.
 */
import {readFileSync} from 'node:fs'

interface ManifestFlag {
  name: string
  type: 'option' | 'boolean'
  char?: string
  options?: string[]
  hidden?: boolean
}
interface ManifestArg {
  name: string
  options?: string[]
}
export interface Manifest {
  commands: Record<
    string,
    {id: string; hidden?: boolean; flags: Record<string, ManifestFlag>; args: Record<string, ManifestArg>}
  >
}

export interface CompleteSources {
  manifest: Manifest
  /** Context names. */
  contexts(): Promise<string[]>
  /** Topic, queue and subscription names of `context` (undefined: the current one). */
  targetNames(context: string | undefined): Promise<string[]>
}

export const FILES = ':files'

/** Values worth offering for flags that take free text. */
const SUGGESTED: Record<string, string[]> = {from: ['beginning', 'end'], until: ['end']}
/** Flags and arguments whose values are paths. */
const PATHS = new Set(['file', 'dir', 'proto-path', 'paths'])
/** Arguments that name a topic, queue or subscription. */
const TARGETS = new Set(['target', 'source'])

/**
 * Candidates for the last of `words` (the words after `evtctl`; the last one is being typed and
 * may be empty), or FILES.
 */
export async function candidates(words: string[], src: CompleteSources): Promise<string[] | typeof FILES> {
  const cur = words.at(-1) ?? ''
  const done = words.slice(0, -1)
  const ids = Object.keys(src.manifest.commands).filter((id) => !src.manifest.commands[id]!.hidden)
  const lead: string[] = []
  for (const w of done) {
    if (w.startsWith('-')) break
    lead.push(w)
  }
  // The command: the longest run of leading words that names one ("config use-context").
  let id: string | undefined
  let used = 0
  for (let n = lead.length; n > 0; n--) {
    if (ids.includes(lead.slice(0, n).join(':'))) {
      id = lead.slice(0, n).join(':')
      used = n
      break
    }
  }
  const context = contextOn(done)
  if (!id) {
    if (cur.startsWith('-')) return match(['--help', '--version'], cur)
    const prefix = lead.length ? `${lead.join(':')}:` : ''
    const next = ids.filter((i) => i.startsWith(prefix)).map((i) => i.slice(prefix.length).split(':')[0]!)
    return match([...new Set(next)].sort(), cur)
  }
  const cmd = src.manifest.commands[id]!
  const flags = Object.values(cmd.flags).filter((f) => !f.hidden)
  const flagOf = (word: string) =>
    word.startsWith('--')
      ? flags.find((f) => f.name === word.slice(2))
      : word.length === 2
        ? flags.find((f) => f.char === word[1])
        : undefined

  // `--flag=VALUE`
  const eq = /^(--[^=]+)=(.*)$/.exec(cur)
  if (eq) {
    const values = await valuesOf(flagOf(eq[1]!), eq[2]!, src, context)
    return values === FILES ? values : values.map((v) => `${eq[1]}=${v}`)
  }
  const prev = done.at(-1)
  const prevFlag = prev && done.length > used ? flagOf(prev) : undefined
  if (prevFlag?.type === 'option') return valuesOf(prevFlag, cur, src, context)
  if (cur.startsWith('-')) {
    return match([...flags.map((f) => `--${f.name}`).sort(), '--help'], cur)
  }
  // A positional argument: which one, counting the words after the command that are not flags
  // or their values.
  let position = 0
  for (let i = used; i < done.length; i++) {
    const w = done[i]!
    if (w.startsWith('-')) {
      if (!w.includes('=') && flagOf(w)?.type === 'option') i++
      continue
    }
    position++
  }
  const args = Object.values(cmd.args)
  const arg = args[Math.min(position, args.length - 1)]
  if (!arg || (position >= args.length && arg.name !== 'paths')) return []
  if (arg.options) return match(arg.options, cur)
  if (PATHS.has(arg.name)) return FILES
  if (TARGETS.has(arg.name)) return match(await src.targetNames(context), cur)
  if (arg.name === 'name' && id.startsWith('config:')) return match(await src.contexts(), cur)
  return []
}

async function valuesOf(
  flag: ManifestFlag | undefined,
  cur: string,
  src: CompleteSources,
  context: string | undefined,
): Promise<string[] | typeof FILES> {
  if (!flag) return []
  if (flag.options) return match(flag.options, cur)
  if (flag.name === 'context') return match(await src.contexts(), cur)
  if (flag.name === 'to') return match(await src.targetNames(context), cur)
  if (PATHS.has(flag.name)) return FILES
  return match(SUGGESTED[flag.name] ?? [], cur)
}

/** `--context NAME` (or `--context=NAME`) on the line so far. */
function contextOn(words: string[]): string | undefined {
  let found: string | undefined
  words.forEach((w, i) => {
    if (w === '--context' && words[i + 1] !== undefined) found = words[i + 1]
    else if (w.startsWith('--context=')) found = w.slice('--context='.length)
  })
  return found
}

const match = (all: string[], cur: string) => all.filter((c) => c.startsWith(cur))

/** Real sources: the manifest beside package.json, the config file, the brokers (cached). */
async function realSources(env: NodeJS.ProcessEnv): Promise<CompleteSources> {
  const manifest = JSON.parse(
    readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'),
  ) as Manifest
  const {contextNames, cachedTargetNames} = await import('./names.js')
  return {
    manifest,
    contexts: () => contextNames(env),
    targetNames: (context) => cachedTargetNames(context, env),
  }
}

/** The entry bin/run.js calls: `__complete WORD…`, or `__complete-refresh [CONTEXT]` (in the background). */
export async function main(argv: string[]): Promise<void> {
  const [mode, ...rest] = argv
  try {
    if (mode === '__complete-refresh') {
      const {refreshTargetNames} = await import('./names.js')
      await refreshTargetNames(rest[0] || undefined, process.env)
    } else {
      const out = await candidates(rest, await realSources(process.env))
      process.stdout.write(out === FILES ? `${FILES}\n` : out.map((c) => `${c}\n`).join(''))
    }
  } catch {
    // A completion never prints an error into the shell's line.
  }
  // Do not wait for sockets a slow broker still holds: the answer is out.
  process.exit(0)
}
