import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic} from '../brokers/kafka.js'
import {BIN, lines, run, sandboxEnv} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = {...sandboxEnv()}
cli.XDG_CACHE_HOME = join(cli.XDG_CONFIG_HOME!, '..', 'cache')

/** zsh and fish from Debian when missing (as the harness does for kcat); bash is always there. */
function ensureShells(): void {
  const missing = ['zsh', 'fish'].filter((s) => spawnSync('sh', ['-c', `command -v ${s}`]).status !== 0)
  if (missing.length === 0) return
  if (process.getuid?.() !== 0)
    throw new Error(`${missing.join(' and ')} missing: apt-get install -y ${missing.join(' ')}`)
  let r = spawnSync('apt-get', ['install', '-y', '-q', ...missing], {stdio: 'ignore'})
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], {stdio: 'ignore'})
    r = spawnSync('apt-get', ['install', '-y', '-q', ...missing], {stdio: 'ignore'})
  }
  if (r.status !== 0) throw new Error(`could not install ${missing.join(' and ')} from Debian`)
}

/** TABs (`evtctl __complete …`) until `want` is among the candidates; each TAB timed. */
async function tabUntil(
  words: string[],
  want: string,
  renv = cli,
): Promise<{got: string[]; slowestMs: number}> {
  let slowestMs = 0
  const deadline = Date.now() + 20_000
  for (;;) {
    const t0 = Date.now()
    const r = await run(['__complete', ...words], {env: renv})
    slowestMs = Math.max(slowestMs, Date.now() - t0)
    expect(r.code, r.stderr).toBe(0)
    const got = lines(r.stdout)
    if (got.includes(want) || Date.now() > deadline) return {got, slowestMs}
    await new Promise((res) => setTimeout(res, 300))
  }
}

describe.skipIf(!env.KAFKA_BROKERS)('shell completion against the real Kafka', () => {
  let topic = ''
  let silent: Server
  const sockets = new Set<Socket>()
  const bin = join(cli.XDG_CONFIG_HOME!, '..', 'bin')

  beforeAll(async () => {
    ensureShells()
    topic = await createTopic('compl')
    const set = await run(
      ['config', 'set-context', 'k', '--broker', 'kafka', '--brokers', env.KAFKA_BROKERS!, '--use'],
      {env: cli},
    )
    expect(set.code, set.stderr).toBe(0)
    // A broker that accepts connections and never answers.
    silent = createServer((s) => {
      sockets.add(s)
      s.on('error', () => {})
    })
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const port = (silent.address() as {port: number}).port
    const dead = await run(
      ['config', 'set-context', 'silent', '--broker', 'kafka', '--brokers', `127.0.0.1:${port}`],
      {env: cli},
    )
    expect(dead.code, dead.stderr).toBe(0)
    // `evtctl` on PATH for the shells: this checkout's bin, on the Node running the tests.
    mkdirSync(bin, {recursive: true})
    writeFileSync(join(bin, 'evtctl'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
    chmodSync(join(bin, 'evtctl'), 0o755)
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((r) => silent.close(() => r()))
  })

  test('topics of the current context are offered, then cached for a minute under XDG_CACHE_HOME', async () => {
    const first = await tabUntil(['tail', 'compl-'], topic)
    expect(first.got).toContain(topic)
    // Cached: a topic made now is not asked for again within the minute...
    const second = await createTopic('compl')
    const cached = await run(['__complete', 'tail', 'compl-'], {env: cli})
    expect(lines(cached.stdout)).toContain(topic)
    expect(lines(cached.stdout)).not.toContain(second)
    // ...and is once the cached answer is older than a minute.
    const dir = join(cli.XDG_CACHE_HOME!, 'evtctl', 'completion')
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'))
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) {
      const c = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {at: number; names: string[]}
      expect(c.names).toContain(topic)
      writeFileSync(join(dir, f), JSON.stringify({...c, at: c.at - 61_000}))
    }
    const again = await tabUntil(['tail', 'compl-'], second)
    expect(again.got).toEqual(expect.arrayContaining([topic, second]))
    // --context on the line: another context's names (none here, its broker never answers).
    expect((await tabUntil(['tail', '--context', 'k', 'compl-'], topic)).got).toContain(topic)
  }, 60_000)

  test('a broker that never answers does not hold the shell: each TAB ends in well under its 10 s request time-out', async () => {
    const started = Date.now()
    const r = await run(['__complete', 'tail', '--context', 'silent', ''], {env: cli})
    const ms = Date.now() - started
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.toString()).toBe('')
    // Budget 250 ms for the broker; the rest is Node's and evtctl's start on a loaded 2-core machine.
    expect(ms).toBeLessThan(2_000)
  })

  test('bash, zsh and fish offer the same candidates through their scripts', async () => {
    await tabUntil(['tail', 'compl-'], topic)
    const shellEnv = {...cli, PATH: `${bin}:${cli.PATH}`}
    const sh = (cmd: string, args: string[]) => {
      const r = spawnSync(cmd, args, {env: shellEnv, encoding: 'utf8', timeout: 30_000})
      expect(r.status, r.stderr).toBe(0)
      return r.stdout.split('\n').filter(Boolean)
    }
    const bashOut = (line: string) =>
      sh('bash', [
        '-c',
        `source <(evtctl completion bash); COMP_LINE='${line}'; COMP_POINT=\${#COMP_LINE}; _evtctl_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ])
    const zshOut = (line: string) =>
      sh('zsh', [
        '-c',
        // compadd and _files stand in for zsh's completion system: they print what they are given.
        `source <(evtctl completion zsh); compadd() { while [[ $1 != -- ]]; do shift; done; shift; printf '%s\\n' "$@"; }; _files() { print :files; }; line='${line}'; words=(\${(z)line}); [[ $line == *' ' ]] && words+=(''); CURRENT=\${#words}; _evtctl`,
      ])
    const fishOut = (line: string) =>
      sh('fish', ['-c', `evtctl completion fish | source; complete -C '${line}'`]).map(
        (l) => l.split('\t')[0]!,
      )

    for (const out of [bashOut, zshOut, fishOut]) {
      expect(out('evtctl ta')).toEqual(['tail'])
      expect(out('evtctl tail compl-')).toContain(topic)
      // (fish sorts what it offers; bash and zsh keep evtctl's order)
      expect(out('evtctl tail x -o ').sort()).toEqual(['jsonl', 'pretty', 'raw'])
      expect(out('evtctl config use-context ')).toEqual(['k', 'silent'])
    }
    // bash splits words at ":" — a URL's candidate is completed from after the colon.
    expect(bashOut('evtctl tail --output=j')).toEqual(['jsonl'])
  }, 90_000)
})
