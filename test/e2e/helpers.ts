import {type ChildProcess, type SpawnOptions, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

export const BIN = resolve(import.meta.dirname, '../../bin/run.js')
/**
 * The V8 flags of the bin's shebang (`#!/usr/bin/env -S node --max-semi-space-size=4
 * --heap-growing-percent=50`): tests run `node FLAGS bin/run.js` on the Node running them, with
 * the memory settings users get.
 */
export const NODE_FLAGS = (/^#!.*\bnode\b(.*)$/m.exec(readFileSync(BIN, 'utf8').split('\n')[0]!)?.[1] ?? '')
  .trim()
  .split(/\s+/)
  .filter(Boolean)

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
}

/** A private XDG home per test file: config and the embedded broker's data live there. */
export function sandboxEnv(): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'evtctl-e2e-'))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_STATE_HOME: join(home, 'state'),
    // Schemas cached on disk stay in the sandbox: a registry restarted on a port a cache knows
    // would reuse its ids for other schemas.
    XDG_CACHE_HOME: join(home, 'cache'),
    NO_COLOR: '1',
  }
  delete env.EVTCTL_CONTEXT
  return env
}

export function run(
  args: string[],
  opts: {env: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string; spawn?: SpawnOptions} = {
    env: process.env,
  },
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...args], {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString()
    })
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolvePromise({code, signal, stdout: Buffer.concat(out), stderr: err}),
    )
    if (opts.input !== undefined) child.stdin.end(opts.input)
    else child.stdin.end()
  })
}

export const lines = (b: Buffer): string[] => b.toString().split('\n').filter(Boolean)

export interface Started {
  child: ChildProcess
  /** Exit code (null after a signal); listened for from the start, so it is never missed. */
  done: Promise<number | null>
  out(): string
  err(): string
}

/** Resolves once `started` wrote `text` on stdout; rejects after `timeoutMs`, with its stderr. */
export async function waitForOutput(started: Started, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!started.out().includes(text)) {
    if (Date.now() > deadline)
      throw new Error(`no "${text}" on stdout in ${timeoutMs} ms; stderr: ${started.err()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Starts evtctl with `args` (or, with `{shell}`, a shell pipeline) and collects its output as it
 * comes: for follows, signals and pipes, where `run` (which waits for the end) does not fit.
 */
export function start(what: string[] | {shell: string}, env: NodeJS.ProcessEnv): Started {
  const child = Array.isArray(what)
    ? spawn(process.execPath, [...NODE_FLAGS, BIN, ...what], {env, stdio: ['ignore', 'pipe', 'pipe']})
    : spawn('sh', ['-c', what.shell], {env, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (b) => {
    stdout += b
  })
  child.stderr!.on('data', (b) => {
    stderr += b
  })
  const done = new Promise<number | null>((resolve) => child.on('close', resolve))
  return {child, done, out: () => stdout, err: () => stderr}
}
