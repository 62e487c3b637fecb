import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {SendMessageBatchCommand} from '@aws-sdk/client-sqs'
import {describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic} from '../brokers/kafka.js'
import {kcatProduce, kcatReadAll} from '../brokers/peers.js'
import {counts, createQueue, receiveMessages, testSqs} from '../brokers/sqs.js'
import {type RunResult, run, sandboxEnv, start} from '../e2e/helpers.js'

/**
 * The failure-injection suite of "replay": each replay is SIGKILLed at a crash point of its second
 * batch (the test-only fault hook) or at a random moment, then rerun once. Checked with independent
 * clients: every selected message is at the destination, byte-exact; nothing is left in a moved
 * source; duplicates are at most one batch (100) and every one of them is in possibleDuplicates.
 */
const env = brokerEnv()
const N = 250
const BATCH = 100
const POINTS = [
  'after-receive:2',
  'after-select:2',
  'after-send:2',
  'after-journal:2',
  'after-remove:2',
  'random',
]

interface Report {
  resumed: boolean
  selected: number
  sent: number
  possibleDuplicates: Array<{id: string}>
}

/**
 * Runs the replay and kills it: at the fault point, or at a random moment once it has started.
 * A random moment may come after the run finished on its own: then its report, and no rerun
 * (a rerun of a finished replay replays again, by design, and would duplicate everything).
 */
async function killed(args: string[], cli_: NodeJS.ProcessEnv, point: string): Promise<Report | undefined> {
  // Batches of BATCH, as a queue's are: a 250-message Kafka topic arrives in one fetch, and would
  // be one batch of the log's 1,000, with no second batch to kill in.
  const cli = {...cli_, EVTCTL_REPLAY_BATCH: String(BATCH)}
  if (point !== 'random') {
    const r = await run(args, {env: {...cli, EVTCTL_REPLAY_FAULT: point}})
    expect(r.signal, r.stderr).toBe('SIGKILL')
    return
  }
  const p = start(args, cli)
  while (!p.err().includes('Replay run') && p.child.exitCode === null) await sleep(10)
  await sleep(Math.random() * 400)
  p.child.kill('SIGKILL') // nothing, if it has ended
  await p.done
  // Its final report printed: the run had finished (a kill while it closed changes nothing).
  const out = p.out().trim()
  return out ? (JSON.parse(out) as Report) : undefined
}

/** The rerun: resumes (unless the random kill came after the end) and finishes, exit 0. */
async function rerun(args: string[], cli: NodeJS.ProcessEnv, point: string): Promise<Report> {
  const r: RunResult = await run(args, {env: {...cli, EVTCTL_REPLAY_BATCH: String(BATCH)}})
  expect(r.code, r.stderr).toBe(0)
  const report = JSON.parse(r.stdout.toString()) as Report
  if (point !== 'random') expect(report.resumed, r.stderr).toBe(true)
  return report
}

/** Duplicated payloads (by the source id each came from): at most one batch, all listed. */
function checkDuplicates(got: string[], idOf: Map<string, string>, report: Report): void {
  const seen = new Set<string>()
  const dups = got.filter((g) => {
    if (seen.has(g)) return true
    seen.add(g)
    return false
  })
  expect(dups.length).toBeLessThanOrEqual(BATCH)
  const listed = new Set(report.possibleDuplicates.map((d) => d.id))
  for (const d of dups) expect(listed, `duplicate ${d} not listed`).toContain(idOf.get(d))
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!env.SQS_ENDPOINT)('replay killed (SIGKILL) on SQS, rerun once', () => {
  /** Fills `url` with N messages (two attributes each); body → SQS message id. */
  async function fillWithIds(url: string, fifo = false): Promise<Map<string, string>> {
    const sqs = testSqs()
    const ids = new Map<string, string>()
    try {
      for (let i = 0; i < N; i += 10) {
        const entries = Array.from({length: Math.min(10, N - i)}, (_, j) => ({
          Id: String(j),
          MessageBody: `m${i + j}`,
          MessageAttributes: {
            n: {DataType: 'Number', StringValue: String(i + j)},
            kind: {DataType: 'String', StringValue: 'test'},
          },
          ...(fifo ? {MessageGroupId: `g${(i + j) % 3}`, MessageDeduplicationId: `d${i + j}`} : {}),
        }))
        const r = await sqs.send(new SendMessageBatchCommand({QueueUrl: url, Entries: entries}))
        for (const s of r.Successful ?? []) ids.set(entries[Number(s.Id)]!.MessageBody, s.MessageId!)
      }
    } finally {
      sqs.destroy()
    }
    expect(ids.size).toBe(N)
    return ids
  }

  test.each(POINTS)(
    'standard queue, killed %s',
    async (point) => {
      const cli = sandboxEnv()
      const dlq = await createQueue('rk-dlq')
      const dest = await createQueue('rk-dest')
      const ids = await fillWithIds(dlq.url)
      const args = ['replay', dlq.url, '--to', dest.url, '--hold', '3s', '--json']
      const report = (await killed(args, cli, point)) ?? (await rerun(args, cli, point))
      expect(await counts(dlq.url)).toEqual({visible: 0, inFlight: 0})
      const got = await receiveMessages(dest.url)
      for (const m of got) {
        const n = m.Body!.slice(1)
        expect(m.MessageAttributes?.n?.StringValue).toBe(n)
        expect(m.MessageAttributes?.kind?.StringValue).toBe('test')
      }
      const bodies = got.map((m) => m.Body!)
      expect([...new Set(bodies)].sort()).toEqual([...ids.keys()].sort())
      checkDuplicates(bodies, ids, report)
    },
    60_000,
  )

  test.each(['after-send:1', 'after-journal:2', 'random'])(
    'FIFO queue → FIFO queue, killed %s: groups and their order kept, no duplicates',
    async (point) => {
      const cli = sandboxEnv()
      const dlq = await createQueue('rkf-dlq', {}, true)
      const dest = await createQueue('rkf-dest', {}, true)
      const ids = await fillWithIds(dlq.url, true)
      const args = ['replay', dlq.url, '--to', dest.url, '--hold', '3s', '--json']
      const report = (await killed(args, cli, point)) ?? (await rerun(args, cli, point))
      expect(await counts(dlq.url)).toEqual({visible: 0, inFlight: 0})
      const got = await receiveMessages(dest.url, {deleting: true})
      // The resumed run sends with the same deduplication ids: SQS drops the second copies.
      expect(got.map((m) => m.Body!).sort()).toEqual([...ids.keys()].sort())
      checkDuplicates(
        got.map((m) => m.Body!),
        ids,
        report,
      )
      for (const g of ['g0', 'g1', 'g2']) {
        const inGroup = got
          .filter((m) => m.Attributes?.MessageGroupId === g)
          .map((m) => Number(m.Body!.slice(1)))
        expect(inGroup.length).toBeGreaterThan(0)
        expect(inGroup).toEqual([...inGroup].sort((a, b) => a - b))
        expect(inGroup.every((n) => `g${n % 3}` === g)).toBe(true)
      }
    },
    60_000,
  )
})

describe.skipIf(!env.KAFKA_BROKERS)('replay killed (SIGKILL) into Kafka, rerun once', () => {
  const brokers = () => env.KAFKA_BROKERS!

  /** The destination as kcat (librdkafka) reads it: key, value, headers per message. */
  const readBack = async (topic: string) =>
    (await kcatReadAll(brokers(), topic)).map((m) => ({
      key: m.key!,
      value: m.payload!,
      headers: m.headers ?? [],
    }))

  function check(
    got: Array<{key: string; value: string; headers: string[]}>,
    report: Report,
    idOf: Map<string, string>,
  ) {
    for (const m of got) {
      const i = m.value.replace(/\D/g, '')
      expect(m.key).toBe(`k${i}`)
      expect(m.headers).toEqual(expect.arrayContaining(['trace', `t${i}`]))
    }
    const values = got.map((m) => m.value)
    expect([...new Set(values)].sort()).toEqual([...idOf.keys()].sort())
    checkDuplicates(values, idOf, report)
  }

  test.each(['after-send:2', 'after-journal:2', 'random'])(
    'a Spring DLT copied back to its topic, killed %s',
    async (point) => {
      const cli = sandboxEnv()
      const source = await createTopic('rkk-orders')
      const dlt = await createTopic(`${source}.DLT`)
      const lines = Array.from({length: N}, (_, i) => `k${i}\t{"i":${i}}`)
      // One kcat per distinct header value would be slow: the trace header carries the index.
      for (let i = 0; i < N; i += 50) {
        const chunk = lines.slice(i, i + 50)
        await Promise.all(
          chunk.map((l, j) =>
            kcatProduce(
              brokers(),
              dlt,
              {keyDelimiter: '\t', headers: [`kafka_dlt-original-topic=${source}`, `trace=t${i + j}`]},
              l,
            ).then((p) => expect(p.code, p.stderr).toBe(0)),
          ),
        )
      }
      // Source id = partition:offset, as the journal names it.
      const before = await readBackWithOffsets(dlt)
      const args = ['replay', `kafka://${brokers()}/${dlt}`, '--json']
      const report = (await killed(args, cli, point)) ?? (await rerun(args, cli, point))
      check(await readBack(source), report, before)
    },
    120_000,
  )

  async function readBackWithOffsets(topic: string): Promise<Map<string, string>> {
    const m = new Map(
      (await kcatReadAll(brokers(), topic)).map((x) => [x.payload!, `${x.partition}:${x.offset}`]),
    )
    expect(m.size).toBe(N)
    return m
  }

  // before-report: its work done, its report not given (a random kill's likeliest moment here).
  test.each(['after-send:2', 'before-report', 'random'])(
    'a capture file (file://…jsonl) replayed into Kafka, killed %s',
    async (point) => {
      const cli = sandboxEnv()
      const dir = mkdtempSync(join(tmpdir(), 'rk-cap-'))
      const capture = `file://${dir}/capture.jsonl`
      const envelopes = Array.from({length: N}, (_, i) =>
        JSON.stringify({
          v: 1,
          key: {utf8: `k${i}`},
          value: {utf8: `{"i":${i}}`},
          headers: [['trace', {utf8: `t${i}`}]],
        }),
      )
      const p = await run(['publish', capture, '--input', 'jsonl'], {
        env: cli,
        input: `${envelopes.join('\n')}\n`,
      })
      expect(p.code, p.stderr).toBe(0)
      const dest = await createTopic('rk-from-capture')
      // The file broker's ids are its line offsets, partition 0.
      const ids = new Map(Array.from({length: N}, (_, i) => [`{"i":${i}}`, `0:${i}`]))
      const args = ['replay', capture, '--to', `kafka://${brokers()}/${dest}`, '--json']
      const report = (await killed(args, cli, point)) ?? (await rerun(args, cli, point))
      check(await readBack(dest), report, ids)
    },
    60_000,
  )
})
