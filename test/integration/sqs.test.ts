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
      first.stderr.match(/Warning: message \S+ has now been received 1 times \(maxReceiveCount 2\): after one more/g),
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
    const notOnKafka = await run(['tail', 'kafka://127.0.0.1:1/x', '--consume', '--until', 'end'], {env: cli})
    expect(notOnKafka.code).toBe(6)
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
})
