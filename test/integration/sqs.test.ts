import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {counts, createQueue, fill, receiveAll} from '../brokers/sqs.js'
import {lines, run, sandboxEnv, start} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = sandboxEnv()

describe.skipIf(!env.SQS_ENDPOINT)('sqs: browse and publish against ElasticMQ', () => {
  test('browsing a DLQ of 25 lists each once with its attributes, and leaves all 25 visible', async () => {
    const dlq = await createQueue('dlq')
    const bodies = Array.from({length: 25}, (_, i) => `{"order":${i}}`)
    await fill(dlq.url, bodies)
    const r = await run(['tail', dlq.url, '--until', 'end', '-o', 'jsonl'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    const envs = lines(r.stdout).map((l) => JSON.parse(l))
    expect(envs.map((e) => JSON.stringify(e.value.json)).sort()).toEqual([...bodies].sort())
    expect(new Set(envs.map((e) => e.meta.messageId)).size).toBe(25)
    for (const e of envs) {
      expect(e.headers).toEqual([
        ['kind', {utf8: 'test'}],
        ['n', {json: expect.any(Number)}],
      ])
      expect(e.meta.attributeTypes).toEqual({n: 'Number'})
      expect(e.meta.receiveCount).toBe(1)
    }
    expect(r.stderr).toMatch(/Listed 25 of ~25/)
    expect(r.stderr).toMatch(/released 25/)
    expect(await counts(dlq.url)).toEqual({visible: 25, inFlight: 0})
  })

  test('a queue with a redrive policy: exit 2 and nothing received without the opt-in; with it, warned before anything moves', async () => {
    const dlq = await createQueue('redrive-dlq')
    const main = await createQueue('redrive', {
      RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq.arn, maxReceiveCount: 2}),
    })
    await fill(main.url, ['a', 'b', 'c'])

    const refused = await run(['tail', main.url, '--until', 'end'], {env: cli})
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/redrive policy \(maxReceiveCount 2\)/)
    expect(refused.stderr).toMatch(/Try: Add --allow-receive-count/)
    expect(refused.stdout.length).toBe(0)

    const first = await run(['tail', main.url, '--until', 'end', '--allow-receive-count', '-o', 'raw'], {
      env: cli,
    })
    expect(first.code, first.stderr).toBe(0)
    expect(lines(first.stdout).sort()).toEqual(['a', 'b', 'c'])
    // One receive left before the one that moves them: warned per message.
    expect(
      first.stderr.match(
        /Warning: message \S+ has now been received 1 time \(maxReceiveCount 2\): after one more/g,
      ),
    ).toHaveLength(3)
    const second = await run(['tail', main.url, '--until', 'end', '--allow-receive-count', '-o', 'raw'], {
      env: cli,
    })
    expect(lines(second.stdout).sort()).toEqual(['a', 'b', 'c'])
    // The second browse used the last receive before the limit: one warning per message.
    expect(
      second.stderr.match(/Warning: message \S+ has now been received 2 times \(maxReceiveCount 2\)/g),
    ).toHaveLength(3)
    // Nothing moved: all three are still in the main queue, the DLQ is empty.
    expect(await counts(main.url)).toEqual({visible: 3, inFlight: 0})
    expect(await counts(dlq.url)).toEqual({visible: 0, inFlight: 0})
    // The first browse without the flag received nothing: counts are exactly our two browses.
    const seen = await receiveAll(main.url)
    expect([...seen.keys()].sort()).toEqual([]) // that third receive moved them, as warned
    expect((await counts(dlq.url)).visible).toBe(3)
  })

  test('a partial batch failure: the others are sent, the failure reported by position, exit 7', async () => {
    const q = await createQueue('partial')
    const big = 'x'.repeat(262_145)
    const input = ['ok-1', big, 'ok-2', 'ok-3']
      .map((v) => JSON.stringify({v: 1, value: {utf8: v}}))
      .join('\n')
    const r = await run(['publish', q.url, '--input', 'jsonl', '--json'], {env: cli, input})
    expect(r.code).toBe(7)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({
      sent: 3,
      // ElasticMQ does not report MaximumMessageSize: SQS's classic 256 KiB applies.
      failed: [{index: 1, error: expect.stringMatching(/262,145 bytes .* the queue allows 262,144/)}],
    })
    expect(r.stderr).toMatch(/Published 3 message\(s\).*1 failed/)
    const t = await run(['tail', q.url, '--until', 'end', '-o', 'raw'], {env: cli})
    expect(lines(t.stdout).sort()).toEqual(['ok-1', 'ok-2', 'ok-3'])
  })

  test('--until a past time lists what was sent until then, ends by itself, and leaves all visible', async () => {
    const q = await createQueue('until-time')
    await fill(q.url, ['early-1', 'early-2'])
    await new Promise((r) => setTimeout(r, 1_100))
    const cut = new Date(Date.now() - 500).toISOString()
    await fill(q.url, ['late-1'])
    const t = await run(['tail', q.url, '--until', cut, '-o', 'raw'], {env: cli})
    expect(t.code, t.stderr).toBe(0)
    expect(lines(t.stdout).sort()).toEqual(['early-1', 'early-2'])
    expect(await counts(q.url)).toMatchObject({visible: 3})
  })

  test('FIFO: group and dedup ids survive tail → capture → publish', async () => {
    const src = await createQueue('fifo-src', {}, true)
    const dst = await createQueue('fifo-dst', {}, true)
    const pub = await run(['publish', src.url, '--group-id', 'g-1', '--dedup-id', 'd-1'], {
      env: cli,
      input: 'first\n',
    })
    expect(pub.code, pub.stderr).toBe(0)
    const pub2 = await run(['publish', src.url, '--group-id', 'g-2'], {
      env: cli,
      input: JSON.stringify({v: 1, value: {utf8: 'x'}}),
    })
    // No dedup id and no content-based deduplication: refused before sending, with the fix.
    expect(pub2.code).toBe(2)
    expect(pub2.stderr).toMatch(/no deduplication id.*Nothing was sent/)
    expect(pub2.stderr).toMatch(/Try: Give --dedup-id ID/)
    const capture = await run(['tail', src.url, '--until', 'end', '-o', 'jsonl'], {env: cli})
    const [env1] = lines(capture.stdout).map((l) => JSON.parse(l))
    expect(env1.meta).toMatchObject({groupId: 'g-1', dedupId: 'd-1'})
    const replay = await run(['publish', dst.url, '--input', 'jsonl'], {env: cli, input: capture.stdout})
    expect(replay.code, replay.stderr).toBe(0)
    const copied = await run(['tail', dst.url, '--until', 'end', '-o', 'jsonl'], {env: cli})
    expect(JSON.parse(lines(copied.stdout)[0]!).meta).toMatchObject({groupId: 'g-1', dedupId: 'd-1'})
    const noGroup = await run(['publish', dst.url, 'x', '--json'], {env: cli})
    expect(noGroup.code).toBe(2)
    expect(JSON.parse(noGroup.stdout.toString()).error).toMatchObject({
      message: expect.stringMatching(/no message group id/),
      hint: expect.stringMatching(/--group-id/),
    })
    expect((await counts(dst.url)).visible).toBe(1) // only the replayed copy
  })

  test('binary payloads round-trip byte-exact through publish → tail -o raw (base64 body, marked)', async () => {
    const q = await createQueue('binary')
    const data = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a, 0x80, 0x00])
    const p = await run(['publish', q.url, '--input', 'raw'], {env: cli, input: data})
    expect(p.code, p.stderr).toBe(0)
    const t = await run(['tail', q.url, '--until', 'end', '-o', 'raw'], {env: cli})
    expect(t.stdout).toEqual(Buffer.concat([data, Buffer.from('\n')]))
    const j = await run(['tail', q.url, '--until', 'end', '-o', 'jsonl'], {env: cli})
    const e = JSON.parse(j.stdout.toString())
    expect(e.value).toEqual({base64: data.toString('base64')})
    expect(e.headers).toBeUndefined() // the evtctl.encoding marker is not shown as a header
  })

  test('--consume deletes what it printed, and only that', async () => {
    const q = await createQueue('consume')
    await fill(
      q.url,
      Array.from({length: 12}, (_, i) => `m${i}`),
    )
    const r = await run(['tail', q.url, '--until', 'end', '--consume', '--max', '5', '-o', 'raw'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    expect(lines(r.stdout)).toHaveLength(5)
    expect(await counts(q.url)).toEqual({visible: 7, inFlight: 0})
    // Where reading cannot take messages (the file broker), --consume is refused, exit 6; Kafka
    // takes them only for a consumer group, so without --group it is a usage error.
    const notOnFile = await run(['tail', 'file:///tmp/x.jsonl', '--consume', '--until', 'end'], {env: cli})
    expect(notOnFile.code).toBe(6)
    const noGroup = await run(['tail', 'kafka://127.0.0.1:1/x', '--consume', '--until', 'end'], {env: cli})
    expect(noGroup.code).toBe(2)
  })

  test('a missing queue is exit 5; an unreachable endpoint is exit 4; --from is exit 6', async () => {
    const missing = await run(
      ['tail', `${env.SQS_ENDPOINT}/000000000000/${uniqueName('nope')}`, '--until', 'end'],
      {env: cli},
    )
    expect(missing.code).toBe(5)
    const down = await run(['tail', 'http://127.0.0.1:1/000000000000/orders', '--until', 'end'], {env: cli})
    expect(down.code).toBe(4)
    expect(down.stderr).toMatch(/Cannot reach http:\/\/127.0.0.1:1/)
    const from = await run(['tail', `${env.SQS_ENDPOINT}/000000000000/x`, '--from', '-10'], {env: cli})
    expect(from.code).toBe(6)
    expect(from.stderr).toMatch(/SQS queues have no offsets/)
  }, 60_000)

  test('Ctrl-C while following releases every held message at once', async () => {
    const q = await createQueue('sigint')
    await fill(q.url, ['a', 'b', 'c'])
    const tail = start(['tail', q.url, '-o', 'raw', '--hold', '5m'], cli)
    for (let i = 0; i < 50 && tail.out().split('\n').length < 4; i++)
      await new Promise((r) => setTimeout(r, 100))
    expect((await counts(q.url)).inFlight).toBe(3)
    tail.child.kill('SIGINT')
    expect(await tail.done).toBe(130)
    expect(await counts(q.url)).toEqual({visible: 3, inFlight: 0})
  }, 30_000)

  test('a header named evtctl.* is refused before sending (exit 2, named); on read, the marker counts only on a base64 body', async () => {
    const q = await createQueue('reserved')
    const r = await run(['publish', q.url, 'hello', '-H', 'evtctl.encoding=base64'], {env: cli})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/header "evtctl\.encoding" is reserved/)
    expect(r.stderr).toMatch(/Nothing was sent/)
    expect(r.stderr).toMatch(/Try: Rename the header/)
    expect(await counts(q.url)).toEqual({visible: 0, inFlight: 0})
    // Another sender's attribute of that name on a text body: the text stays text.
    await fill(q.url, ['hello world'], {
      MessageAttributes: {'evtctl.encoding': {DataType: 'String', StringValue: 'base64'}},
    })
    const t = await run(['tail', q.url, '--until', 'end', '-o', 'jsonl'], {env: cli})
    const e = JSON.parse(lines(t.stdout)[0]!)
    expect(e.value).toEqual({utf8: 'hello world'})
    expect(e.headers).toEqual([['evtctl.encoding', {utf8: 'base64'}]])
  })

  test('--until <time> is exclusive: a message sent at that millisecond is left out', async () => {
    const q = await createQueue('until-exclusive')
    await fill(q.url, ['edge'])
    const probe = await run(['tail', q.url, '--until', 'end', '-o', 'jsonl'], {env: cli})
    const sentAt = JSON.parse(lines(probe.stdout)[0]!).timestamp as string
    const at = await run(['tail', q.url, '--until', sentAt, '-o', 'raw'], {env: cli})
    expect(at.code, at.stderr).toBe(0)
    expect(lines(at.stdout)).toEqual([])
    const after = new Date(Date.parse(sentAt) + 1).toISOString()
    const next = await run(['tail', q.url, '--until', after, '-o', 'raw'], {env: cli})
    expect(lines(next.stdout)).toEqual(['edge'])
  })

  test('--hold: 0s and more than 12h are exit 2 with the range; 12h is taken', async () => {
    const q = await createQueue('hold-range')
    const zero = await run(['tail', q.url, '--until', 'end', '--hold', '0s'], {env: cli})
    expect(zero.code).toBe(2)
    expect(zero.stderr).toMatch(/--hold 0s would make each message visible again at once/)
    expect(zero.stderr).toMatch(/Try: Use a hold from 1s to 12h/)
    const long = await run(['tail', q.url, '--until', 'end', '--hold', '13h'], {env: cli})
    expect(long.code).toBe(2)
    expect(long.stderr).toMatch(/--hold 13h is out of range: SQS hides a received message for at most 12 h/)
    const max = await run(['tail', q.url, '--until', 'end', '--hold', '12h'], {env: cli})
    expect(max.code, max.stderr).toBe(0)
    expect(max.stderr).toMatch(/stays hidden for 43200s/)
  })

  describe('credentials', () => {
    /** No AWS credentials anywhere: no variables, no ~/.aws, no instance metadata. */
    function bare(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
      const home = mkdtempSync(join(tmpdir(), 'evtctl-aws-'))
      const e: NodeJS.ProcessEnv = {...cli}
      for (const k of Object.keys(e)) if (k.startsWith('AWS_')) delete e[k]
      return {
        ...e,
        HOME: home,
        AWS_CONFIG_FILE: join(home, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        ...extra,
      }
    }

    test('none found: exit 3 saying so, with the ways to provide them (no --profile that does not exist)', async () => {
      const r = await run(['tail', 'sqs://us-east-1/orders', '--until', 'end'], {env: bare()})
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(/Error: No usable AWS credentials were found for SQS/)
      expect(r.stderr).not.toMatch(/refused/)
      expect(r.stderr).toMatch(/Try: .*--profile NAME or AWS_PROFILE.*aws configure.*AWS_ACCESS_KEY_ID/)
    })

    test('a loopback endpoint from AWS_ENDPOINT_URL_SQS gets placeholder credentials, as one from a context does', async () => {
      const q = await createQueue('env-endpoint')
      await fill(q.url, ['via-env'])
      const name = q.url.slice(q.url.lastIndexOf('/') + 1)
      const r = await run(['tail', `sqs://us-east-1/${name}`, '--until', 'end', '-o', 'raw'], {
        env: bare({AWS_ENDPOINT_URL_SQS: env.SQS_ENDPOINT}),
      })
      expect(r.code, r.stderr).toBe(0)
      expect(lines(r.stdout)).toEqual(['via-env'])
    })

    test('--profile picks a profile from the shared files; an unknown one is exit 3 naming it', async () => {
      const q = await createQueue('profile')
      await fill(q.url, ['p'])
      // A profile's credentials go only to AWS or to a configured endpoint (#18.1).
      const e = bare({AWS_ENDPOINT_URL_SQS: env.SQS_ENDPOINT})
      writeFileSync(
        e.AWS_SHARED_CREDENTIALS_FILE!,
        '[evt]\naws_access_key_id = x\naws_secret_access_key = y\n',
      )
      const ok = await run(['tail', q.url, '--until', 'end', '-o', 'raw', '--profile', 'evt'], {env: e})
      expect(ok.code, ok.stderr).toBe(0)
      expect(lines(ok.stdout)).toEqual(['p'])
      const pub = await run(['publish', q.url, 'q', '--profile', 'evt'], {env: e})
      expect(pub.code, pub.stderr).toBe(0)
      const missing = await run(['tail', q.url, '--until', 'end', '--profile', 'nosuch'], {env: e})
      expect(missing.code).toBe(3)
      expect(missing.stderr).toMatch(/No usable AWS credentials .*nosuch/)
      const notSqs = await run(['tail', 'file://./x.jsonl', '--until', 'end', '--profile', 'evt'], {env: e})
      // Since a1a2ae2: a flag the broker cannot honour is exit 6.
      expect(notSqs.code).toBe(6)
      const unconfigured = bare()
      writeFileSync(unconfigured.AWS_SHARED_CREDENTIALS_FILE!, readFileSync(e.AWS_SHARED_CREDENTIALS_FILE!))
      const refused = await run(['tail', q.url, '--until', 'end', '--profile', 'evt'], {env: unconfigured})
      expect(refused.code).toBe(3)
      expect(refused.stderr).toMatch(
        /--profile evt would send that profile's AWS credentials to http:\/\/127\.0\.0\.1:\d+/,
      )
      expect(refused.stderr).toMatch(/Try: .*--endpoint .*AWS_ENDPOINT_URL_SQS=/)
    })
  })
})
