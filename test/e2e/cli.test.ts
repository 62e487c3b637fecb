import {existsSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'
import {BIN, lines, run, sandboxEnv, start, waitForOutput} from './helpers.js'

const env = sandboxEnv()
const topicFile = (name: string) => join(env.XDG_DATA_HOME!, 'evtctl', `${name}.jsonl`)

describe('evtctl (built binary, embedded file broker)', () => {
  test('--version and help with the exit-code table', async () => {
    const v = await run(['--version'], {env})
    expect(v.code).toBe(0)
    expect(v.stdout.toString()).toMatch(/^evtctl\/\d+\.\d+\.\d+ linux-x64 node-v/)
    const h = await run(['tail', '--help'], {env})
    expect(h.code).toBe(0)
    expect(h.stdout.toString()).toContain('EXIT CODES')
    expect(h.stdout.toString()).toContain('130  interrupted')
  })

  test('publish lines from stdin, tail them back as JSONL (the quick start)', async () => {
    const p = await run(
      ['publish', 'quick', '--key', 'k1', '--header', 'trace-id=abc', '--header', 'trace-id=def'],
      {
        env,
        input: '{"id":1}\n{"id":2}\nplain text\n',
      },
    )
    expect(p.code).toBe(0)
    expect(p.stdout.length).toBe(0) // data only on stdout; the count goes to stderr
    expect(p.stderr).toMatch(/Published 3 message\(s\)/)
    const t = await run(['tail', 'quick', '--from', 'beginning', '--until', 'end'], {env})
    expect(t.code).toBe(0)
    const envs = lines(t.stdout).map((l) => JSON.parse(l))
    expect(envs.map((e) => e.value)).toEqual([{json: {id: 1}}, {json: {id: 2}}, {utf8: 'plain text'}])
    expect(envs[0]).toMatchObject({
      v: 1,
      partition: 0,
      offset: '0',
      key: {utf8: 'k1'},
      headers: [
        ['trace-id', {utf8: 'abc'}],
        ['trace-id', {utf8: 'def'}],
      ],
    })
  })

  test('VALUE argument, --json report', async () => {
    const p = await run(['publish', 'single', '{"a":1}', '--json'], {env})
    expect(p.code).toBe(0)
    expect(JSON.parse(p.stdout.toString())).toMatchObject({
      sent: 1,
      failed: [],
      dryRun: false,
      target: expect.stringMatching(/^file:\/\//),
    })
  })

  test('binary payload round-trips byte-exact through publish --input raw → tail -o raw', async () => {
    const data = Buffer.from(Array.from({length: 1024}, (_, i) => (i * 37 + 11) % 256))
    const f = join(env.XDG_DATA_HOME!, 'blob.bin')
    writeFileSync(f, data)
    expect((await run(['publish', 'blobs', '--input', 'raw', '--file', f], {env})).code).toBe(0)
    const t = await run(['tail', 'blobs', '--from', 'beginning', '--until', 'end', '-o', 'raw'], {env})
    expect(t.stdout).toEqual(Buffer.concat([data, Buffer.from('\n')]))
  })

  test('envelopes round-trip through tail -o jsonl → publish --input jsonl (keys, headers, binary, tombstones)', async () => {
    const capture = [
      {
        v: 1,
        key: {base64: 'AAH/'},
        headers: [
          ['h', {base64: 'AP8='}],
          ['h', null],
        ],
        value: {base64: '//79'},
      },
      {v: 1, key: {utf8: 'gone'}, value: null},
      {v: 1, value: {json: {n: [1, 2, {x: null}]}}, meta: {orderingKey: 'ok', groupId: 'g1', dedupId: 'd1'}},
    ]
    const src = join(env.XDG_DATA_HOME!, 'capture.jsonl')
    writeFileSync(src, `${capture.map((c) => JSON.stringify(c)).join('\n')}\n`)
    expect((await run(['publish', 'rt-a', '--input', 'jsonl', '--file', src], {env})).code).toBe(0)
    const a = await run(['tail', 'rt-a', '--from', 'beginning', '--until', 'end', '-o', 'jsonl'], {env})
    expect((await run(['publish', 'rt-b', '--input', 'jsonl'], {env, input: a.stdout})).code).toBe(0)
    const b = await run(['tail', 'rt-b', '--from', 'beginning', '--until', 'end', '-o', 'jsonl'], {env})
    const strip = (l: string) => {
      const {key, headers, value} = JSON.parse(l)
      return {key, headers, value}
    }
    expect(lines(b.stdout).map(strip)).toEqual(lines(a.stdout).map(strip))
    expect(lines(b.stdout).map(strip)).toEqual(
      capture.map(({key, headers, value}) => ({key, headers, value})),
    )
    // The copy remembers where it came from.
    expect(JSON.parse(lines(b.stdout)[0]!).meta.origin.source).toMatch(/rt-a\.jsonl$/)
  })

  test('a malformed JSONL line is exit 2, names the line, and nothing is sent', async () => {
    const r = await run(['publish', 'bad-input', '--input', 'jsonl'], {
      env,
      input: '{"v":1,"value":null}\n{"v":1,"value":{"json":1}}\n{"v":1,"valu":2}\n',
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/Line 3 of stdin is not a valid envelope/)
    expect(r.stderr).toMatch(/^Try: /m)
    expect(existsSync(topicFile('bad-input'))).toBe(false)
  })

  test('--dry-run prints what would be sent and sends nothing', async () => {
    const r = await run(['publish', 'dry', '--dry-run', '--key', 'k'], {env, input: 'a\nb\n'})
    expect(r.code).toBe(0)
    expect(lines(r.stdout).map((l) => JSON.parse(l))).toEqual([
      {v: 1, key: {utf8: 'k'}, value: {utf8: 'a'}},
      {v: 1, key: {utf8: 'k'}, value: {utf8: 'b'}},
    ])
    expect(r.stderr).toMatch(/Dry run: would publish 2/)
    expect(existsSync(topicFile('dry'))).toBe(false)
    const j = await run(['publish', 'dry', '--dry-run', '--json'], {env, input: 'a\nb\nc\n'})
    expect(JSON.parse(j.stdout.toString())).toMatchObject({dryRun: true, wouldSend: 3, sent: 0})
  })

  test('--rate limits messages per second', async () => {
    const t0 = Date.now()
    const r = await run(['publish', 'rated', '--rate', '20'], {
      env,
      input: Array.from({length: 30}, (_, i) => `m${i}`).join('\n'),
    })
    expect(r.code).toBe(0)
    expect(Date.now() - t0).toBeGreaterThan(1_000) // 30 messages at 20/s need ≥ 1.45 s of pacing
  })

  test('filters and formats', async () => {
    await run(['publish', 'orders'], {
      env,
      input: '{"id":1,"total":10}\n{"id":2,"total":50}\n{"id":3,"total":90}\n',
    })
    const r = await run(
      [
        'tail',
        'orders',
        '--from',
        'beginning',
        '--until',
        'end',
        '--where',
        'value.total > 40',
        '--format',
        '{offset}:{value.id}',
      ],
      {env},
    )
    expect(r.stdout.toString()).toBe('1:2\n2:3\n')
    const m = await run(
      ['tail', 'orders', '--from', 'beginning', '--until', 'end', '--max', '1', '-o', 'raw'],
      {env},
    )
    expect(m.stdout.toString()).toBe('{"id":1,"total":10}\n')
    const last = await run(['tail', 'orders', '--from', '-1', '--until', 'end', '--format', '{offset}'], {
      env,
    })
    expect(last.stdout.toString()).toBe('2\n')
  })

  test.each([
    [['tail', 'orders', '--bogus'], 2, /Nonexistent flag: --bogus/],
    [['tail', 'orders', '--from', 'yesterday'], 2, /--from "yesterday" is not a start position/],
    [['tail', 'orders', '--until', '5 minutes'], 2, /--until "5 minutes"/],
    [['tail', 'orders', '--where', 'value.total >'], 2, /not a valid JSONata expression/],
    [['tail', 'orders', '--max', '0'], 2, /--max: Expected an integer greater than or equal to 1/],
    [['tail', 'orders', '-o', 'xml'], 2, /xml/],
    [['tail', 'nope', '--until', 'end'], 5, /Topic "nope" does not exist/],
    [['tail', 'orders', '--partition', '1', '--until', 'end'], 6, /The file broker cannot/],
    [['tail', 'amqp://x/y'], 2, /Unknown target scheme/],
    [['tail', 'pubsub://demo/topics/orders', '--from', '-5'], 6, /Pub\/Sub cannot do what was asked/],
    [['tail', 'sqs://us-east-1/orders', '--from', 'beginning'], 6, /SQS cannot do what was asked/],
    [['tail', 'kafka://127.0.0.1:1/orders', '--until', 'end'], 4, /Cannot reach Kafka at 127.0.0.1:1/],
    [['publish', 'orders', 'v', '--file', 'x'], 2, /either VALUE or --file/],
    [['publish', 'orders', '--file', '/no/such/file'], 2, /no such file/],
    [['publish', 'orders', '--header', 'novalue', 'x'], 2, /not name=value/],
    [['tail', 'orders', '--context', 'nosuch'], 3, /Context "nosuch" does not exist/],
  ])('%j → exit %i', async (args, code, message) => {
    const r = await run(args, {env})
    expect(r.code).toBe(code)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).toMatch(/^Try: /m)
    expect(r.stdout.length).toBe(0)
  })

  test('errors under --json are one JSON document with code, message, hint and exit code', async () => {
    const r = await run(['publish', 'orders', '--file', '/no/such', '--json'], {env})
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout.toString())).toEqual({
      error: {
        code: 'BAD_INPUT',
        message: expect.stringContaining('/no/such'),
        exitCode: 2,
        hint: expect.any(String),
      },
    })
  })

  test('tail | head ends cleanly and promptly', async () => {
    await run(['publish', 'many', '--input', 'lines'], {
      env,
      input: Array.from({length: 5000}, (_, i) => `{"i":${i}}`).join('\n'),
    })
    const sh = start(
      {shell: `node ${BIN} tail many --from beginning | head -n 3; echo "rc=\${PIPESTATUS:-$?}"`},
      env,
    )
    expect(await sh.done).toBe(0)
    expect(
      sh
        .out()
        .split('\n')
        .filter((l) => l.startsWith('{')),
    ).toHaveLength(3)
    expect(sh.err()).not.toMatch(/EPIPE|Error/)
  }, 20_000)

  test('Ctrl-C (SIGINT) stops a following tail with exit 130', async () => {
    await run(['publish', 'live', 'x'], {env})
    const tail = start(['tail', 'live', '--from', 'beginning', '-o', 'raw'], env)
    // Following once it printed what there was (a fixed wait was too short on a loaded machine,
    // and the signal then came before the handler).
    await waitForOutput(tail, 'x\n', 20_000)
    tail.child.kill('SIGINT')
    expect(await tail.done).toBe(130)
    expect(tail.err()).toMatch(/Interrupted/)
  })

  test('a following tail prints messages as they are published', async () => {
    await run(['publish', 'follow', 'first'], {env})
    // start() listens for the end at once: under load the tail can print both and exit early.
    const tail = start(['tail', 'follow', '--from', '1', '--max', '2', '-o', 'raw'], env)
    await new Promise((r) => setTimeout(r, 1200))
    await run(['publish', 'follow', 'second'], {env})
    await run(['publish', 'follow', 'third'], {env})
    expect(await tail.done).toBe(0)
    expect(tail.out()).toBe('second\nthird\n')
  })

  test('a production context needs --yes to publish when there is no terminal; --dry-run does not', async () => {
    const penv = sandboxEnv()
    const dir = join(penv.XDG_DATA_HOME!, 'prod')
    await run(['config', 'set-context', 'prod', '--broker', 'file', '--dir', dir, '--production', '--use'], {
      env: penv,
    })
    const refused = await run(['publish', 'orders', 'x'], {env: penv})
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/marked production/)
    expect(refused.stderr).toMatch(/Try: Add --yes/)
    expect(existsSync(join(dir, 'orders.jsonl'))).toBe(false)
    expect((await run(['publish', 'orders', 'x', '--dry-run'], {env: penv})).code).toBe(0)
    expect((await run(['publish', 'orders', 'x', '--yes'], {env: penv})).code).toBe(0)
    expect(existsSync(join(dir, 'orders.jsonl'))).toBe(true)
    // An env var never approves: there is deliberately no EVTCTL_YES.
    expect((await run(['publish', 'orders', 'x'], {env: {...penv, EVTCTL_YES: '1'}})).code).toBe(2)
  })

  test('tail filters by key and header glob, stops after a duration, and prints pretty on request', async () => {
    await run(['publish', 'filt', '--key', 'order-1', '-H', 'trace=abc-1'], {env, input: 'one\n'})
    await run(['publish', 'filt', '--key', 'invoice-2', '-H', 'trace=xyz-2'], {env, input: 'two\n'})
    const byKey = await run(
      ['tail', 'filt', '--from', 'beginning', '--until', 'end', '--key', 'order-*', '-o', 'raw'],
      {env},
    )
    expect(byKey.stdout.toString()).toBe('one\n')
    const byHeader = await run(
      ['tail', 'filt', '--from', 'beginning', '--until', 'end', '--header', 'trace=xyz*', '-o', 'raw'],
      {env},
    )
    expect(byHeader.stdout.toString()).toBe('two\n')
    const t0 = Date.now()
    const timed = await run(['tail', 'filt', '--from', 'beginning', '--until', '1s', '-o', 'raw'], {env})
    expect(timed.code).toBe(0)
    expect(timed.stdout.toString()).toBe('one\ntwo\n')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000)
    const pretty = await run(['tail', 'filt', '--from', 'beginning', '--until', 'end', '-o', 'pretty'], {env})
    expect(pretty.stdout.toString()).toMatch(/^#0 {2}\S+ {2}p0 {2}key=order-1\n {2}trace: abc-1\none\n#1/)
  })

  test('config: set-context, get-contexts, use-context, view (redacted, 0600), delete-context', async () => {
    const cenv = sandboxEnv()
    const set = await run(
      [
        'config',
        'set-context',
        'local',
        '--broker',
        'kafka',
        '--brokers',
        '127.0.0.1:9092',
        '--use',
        '--json',
      ],
      {env: cenv},
    )
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout.toString())).toMatchObject({
      name: 'local',
      current: true,
      context: {broker: 'kafka', brokers: ['127.0.0.1:9092']},
    })
    const file = join(cenv.XDG_CONFIG_HOME!, 'evtctl', 'config.yaml')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    writeFileSync(
      file,
      'current-context: local\ncontexts:\n  local:\n    broker: kafka\n    brokers: [127.0.0.1:9092]\n    sasl: {username: u, password: hunter2}\n',
    )
    const view = await run(['config', 'view'], {env: cenv})
    expect(view.stdout.toString()).toContain('password: <redacted>')
    expect(view.stdout.toString() + view.stderr).not.toContain('hunter2')
    const list = await run(['config', 'get-contexts', '--json'], {env: cenv})
    expect(JSON.parse(list.stdout.toString())).toEqual({
      current: 'local',
      contexts: [
        {name: 'local', current: true, broker: 'kafka', endpoint: '127.0.0.1:9092', production: false},
      ],
    })
    const table = await run(['config', 'get-contexts'], {env: cenv})
    expect(table.stdout.toString()).toMatch(/CURRENT\s+NAME\s+BROKER/)
    // Bare names now resolve through the kafka context (exit 6 until the adapter lands, never the file broker).
    expect((await run(['tail', 'orders', '--until', 'end'], {env: cenv})).stderr).toMatch(/Kafka/)
    // --context and EVTCTL_CONTEXT override it.
    await run(
      ['config', 'set-context', 'files', '--broker', 'file', '--dir', join(cenv.XDG_DATA_HOME!, 'alt')],
      {env: cenv},
    )
    expect((await run(['publish', 'orders', 'x', '--context', 'files'], {env: cenv})).code).toBe(0)
    expect(existsSync(join(cenv.XDG_DATA_HOME!, 'alt', 'orders.jsonl'))).toBe(true)
    const viaEnv = await run(['tail', 'orders', '--from', 'beginning', '--until', 'end', '-o', 'raw'], {
      env: {...cenv, EVTCTL_CONTEXT: 'files'},
    })
    expect(viaEnv.stdout.toString()).toBe('x\n')
    expect((await run(['config', 'use-context', 'nope'], {env: cenv})).code).toBe(3)
    expect((await run(['config', 'use-context', 'files'], {env: cenv})).code).toBe(0)
    expect((await run(['config', 'delete-context', 'local'], {env: cenv})).code).toBe(0)
    const after = JSON.parse((await run(['config', 'get-contexts', '--json'], {env: cenv})).stdout.toString())
    expect(after.contexts.map((c: {name: string}) => c.name)).toEqual(['files'])
  })
})
