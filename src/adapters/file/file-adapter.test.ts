import {fork} from 'node:child_process'
import {appendFileSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {describe, expect, test} from 'vitest'
import {parseTarget, type Target} from '../../config/targets.js'
import {decodeEnvelope} from '../../envelope/decode.js'
import {type Envelope, encodeEnvelope} from '../../envelope/envelope.js'
import type {UserEvent} from '../../events.js'
import type {Delivery, ReadOptions} from '../types.js'
import {commitFileOffset, createFileAdapter, deadLetterTargetOf} from './file-adapter.js'

const dir = mkdtempSync(join(tmpdir(), 'evtctl-file-'))
let n = 0
const fresh = (): Extract<Target, {kind: 'file'}> => {
  const t = parseTarget(`file://${join(dir, `t${++n}.jsonl`)}`)
  if (t.kind !== 'file') throw new Error('not a file target')
  return t
}
const ev = (i: number, timestamp?: string): Envelope => ({
  v: 1,
  ...(timestamp ? {timestamp} : {}),
  value: {json: {i}},
})
async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items
}
async function values(it: AsyncIterable<Delivery>): Promise<unknown[]> {
  const out: unknown[] = []
  for await (const d of it) out.push((d.envelope.value as {json: {i: number}}).json.i)
  return out
}
const signal = () => new AbortController().signal
const adapter = createFileAdapter()

async function seed(count: number, ts?: (i: number) => string): Promise<Extract<Target, {kind: 'file'}>> {
  const t = fresh()
  const events = Array.from({length: count}, (_, i) => ev(i, ts?.(i)))
  await adapter.publish(t, from(events), {signal: signal()})
  return t
}

describe('file broker', () => {
  const readAll: ReadOptions = {from: {kind: 'beginning'}, until: {kind: 'end'}}

  test('start positions: beginning, offset, last N, end, time', async () => {
    const t = await seed(10, (i) => new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString())
    expect(await values(adapter.read(t, readAll, signal()))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(
      await values(adapter.read(t, {from: {kind: 'offset', offset: 7n}, until: {kind: 'end'}}, signal())),
    ).toEqual([7, 8, 9])
    expect(
      await values(adapter.read(t, {from: {kind: 'offset', offset: 99n}, until: {kind: 'end'}}, signal())),
    ).toEqual([])
    expect(
      await values(adapter.read(t, {from: {kind: 'last', count: 2}, until: {kind: 'end'}}, signal())),
    ).toEqual([8, 9])
    expect(
      await values(adapter.read(t, {from: {kind: 'last', count: 50}, until: {kind: 'end'}}, signal())),
    ).toHaveLength(10)
    expect(await values(adapter.read(t, {from: {kind: 'end'}, until: {kind: 'end'}}, signal()))).toEqual([])
    const time = new Date(Date.UTC(2026, 0, 1, 0, 6, 30))
    expect(
      await values(adapter.read(t, {from: {kind: 'time', time}, until: {kind: 'end'}}, signal())),
    ).toEqual([7, 8, 9])
    const until = {kind: 'time' as const, time: new Date(Date.UTC(2026, 0, 1, 0, 2))}
    // --until <time> is exclusive: the message at 00:02 belongs to the next window.
    expect(await values(adapter.read(t, {from: {kind: 'beginning'}, until}, signal()))).toEqual([0, 1])
  })

  test('offsets are line numbers, the source is the file, and a capture keeps its origin in meta', async () => {
    const t = fresh()
    const captured: Envelope = {
      v: 1,
      source: 'kafka://h:9092/orders',
      partition: 3,
      offset: '1842',
      value: {utf8: 'x'},
    }
    writeFileSync(t.path, `${encodeEnvelope(ev(0))}\n\n${encodeEnvelope(captured)}\n`)
    const got: Envelope[] = []
    for await (const d of adapter.read(t, readAll, signal())) got.push(d.envelope)
    expect(got.map((e) => [e.offset, e.partition, e.source])).toEqual([
      ['0', 0, t.url],
      ['2', 0, t.url],
    ])
    expect(got[1]!.meta?.origin).toEqual({source: 'kafka://h:9092/orders', partition: 3, offset: '1842'})
  })

  test('--until end stops at the end as it was at start, even while others append', async () => {
    const t = await seed(3)
    const seen: unknown[] = []
    for await (const d of adapter.read(t, readAll, signal())) {
      seen.push((d.envelope.value as {json: {i: number}}).json.i)
      if (seen.length === 1) await adapter.publish(t, from([ev(100)]), {signal: signal()})
    }
    expect(seen).toEqual([0, 1, 2])
  })

  test('a half-written last line is not read until its newline arrives', async () => {
    const t = await seed(1)
    const line = encodeEnvelope(ev(1))
    appendFileSync(t.path, line.slice(0, 10))
    const controller = new AbortController()
    const got: unknown[] = []
    const reading = (async () => {
      for await (const d of adapter.read(t, {from: {kind: 'beginning'}}, controller.signal)) {
        got.push((d.envelope.value as {json: {i: number}}).json.i)
        if (got.length === 2) controller.abort()
      }
    })()
    await new Promise((r) => setTimeout(r, 400))
    expect(got).toEqual([0])
    appendFileSync(t.path, `${line.slice(10)}\n`)
    await reading
    expect(got).toEqual([0, 1])
  })

  test('a malformed line is skipped with a notice naming the line and the file; later lines are read', async () => {
    const t = await seed(2)
    appendFileSync(t.path, '{"v":1,\n')
    await adapter.publish(
      t,
      (async function* () {
        yield {v: 1 as const, value: {json: {i: 9}}}
      })(),
      {signal: signal()},
    )
    const events: UserEvent[] = []
    const got = await values(adapter.read(t, {...readAll, emit: (e) => events.push(e)}, signal()))
    expect(got).toEqual([0, 1, 9])
    expect(events).toEqual([
      {
        level: 'warning',
        code: 'DAMAGED_LINE',
        message: expect.stringContaining(`damaged line in ${t.path}: line 3 (offset 2)`),
      },
    ])
  })

  test('an append after a writer died mid-line starts on a fresh line', async () => {
    const t = await seed(1)
    appendFileSync(t.path, '{"v":1,"val')
    await adapter.publish(t, from([ev(5)]), {signal: signal()})
    const lines = readFileSync(t.path, 'utf8').split('\n')
    expect(lines[1]).toBe('{"v":1,"val')
    expect(decodeEnvelope(lines[2]!).value).toEqual({json: {i: 5}})
  })

  test('several processes appending at once lose and interleave nothing', async () => {
    const t = fresh()
    const writers = 4
    const per = 500
    const script = join(dir, 'writer.mjs')
    const mod = new URL('./file-adapter.ts', import.meta.url).pathname
    writeFileSync(
      script,
      `const {createFileAdapter} = await import(process.argv[2]);
       const [path, w, per] = [process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
       const a = createFileAdapter();
       async function* gen() { for (let i = 0; i < per; i++) yield {v: 1, value: {json: {w, i, pad: 'x'.repeat(200)}}} }
       await a.publish({kind: 'file', url: 'file://' + path, path, name: 't'}, gen(), {signal: new AbortController().signal});`,
    )
    await Promise.all(
      Array.from(
        {length: writers},
        (_, w) =>
          new Promise<void>((resolve, reject) => {
            const child = fork(script, [mod, t.path, String(w), String(per)], {execArgv: ['--import', 'tsx']})
            child.on('exit', (code) =>
              code === 0 ? resolve() : reject(new Error(`writer ${w} exited ${code}`)),
            )
          }),
      ),
    )
    const lines = readFileSync(t.path, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(writers * per)
    const byWriter = new Map<number, number[]>()
    for (const l of lines) {
      const {w, i} = (decodeEnvelope(l).value as {json: {w: number; i: number}}).json
      byWriter.set(w, [...(byWriter.get(w) ?? []), i])
    }
    for (const [, is] of byWriter) expect(is).toEqual(Array.from({length: per}, (_, i) => i))
  }, 30_000)

  test('lag from committed group offsets; tail never commits', async () => {
    const t = await seed(5)
    expect(await adapter.lag(t)).toEqual([])
    await commitFileOffset(t, 'billing', 2n)
    const [row] = await adapter.lag(t, 'billing')
    expect(row).toMatchObject({group: 'billing', partition: 0, committed: '2', end: '5', lag: '3'})
    expect(await adapter.lag(t, 'never')).toEqual([
      {group: 'never', partition: 0, end: '5', latestTimestamp: expect.any(String)},
    ])
  })

  test('the dead-letter topic of orders.jsonl is orders.dlq.jsonl', async () => {
    const t = parseTarget('file:///x/orders.jsonl')
    if (t.kind !== 'file') throw new Error()
    expect(deadLetterTargetOf(t)).toEqual({
      kind: 'file',
      url: 'file:///x/orders.dlq.jsonl',
      path: '/x/orders.dlq.jsonl',
      name: 'orders.dlq',
    })
  })

  test('listDeadLetters: NAME.dlq.jsonl files of a directory, exact depth, the source by name', async () => {
    const t = await seed(2)
    const dlq = deadLetterTargetOf(t)
    await adapter.publish(dlq, from([ev(1), ev(2), ev(3)]), {signal: signal()})
    appendFileSync(dlq.path, '{"v":1,\n') // a damaged line is not a message
    const dir = parseTarget(`file://${dirname(t.path)}`)
    if (dir.kind !== 'file') throw new Error()
    const found = await adapter.listDeadLetters({...dir, name: ''}, signal())
    expect(found).toEqual([
      expect.objectContaining({
        target: expect.objectContaining({path: dlq.path}),
        depth: 3,
        depthExact: true,
        sources: [{target: `file://${t.path}`, by: 'file-name'}],
      }),
    ])
    // One topic given: just it, as a DLQ; a missing one is exit 5.
    expect(await adapter.listDeadLetters(dlq, signal())).toHaveLength(1)
    await expect(adapter.listDeadLetters({...dlq, path: `${dlq.path}.nope`}, signal())).rejects.toMatchObject(
      {
        exitCode: 5,
      },
    )
  })

  test('only partition 0 exists', async () => {
    const t = await seed(1)
    await expect(values(adapter.read(t, {...readAll, partitions: [1]}, signal()))).rejects.toMatchObject({
      exitCode: 5,
    })
  })
})
