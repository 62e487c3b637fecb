import {describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {counts, createQueue, fill} from '../brokers/sqs.js'
import {lines, run, sandboxEnv} from '../e2e/helpers.js'

const env = brokerEnv()
const cli = sandboxEnv()

describe.skipIf(!env.SQS_ENDPOINT)('sqs FIFO: deduplication is never silent', () => {
  test('one --dedup-id for 5 messages: each gets ID-1…ID-5 and all 5 arrive (SQS kept 1 of 5 before)', async () => {
    const q = await createQueue('fifo-derive', {}, true)
    const input = '1\n2\n3\n4\n5\n'
    const first = await run(['publish', q.url, '--group-id', 'g1', '--dedup-id', 'd'], {env: cli, input})
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toMatch(
      /Warning: one --dedup-id for several messages: each is sent with its own, d-1, d-2/,
    )
    expect(first.stderr).toMatch(/Published 5 message\(s\)/)
    expect(await counts(q.url)).toEqual({visible: 5, inFlight: 0})
    const t = await run(['tail', q.url, '--until', 'end', '-o', 'jsonl'], {env: cli})
    const envs = lines(t.stdout).map((l) => JSON.parse(l))
    expect(envs.map((e) => [e.value.json, e.meta.dedupId])).toEqual([
      [1, 'd-1'],
      [2, 'd-2'],
      [3, 'd-3'],
      [4, 'd-4'],
      [5, 'd-5'],
    ])
  })

  test('envelopes that share a dedup id: SQS drops the later one, which is reported and not counted', async () => {
    const q = await createQueue('fifo-dup', {}, true)
    const input = [
      {v: 1, value: {utf8: 'a'}, meta: {groupId: 'g', dedupId: 'x'}},
      {v: 1, value: {utf8: 'b'}, meta: {groupId: 'g', dedupId: 'y'}},
      {v: 1, value: {utf8: 'c'}, meta: {groupId: 'g', dedupId: 'x'}},
    ]
      .map((e) => JSON.stringify(e))
      .join('\n')
    const r = await run(['publish', q.url, '--input', 'jsonl', '--json'], {env: cli, input})
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout.toString())
    expect(report.sent).toBe(2)
    expect(report.deduplicated).toEqual([{index: 2, messageId: expect.any(String)}])
    expect(r.stderr).toMatch(
      /Warning: 1 message\(s\) were not added to the queue: SQS took them as duplicates .* message\(s\) 3\./,
    )
    const t = await run(['tail', q.url, '--until', 'end', '-o', 'raw'], {env: cli})
    expect(lines(t.stdout)).toEqual(['a', 'b'])
  })

  test('one --dedup-id for a single message is used as given', async () => {
    const q = await createQueue('fifo-single', {}, true)
    const r = await run(['publish', q.url, 'x', '--group-id', 'g', '--dedup-id', 'run-42'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/Warning/)
    const t = await run(['tail', q.url, '--until', 'end', '-o', 'jsonl'], {env: cli})
    expect(JSON.parse(lines(t.stdout)[0]!).meta.dedupId).toBe('run-42')
  })

  test('content-based deduplication: a repeated body within one publish is reported, not counted', async () => {
    const q = await createQueue('fifo-content', {ContentBasedDeduplication: 'true'}, true)
    const r = await run(['publish', q.url, '--group-id', 'g'], {env: cli, input: 'a\nb\na\n'})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/Published 2 message\(s\)/)
    expect(r.stderr).toMatch(/1 message\(s\) were not added .*or the same body.* message\(s\) 3\./)
    expect(await counts(q.url)).toEqual({visible: 2, inFlight: 0})
  })

  test('no content-based deduplication and no dedup id: exit 2 before anything is sent, with the fix', async () => {
    const q = await createQueue('fifo-nodedup', {}, true)
    const r = await run(['publish', q.url, '--group-id', 'g'], {env: cli, input: 'a\nb\nc\n'})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(
      /Error: Message 1 cannot go to FIFO queue ".*": no deduplication id, which a FIFO queue without content-based deduplication needs\. Nothing was sent\./,
    )
    expect(r.stderr).toMatch(/Try: Give --dedup-id ID .*ContentBasedDeduplication/)
    expect(await counts(q.url)).toEqual({visible: 0, inFlight: 0})
  })

  test('a browse that cannot list past a held group says so', async () => {
    const q = await createQueue('fifo-blocked', {ContentBasedDeduplication: 'true'}, true)
    const bodies = Array.from({length: 25}, (_, i) => `m${i}`)
    await fill(q.url, bodies, {MessageGroupId: 'one-group'})
    const r = await run(['tail', q.url, '--until', 'end', '-o', 'raw'], {env: cli})
    expect(r.code, r.stderr).toBe(0)
    const listed = lines(r.stdout)
    expect(listed.length).toBeLessThan(25)
    expect(listed).toEqual(bodies.slice(0, listed.length)) // in order, from the head of the group
    expect(r.stderr).toMatch(
      new RegExp(
        `Only ${listed.length} of ~25 could be listed: a FIFO queue hands out no later message of a group while an earlier one is hidden`,
      ),
    )
    expect(await counts(q.url)).toEqual({visible: 25, inFlight: 0})
  })
})
