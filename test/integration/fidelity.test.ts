import {spawn} from 'node:child_process'
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic} from '../brokers/kafka.js'
import {kcatProduce} from '../brokers/peers.js'
import {counts, createQueue, fill} from '../brokers/sqs.js'
import {BIN, lines, run, sandboxEnv, start} from '../e2e/helpers.js'

/**
 * Issue #10, the items that are not one broker's: what a user sees in output, filters, flags,
 * contexts and the file broker — each against a real broker (Kafka through kcat as the peer that
 * writes what users' producers write, or the embedded file broker where the item is about it).
 */
const env = brokerEnv()
const K = () => `kafka://${env.KAFKA_BROKERS}`

describe('fidelity: output, filters and flags (real Kafka)', () => {
  test('pretty output shows control sequences from payloads, keys and headers escaped, never obeyed (#13)', async () => {
    const cli = sandboxEnv()
    const topic = await createTopic('esc')
    const evil = 'x\x1b[2J\x1b[Hcleared\x1b]0;pwned-title\x07'
    const p = await kcatProduce(
      env.KAFKA_BROKERS!,
      topic,
      {key: `k${evil}`, headers: [`h=${evil}`]},
      `${evil}\n`,
    )
    expect(p.code, p.stderr).toBe(0)
    const t = await run(
      ['tail', `${K()}/${topic}`, '--from', 'beginning', '--until', 'end', '-o', 'pretty'],
      {
        env: cli,
      },
    )
    expect(t.code, t.stderr).toBe(0)
    const out = t.stdout.toString()
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    expect(out).toContain('x\\x1b[2J\\x1b[Hcleared\\x1b]0;pwned-title\\x07')
    // -o raw into a pipe stays byte-exact.
    const raw = await run(['tail', `${K()}/${topic}`, '--from', 'beginning', '--until', 'end', '-o', 'raw'], {
      env: cli,
    })
    expect(raw.stdout.toString()).toBe(`${evil}\n`)
  })

  test('JSON with spaces (Python json.dumps, pretty JSON) is seen by --where and --format (#9)', async () => {
    const cli = sandboxEnv()
    const topic = await createTopic('spaces')
    const p = await kcatProduce(
      env.KAFKA_BROKERS!,
      topic,
      {},
      '{"id": 1, "total": 42.5}\n{"id": 2, "total": 7}\n{"id": 3, "total": 99}\n',
    )
    expect(p.code, p.stderr).toBe(0)
    const t = await run(
      [
        'tail',
        `${K()}/${topic}`,
        '--from',
        'beginning',
        '--until',
        'end',
        '--where',
        'value.total > 40',
        '--format',
        '{value.id}',
      ],
      {env: cli},
    )
    expect(t.code, t.stderr).toBe(0)
    expect(lines(t.stdout)).toEqual(['1', '3'])
    // The envelope still stores the bytes as they were: a capture replays byte-exact.
    const j = await run(['tail', `${K()}/${topic}`, '--from', 'beginning', '--until', 'end', '--max', '1'], {
      env: cli,
    })
    expect(JSON.parse(lines(j.stdout)[0]!).value).toEqual({utf8: '{"id": 1, "total": 42.5}'})
  })

  test('repeatable flags take one value each: -H a=b VALUE, --header=a=b VALUE, --partition 0 TOPIC (#15)', async () => {
    const cli = sandboxEnv()
    const topic = await createTopic('rep', 2)
    for (const args of [
      ['publish', `${K()}/${topic}`, '-H', 'a=b', 'first', '--partition', '0'],
      ['publish', `${K()}/${topic}`, '--header=a=c', 'second', '--partition', '0'],
    ]) {
      const p = await run(args, {env: cli})
      expect(p.code, p.stderr).toBe(0)
    }
    const t = await run(
      [
        'tail',
        '--partition',
        '0',
        `${K()}/${topic}`,
        '--from',
        'beginning',
        '--until',
        'end',
        '--format',
        '{headers.a} {value}',
      ],
      {env: cli},
    )
    expect(t.code, t.stderr).toBe(0)
    expect(lines(t.stdout)).toEqual(['b first', 'c second'])
  })

  test('empty globs match empty keys and header values instead of crashing (#16)', async () => {
    const cli = sandboxEnv()
    const topic = await createTopic('empty')
    const file = join(cli.XDG_DATA_HOME!, 'in.jsonl')
    mkdirSync(cli.XDG_DATA_HOME!, {recursive: true})
    writeFileSync(
      file,
      [
        '{"v":1,"key":{"utf8":""},"headers":[["a",{"utf8":""}]],"value":{"utf8":"empty"}}',
        '{"v":1,"key":{"utf8":"k"},"headers":[["a",{"utf8":"x"}]],"value":{"utf8":"full"}}',
        '',
      ].join('\n'),
    )
    const p = await run(['publish', `${K()}/${topic}`, '--input', 'jsonl', '--file', file], {env: cli})
    expect(p.code, p.stderr).toBe(0)
    for (const filter of [
      ['--key', ''],
      ['--header', 'a='],
    ]) {
      const t = await run(
        ['tail', `${K()}/${topic}`, '--from', 'beginning', '--until', 'end', '-o', 'raw', ...filter],
        {
          env: cli,
        },
      )
      expect(t.code, t.stderr).toBe(0)
      expect(t.stdout.toString()).toBe('empty\n')
    }
  })

  test('multi-topic pretty output names each message’s topic (#19)', async () => {
    const cli = sandboxEnv()
    const [a, b] = [await createTopic('mta'), await createTopic('mtb')]
    await kcatProduce(env.KAFKA_BROKERS!, a, {}, 'in-a\n')
    await kcatProduce(env.KAFKA_BROKERS!, b, {}, 'in-b\n')
    const t = await run(
      ['tail', `${K()}/${a},${b}`, '--from', 'beginning', '--until', 'end', '-o', 'pretty'],
      {
        env: cli,
      },
    )
    expect(t.code, t.stderr).toBe(0)
    const heads = lines(t.stdout).filter((l) => l.includes('#0'))
    expect(heads.map((h) => h.split(' ')[0]).sort()).toEqual([a, b].sort())
  })
})

describe('fidelity: envelopes, windows, contexts (embedded file broker)', () => {
  test('an envelope timestamp that is not an ISO time is exit 2 naming the line; nothing is sent (#10)', async () => {
    const cli = sandboxEnv()
    const topic = await createTopic('badts')
    for (const target of ['badts', `${K()}/${topic}`]) {
      const p = await run(['publish', target, '--input', 'jsonl'], {
        env: cli,
        input: '{"v":1,"value":{"utf8":"ok"}}\n{"v":1,"timestamp":"yesterday","value":{"utf8":"a"}}\n',
      })
      expect(p.code).toBe(2)
      expect(p.stderr).toMatch(/line 2.*timestamp.*ISO 8601/i)
    }
    const t = await run(['tail', `${K()}/${topic}`, '--from', 'beginning', '--until', 'end'], {env: cli})
    expect(t.stdout.length).toBe(0)
  })

  test('one damaged line in a file topic is skipped with a warning naming it; later messages are read (#8)', async () => {
    const cli = sandboxEnv()
    expect((await run(['publish', 'dmg', 'one'], {env: cli})).code).toBe(0)
    const path = join(cli.XDG_DATA_HOME!, 'evtctl', 'dmg.jsonl')
    appendFileSync(path, '{"v":1,"value":{"utf8":"trunc')
    expect((await run(['publish', 'dmg', 'two'], {env: cli})).code).toBe(0)
    const t = await run(['tail', 'dmg', '--from', 'beginning', '--until', 'end', '-o', 'raw'], {env: cli})
    expect(t.code, t.stderr).toBe(0)
    expect(t.stdout.toString()).toBe('one\ntwo\n')
    expect(t.stderr).toMatch(/Warning: Skipped a damaged line in .*dmg\.jsonl: line 2 \(offset 1\)/)
    expect(t.stderr).not.toMatch(/--input lines|publish/)
    // Topic files are private, like captures and the config.
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  test('--until <time> is exclusive: consecutive windows never both hold a message (#11)', async () => {
    const cli = sandboxEnv()
    const at = (t: string) => `{"v":1,"timestamp":"${t}","value":{"utf8":"${t}"}}`
    const input = `${['2026-01-01T09:59:59.999Z', '2026-01-01T10:00:00.000Z', '2026-01-01T10:30:00.000Z', '2026-01-01T11:00:00.000Z'].map(at).join('\n')}\n`
    const p = await run(['publish', 'win', '--input', 'jsonl'], {env: cli, input})
    expect(p.code, p.stderr).toBe(0)
    const window = async (from: string, until: string) =>
      lines((await run(['tail', 'win', '--from', from, '--until', until, '-o', 'raw'], {env: cli})).stdout)
    const first = await window('2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z')
    const second = await window('2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z')
    expect(first).toEqual(['2026-01-01T09:59:59.999Z'])
    expect(second).toEqual(['2026-01-01T10:00:00.000Z', '2026-01-01T10:30:00.000Z'])
  })

  test('with contexts but none current (the current one was deleted), a bare name is exit 3 naming use-context (#12)', async () => {
    const cli = sandboxEnv()
    const dir = join(cli.XDG_DATA_HOME!, 'scratch')
    expect(
      (await run(['config', 'set-context', 'a', '--broker', 'file', '--dir', dir, '--use'], {env: cli})).code,
    ).toBe(0)
    expect(
      (await run(['config', 'set-context', 'b', '--broker', 'file', '--dir', dir], {env: cli})).code,
    ).toBe(0)
    expect((await run(['config', 'delete-context', 'a'], {env: cli})).code).toBe(0)
    const p = await run(['publish', 'orders', 'x'], {env: cli})
    expect(p.code).toBe(3)
    expect(p.stderr).toMatch(/No current context/)
    expect(p.stderr).toMatch(/config use-context/)
    // A URL needs no context.
    expect((await run(['publish', `file://${dir}/orders.jsonl`, 'x'], {env: cli})).code).toBe(0)
  })

  test('set-context to another broker drops the old broker’s settings; a flag of another broker is refused (#19)', async () => {
    const cli = sandboxEnv()
    expect(
      (await run(['config', 'set-context', 'lf', '--broker', 'file', '--dir', '/tmp/x'], {env: cli})).code,
    ).toBe(0)
    const moved = await run(
      ['config', 'set-context', 'lf', '--broker', 'kafka', '--brokers', '127.0.0.1:9', '--json'],
      {
        env: cli,
      },
    )
    expect(moved.code, moved.stderr).toBe(0)
    expect(JSON.parse(moved.stdout.toString()).context).toEqual({broker: 'kafka', brokers: ['127.0.0.1:9']})
    expect(moved.stderr).toMatch(/removed/)
    const wrong = await run(['config', 'set-context', 'lf', '--dir', '/tmp/y'], {env: cli})
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toMatch(/--dir is a setting of the file broker/)
  })

  test('a config file others can read, or with unknown settings, is warned about (#19)', async () => {
    const cli = sandboxEnv()
    const dir = join(cli.XDG_CONFIG_HOME!, 'evtctl')
    mkdirSync(dir, {recursive: true})
    const file = join(dir, 'config.yaml')
    writeFileSync(file, 'contexts:\n  l:\n    broker: file\n    drr: /tmp/x\ncurrent-context: l\n')
    chmodSync(file, 0o644)
    const r = await run(['config', 'get-contexts', '--json'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/can be read by other users \(mode 0644\).*chmod 600/)
    expect(r.stderr).toMatch(/unknown setting "drr"/)
    // --json carries the warnings too (#11.5).
    const doc = JSON.parse(r.stdout.toString())
    expect(doc.contexts).toHaveLength(1)
    expect(doc.warnings).toEqual([
      {code: 'CONFIG_READABLE_BY_OTHERS', message: expect.stringMatching(/mode 0644/)},
      {code: 'CONFIG_UNKNOWN_SETTING', message: expect.stringMatching(/unknown setting "drr"/)},
    ])
  })

  test('a mistyped command suggests the right one, exit 2 (#19)', async () => {
    const r = await run(['tial', 'orders'], {env: sandboxEnv()})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/"tial" is not an evtctl command/)
    expect(r.stderr).toMatch(/Try: evtctl tail/)
  })

  test('oclif loads no user plugins from the data directory', async () => {
    const cli = sandboxEnv()
    const data = join(cli.XDG_DATA_HOME!, 'evtctl')
    mkdirSync(join(data, 'node_modules', 'x'), {recursive: true})
    writeFileSync(join(data, 'package.json'), JSON.stringify({oclif: {plugins: [{name: 'x', type: 'user'}]}}))
    writeFileSync(
      join(data, 'node_modules', 'x', 'package.json'),
      JSON.stringify({name: 'x', version: '1.0.0', main: 'index.js', oclif: {hooks: {init: './hook.js'}}}),
    )
    writeFileSync(
      join(data, 'node_modules', 'x', 'hook.js'),
      'process.stderr.write("PWNED\\n"); module.exports = async () => {}\n',
    )
    const r = await run(['publish', 'safe', 'x'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/PWNED/)
  })

  test('Kafka: a following tail | head -n 1 on a quiet topic ends with head (#5)', async () => {
    const cli = sandboxEnv()
    const topic = await createTopic('quietpipe')
    expect((await kcatProduce(env.KAFKA_BROKERS!, topic, {}, 'only\n')).code).toBe(0)
    const t0 = Date.now()
    const sh = start({shell: `node ${BIN} tail ${K()}/${topic} --from beginning -o raw | head -n 1`}, cli)
    expect(await sh.done).toBe(0)
    expect(sh.out()).toBe('only\n')
    expect(Date.now() - t0).toBeLessThan(10_000)
  }, 30_000)

  test('SQS: flags for another kind of queue are exit 6 with nothing sent (FIFO ids on a standard queue, --delay on FIFO)', async () => {
    const cli = sandboxEnv()
    const standard = await createQueue('kindflags')
    const fifo = await createQueue('kindflags', {ContentBasedDeduplication: 'true'}, true)
    for (const [url, flags] of [
      [standard.url, ['--group-id', 'g']],
      [standard.url, ['--dedup-id', 'd']],
      [fifo.url, ['--group-id', 'g', '--delay', '5s']],
    ] as const) {
      const r = await run(['publish', url, 'x', ...flags], {env: cli})
      expect(r.code, r.stderr).toBe(6)
      expect(r.stderr).toMatch(/^Try: /m)
    }
    expect(await counts(standard.url)).toEqual({visible: 0, inFlight: 0})
    expect(await counts(fifo.url)).toEqual({visible: 0, inFlight: 0})
  })

  test('Kafka: --max stops the read while the next fetch is on its way, at once and without a reconnect', async () => {
    const cli = sandboxEnv()
    const topic = await createTopic('maxstop')
    const many = Array.from({length: 20_000}, (_, i) => `{"i":${i},"pad":"${'x'.repeat(150)}"}`).join('\n')
    expect((await run(['publish', `${K()}/${topic}`], {env: cli, input: many})).code).toBe(0)
    const t0 = Date.now()
    const t = await run(['tail', `${K()}/${topic}`, '--from', 'beginning', '--max', '100', '-o', 'raw'], {
      env: cli,
    })
    expect(t.code, t.stderr).toBe(0)
    expect(lines(t.stdout)).toHaveLength(100)
    expect(t.stderr).not.toMatch(/connection lost|reconnected/)
    expect(Date.now() - t0).toBeLessThan(10_000)
  }, 30_000)

  test('SQS: a following tail | head -n 1 ends with head and releases what it held (#5)', async () => {
    const cli = sandboxEnv()
    const q = await createQueue('quietpipe')
    await fill(q.url, ['only'])
    const t0 = Date.now()
    const sh = start({shell: `node ${BIN} tail ${q.url} --hold 60s | head -n 1`}, cli)
    expect(await sh.done).toBe(0)
    expect(sh.out()).toContain('"only"')
    // Before: the orphaned tail received every --hold until the next message came.
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(await counts(q.url)).toEqual({visible: 1, inFlight: 0})
  }, 30_000)

  test('tail | head -n 1 on a quiet topic exits as soon as head does, without a next message (#5)', async () => {
    const cli = sandboxEnv()
    expect((await run(['publish', 'quiet', 'only'], {env: cli})).code).toBe(0)
    const t0 = Date.now()
    const sh = start({shell: `node ${BIN} tail quiet --from beginning | head -n 1`}, cli)
    expect(await sh.done).toBe(0)
    expect(sh.out()).toContain('"only"')
    expect(Date.now() - t0).toBeLessThan(8_000)
    // The tail itself is gone too (the shell waits for both sides of the pipe).
  }, 20_000)

  test('the production prompt asks on the terminal when stdin is piped; no is exit 2 with nothing sent (#19)', async () => {
    const cli = sandboxEnv()
    const dir = join(cli.XDG_DATA_HOME!, 'prod')
    expect(
      (
        await run(
          ['config', 'set-context', 'prod', '--broker', 'file', '--dir', dir, '--production', '--use'],
          {env: cli},
        )
      ).code,
    ).toBe(0)
    // script(1) gives the command a terminal (stderr and /dev/tty); its stdin is what we type.
    const answer = (reply: string) =>
      new Promise<{code: number | null; out: string}>((resolve) => {
        const child = spawn('script', ['-qec', `echo data | node ${BIN} publish orders`, '/dev/null'], {
          env: cli,
        })
        let out = ''
        let answered = false
        child.stdout.on('data', (b) => {
          out += b
          if (!answered && out.includes('[y/N]')) {
            answered = true
            child.stdin.write(`${reply}\n`)
          }
        })
        child.on('close', (code) => resolve({code, out}))
      })
    const no = await answer('n')
    expect(no.code, no.out).toBe(2)
    expect(no.out).toMatch(/Not confirmed; nothing was done/)
    const t = await run(['tail', 'orders', '--from', 'beginning', '--until', 'end'], {env: cli})
    expect(t.code).toBe(5) // nothing was published: the topic does not exist
    // Ctrl-C at the prompt: readline sees it (raw mode), not a signal. Exit 130, nothing done.
    const ctrlC = await answer('\x03')
    expect(ctrlC.code, ctrlC.out).toBe(130)
    expect(ctrlC.out).toMatch(/Not confirmed; nothing was done/)
    expect(ctrlC.out).not.toMatch(/internal error/)
    const yes = await answer('y')
    expect(yes.code, yes.out).toBe(0)
    expect(yes.out).toMatch(/Published 1 message/)
  }, 30_000)
})

describe('reliability and security: files, spools, locks, redaction (#18)', () => {
  test('URL passwords are redacted by get-contexts and view; an existing 0755 config dir is tightened (#18.3)', async () => {
    const cli = sandboxEnv()
    const dir = join(cli.XDG_CONFIG_HOME!, 'evtctl')
    mkdirSync(dir, {recursive: true, mode: 0o755})
    chmodSync(dir, 0o755)
    const set = await run(
      [
        'config',
        'set-context',
        's',
        '--broker',
        'sqs',
        '--region',
        'us-east-1',
        '--endpoint',
        'http://user:hunter2@127.0.0.1:9324',
      ],
      {env: cli},
    )
    expect(set.code, set.stderr).toBe(0)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    for (const args of [
      ['config', 'get-contexts'],
      ['config', 'get-contexts', '--json'],
      ['config', 'view'],
      ['config', 'view', '--json'],
    ]) {
      const r = await run(args, {env: cli})
      expect(r.code, r.stderr).toBe(0)
      const all = r.stdout.toString() + r.stderr
      expect(all).not.toContain('hunter2')
      expect(all).toContain('user:<redacted>@127.0.0.1:9324')
    }
  })

  test('a stdin spool left by a killed run is removed by the next (#18.3)', async () => {
    const cli = sandboxEnv()
    const tmp = mkdtempSync(join(tmpdir(), 'evtctl-tmp-'))
    cli.TMPDIR = tmp
    // A pid that is not running: the kernel's pid_max is far below this.
    const stale = join(tmp, 'evtctl-spool-99999999-abc123')
    mkdirSync(stale)
    writeFileSync(join(stale, 'stdin.jsonl'), '{"v":1,"value":{"utf8":"secret"}}\n')
    // Old enough to be stale (a younger one may belong to a run in another PID namespace).
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000)
    utimesSync(stale, old, old)
    // A young one of a gone pid, and a planted link, stay.
    const young = join(tmp, 'evtctl-spool-99999998-young1')
    mkdirSync(young)
    const victim = mkdtempSync(join(tmpdir(), 'evtctl-victim-'))
    writeFileSync(join(victim, 'keep'), 'x')
    symlinkSync(victim, join(tmp, 'evtctl-spool-99999997-link01'))
    const p = await run(['publish', 'sp', '--input', 'jsonl'], {
      env: cli,
      input: '{"v":1,"value":{"utf8":"x"}}\n',
    })
    expect(p.code, p.stderr).toBe(0)
    expect(existsSync(stale)).toBe(false)
    expect(existsSync(young)).toBe(true)
    expect(existsSync(join(victim, 'keep'))).toBe(true)
  })

  test('a lock left by a killed publisher delays the next publish, never fails it (#18.13)', async () => {
    const cli = sandboxEnv()
    expect((await run(['publish', 'lk', 'one'], {env: cli})).code).toBe(0)
    const path = join(cli.XDG_DATA_HOME!, 'evtctl', 'lk.jsonl')
    // What a publisher killed while appending leaves: the lock directory, fresh, never refreshed.
    mkdirSync(`${path}.lock`)
    const now = new Date()
    utimesSync(`${path}.lock`, now, now)
    const p = await run(['publish', 'lk', 'two'], {env: cli})
    expect(p.code, p.stderr).toBe(0)
    const t = await run(['tail', 'lk', '--from', 'beginning', '--until', 'end', '-o', 'raw'], {env: cli})
    expect(t.stdout.toString()).toBe('one\ntwo\n')
  }, 40_000)

  test('Ctrl-C while stdin is still open ends publish at once with a report and where to resume (#18.7, #18.10)', async () => {
    const cli = sandboxEnv()
    // Its own temp directory, to see jsonl's spool file appear.
    cli.TMPDIR = mkdtempSync(join(tmpdir(), 'evtctl-spool-'))
    for (const input of ['lines', 'jsonl']) {
      const child = spawn(process.execPath, [BIN, 'publish', `resume-${input}`, '--input', input, '--json'], {
        env: cli,
      })
      let out = ''
      child.stdout.on('data', (b) => {
        out += b
      })
      const done = new Promise<number | null>((resolve) => child.on('close', resolve))
      const line = (v: string) => (input === 'lines' ? `${v}\n` : `{"v":1,"value":{"utf8":"${v}"}}\n`)
      child.stdin.write(`${line('a')}\n${line('b')}${line('c')}`) // a blank line 2: c is on line 4
      // jsonl is validated in full first, so nothing is sent before stdin ends: Ctrl-C stops the spool.
      // Signalled once the three are in the topic (lines) or the spool file exists (jsonl): a
      // fixed wait was too short on a loaded machine, and the signal then came before the handler.
      const topicFile = join(cli.XDG_DATA_HOME!, 'evtctl', `resume-${input}.jsonl`)
      const ready = () =>
        input === 'lines'
          ? existsSync(topicFile) && readFileSync(topicFile, 'utf8').split('\n').filter(Boolean).length === 3
          : readdirSync(cli.TMPDIR!).length > 0
      const until = Date.now() + 20_000
      while (!ready() && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
      await new Promise((r) => setTimeout(r, 200))
      const t0 = Date.now()
      child.kill('SIGINT')
      expect(await done).toBe(130)
      expect(Date.now() - t0).toBeLessThan(3000)
      const err = JSON.parse(out).error
      expect(err.code).toBe('INTERRUPTED')
      if (input === 'lines') {
        expect(err.report).toMatchObject({sent: 3, failed: [], settled: 3, resumeLine: 5, interrupted: true})
        expect(err.hint).toMatch(/from line 5/)
      }
    }
  }, 30_000)

  test('Ctrl-C while the reader of stdout does not read exits 130 at once, not 1 after 10 s (#18.7)', async () => {
    const cli = sandboxEnv()
    const big = Array.from({length: 50_000}, (_, i) => `{"i":${i},"pad":"${'x'.repeat(100)}"}`).join('\n')
    expect((await run(['publish', 'stall'], {env: cli, input: big})).code).toBe(0)
    const child = spawn(process.execPath, [BIN, 'tail', 'stall', '--from', 'beginning'], {env: cli})
    // Nobody reads child.stdout: the pipe fills and stays full.
    child.stdout.pause()
    let err = ''
    child.stderr.on('data', (b) => {
      err += b
    })
    const done = new Promise<number | null>((resolve) => child.on('close', resolve))
    await new Promise((r) => setTimeout(r, 2000))
    const t0 = Date.now()
    child.kill('SIGINT')
    const code = await Promise.race([
      done,
      new Promise<string>((r) => setTimeout(() => r('still running'), 5000)),
    ])
    child.stdout.resume()
    expect(code).toBe(130)
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(err).not.toMatch(/timed out|CLIError/)
  }, 30_000)

  test('--file DIR is exit 2; --input raw with empty input is refused unless --allow-empty (#18.13)', async () => {
    const cli = sandboxEnv()
    const d = await run(['publish', 'x', '--file', tmpdir()], {env: cli})
    expect(d.code).toBe(2)
    expect(d.stderr).toMatch(/is a directory/)
    const e = await run(['publish', 'empty', '--input', 'raw'], {env: cli, input: ''})
    expect(e.code).toBe(2)
    expect(e.stderr).toMatch(/input is empty/)
    expect(existsSync(join(cli.XDG_DATA_HOME!, 'evtctl', 'empty.jsonl'))).toBe(false)
    const ok = await run(['publish', 'empty', '--input', 'raw', '--allow-empty'], {env: cli, input: ''})
    expect(ok.code, ok.stderr).toBe(0)
    // Flags that mean something only with another input are refused, not ignored.
    const ae = await run(['publish', 'x', 'v', '--allow-empty'], {env: cli})
    expect(ae.code).toBe(2)
    expect(ae.stderr).toMatch(/--allow-empty is for --input raw/)
    const kp = await run(['publish', 'x', '--keep-partitions'], {env: cli, input: 'a\n'})
    expect(kp.code).toBe(2)
    expect(kp.stderr).toMatch(/--keep-partitions .* needs envelopes/)
  })

  test('new-user trial: an empty window, an unusable context and a hold message are refused up front', async () => {
    const cli = sandboxEnv()
    expect((await run(['publish', 'w', 'x'], {env: cli})).code).toBe(0)
    const win = await run(
      ['tail', 'w', '--from', '2026-11-23T11:00:00Z', '--until', '2026-11-23T10:00:00Z'],
      {env: cli},
    )
    expect(win.code).toBe(2)
    expect(win.stderr).toMatch(/is not after --from .*the window is empty/)
    for (const args of [
      ['config', 'set-context', 'k3', '--broker', 'kafka', '--brokers', 'localhost'],
      ['config', 'set-context', 'k2', '--broker', 'kafka'],
      ['config', 'set-context', 'p1', '--broker', 'pubsub'],
    ]) {
      const r = await run(args, {env: cli})
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(/^Try: /m)
    }
    const g = await run(['config', 'get-contexts', '--json'], {env: cli})
    expect(JSON.parse(g.stdout.toString()).contexts).toEqual([])
    const ps = await run(['tail', 'pubsub://p/topics/t', '--from', 'beginning', '--until', 'end'], {env: cli})
    expect(ps.code).toBe(6)
    expect(ps.stderr).toMatch(/start at the beginning, an offset or the last N/)
    expect(ps.stderr).toMatch(/--from -7d/)
  })

  test('SQS: a browse whose receives moved messages to the dead-letter queue says so', async () => {
    const cli = sandboxEnv()
    const dlq = await createQueue('moved-dlq')
    const q = await createQueue('moved', {
      RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq.arn, maxReceiveCount: 1}),
    })
    await fill(q.url, ['a', 'b'])
    const browse = () =>
      run(['tail', q.url, '--until', 'end', '--allow-receive-count', '--hold', '1s'], {env: cli})
    const first = await browse()
    expect(first.code, first.stderr).toBe(0)
    expect(lines(first.stdout)).toHaveLength(2)
    const second = await browse()
    expect(second.code, second.stderr).toBe(0)
    expect(lines(second.stdout)).toHaveLength(0)
    expect(second.stderr).toMatch(/2 message\(s\) visible at start were not received.*dead-letter queue/)
    expect((await counts(dlq.url)).visible).toBe(2)
  }, 30_000)
})
