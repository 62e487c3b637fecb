import {describe, expect, test} from 'vitest'
import {loadPlatformatic} from './platformatic-lib.js'
import {RawProducer} from './platformatic-raw.js'
import type {KafkaMessageOut} from './port.js'

// The raw producer's own bookkeeping (sequence numbers, producer ids, which messages failed),
// against a fake of the @platformatic/kafka client internals it uses: the requests it writes are
// read back here. (The integration tests send real ones to Kafka.)

const TOPIC = 't'

/** A message whose key is null and whose value is `v` (a record's tail, as read). */
function message(v: string, partition: number): KafkaMessageOut {
  const value = Buffer.from(v)
  const rawBuffer = Buffer.concat([Buffer.from([0x01, value.length * 2]), value, Buffer.from([0x00])])
  return {key: null, value, partition, raw: {rawBuffer, rawStart: 0, rawEnd: rawBuffer.length}}
}

function readUVarInt(buf: Buffer, at: number): [number, number] {
  let n = 0
  let shift = 0
  for (;;) {
    const b = buf[at++]!
    n += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return [n, at]
    shift += 7
  }
}

/** Per partition of a produce request (v9): its batch's producer id, base sequence and count. */
function batchesOf(request: Buffer) {
  let at = 7 // transactional id (null), acks, timeout
  ;[, at] = readUVarInt(request, at) // topics
  const [nameLen, afterLen] = readUVarInt(request, at)
  at = afterLen + nameLen - 1
  const [parts, afterParts] = readUVarInt(request, at)
  at = afterParts
  const out: Array<{partition: number; producerId: bigint; sequence: number; count: number}> = []
  for (let i = 0; i < parts - 1; i++) {
    const partition = request.readInt32BE(at)
    const [len, start] = readUVarInt(request, at + 4)
    const batch = request.subarray(start, start + len - 1)
    out.push({
      partition,
      producerId: batch.readBigInt64BE(43),
      sequence: batch.readInt32BE(53),
      count: batch.readInt32BE(57),
    })
    at = start + len - 1 + 1 // the batch, then its tagged fields
  }
  return out
}

type Answer = 'ok' | {refuse: string} | {lost: true}

async function fake(
  answer: (partition: number, attempt: number) => Answer,
  init?: (n: number) => Error | undefined,
) {
  const lib = await loadPlatformatic()
  const sent: Array<ReturnType<typeof batchesOf>> = []
  let inits = 0
  let attempt = 0
  const connection = {
    send(
      _key: number,
      _version: number,
      payload: () => {buffer: Buffer},
      _parse: unknown,
      _a: boolean,
      _b: boolean,
      cb: (e: unknown, r?: unknown) => void,
    ) {
      const batches = batchesOf(payload().buffer)
      sent.push(batches)
      const answers = batches.map((b) => answer(b.partition, attempt))
      attempt++
      if (answers.some((a) => typeof a === 'object' && 'lost' in a)) {
        cb(Object.assign(new Error('connection closed'), {canRetry: true}))
        return
      }
      const partitionResponses = batches.map((b, j) => ({
        index: b.partition,
        errorCode: answers[j] === 'ok' ? 0 : 32,
      }))
      if (answers.every((a) => a === 'ok')) {
        cb(null, {responses: [{name: TOPIC, partitionResponses}]})
        return
      }
      const errors = answers.flatMap((a, j) =>
        typeof a === 'object' && 'refuse' in a
          ? [{path: `/responses/0/partition_responses/${j}`, apiId: a.refuse, canRetry: false}]
          : [],
      )
      cb(
        Object.assign(new Error('refused'), {
          response: {responses: [{name: TOPIC, partitionResponses}]},
          errors,
        }),
      )
    },
  }
  const initApi = (_c: unknown, ...args: unknown[]) => {
    const cb = args.at(-1) as (e: unknown, r?: unknown) => void
    inits++
    const failure = init?.(inits)
    if (failure) cb(failure)
    else cb(null, {producerId: BigInt(100 + inits), producerEpoch: 0})
  }
  const internals: Record<string, unknown> = {
    'plt.kafka.base.getConnection': (_b: unknown, cb: (e: unknown, r: unknown) => void) =>
      cb(null, connection),
    'plt.kafka.base.getApi': (name: string, cb: (e: unknown, r: unknown) => void) =>
      cb(null, name === 'Produce' ? {version: 9} : initApi),
    'plt.kafka.base.getBootstrapConnection': (cb: (e: unknown, r: unknown) => void) => cb(null, connection),
    'plt.kafka.base.metadata': (_o: unknown, cb: (e: unknown, r: unknown) => void) =>
      cb(null, {
        brokers: new Map([[1, {host: 'x', port: 1}]]),
        topics: new Map([[TOPIC, {partitions: [{leader: 1}, {leader: 1}, {leader: 1}]}]]),
      }),
  }
  class Client {}
  for (const [name, f] of Object.entries(internals))
    (Client.prototype as unknown as Record<symbol, unknown>)[Symbol(name)] = f
  const raw = RawProducer.of(lib, new Client() as never, true, 1000)!
  expect(raw).toBeDefined()
  const send = (messages: KafkaMessageOut[]) =>
    raw.send(
      TOPIC,
      messages,
      messages.map((m) => m.partition!),
      -1,
    )
  return {send, sent, inits: () => inits}
}

describe('raw producer: sequence numbers, producer ids and failures', () => {
  test('each partition counts its own sequence across sends, on one producer id', async () => {
    const f = await fake(() => 'ok')
    expect(await f.send([message('a', 0), message('b', 0), message('c', 1), message('d', 0)])).toEqual({
      failed: [],
    })
    expect(await f.send([message('e', 0), message('f', 1)])).toEqual({failed: []})
    expect(f.sent).toEqual([
      [
        {partition: 0, producerId: 101n, sequence: 0, count: 3},
        {partition: 1, producerId: 101n, sequence: 0, count: 1},
      ],
      [
        {partition: 0, producerId: 101n, sequence: 3, count: 1},
        {partition: 1, producerId: 101n, sequence: 1, count: 1},
      ],
    ])
    expect(f.inits()).toBe(1)
  })

  test('a batch the broker refuses fails only its messages; the producer id and its sequence stay', async () => {
    const f = await fake((p, attempt) => (p === 1 && attempt === 0 ? {refuse: 'INVALID_TIMESTAMP'} : 'ok'))
    const r = await f.send([message('a', 0), message('b', 1), message('c', 1), message('d', 2)])
    expect(r!.failed.map((x) => x.position)).toEqual([1, 2])
    expect((r!.failed[0]!.error as {apiId: string}).apiId).toBe('INVALID_TIMESTAMP')
    expect(await f.send([message('e', 1), message('f', 0)])).toEqual({failed: []})
    // Refused, not retried; then partition 1 starts again at the sequence it had.
    expect(f.sent.length).toBe(2)
    expect(f.sent[1]).toEqual([
      {partition: 1, producerId: 101n, sequence: 0, count: 1},
      {partition: 0, producerId: 101n, sequence: 1, count: 1},
    ])
    expect(f.inits()).toBe(1)
  })

  test('no answer: the same bytes are sent again; still none: all fail, and a new producer id starts from 0', async () => {
    const f = await fake((_p, attempt) => (attempt < 3 ? {lost: true} : 'ok'))
    const r = await f.send([message('a', 0), message('b', 1)])
    expect(r!.failed.map((x) => x.position)).toEqual([0, 1])
    // The first try and two retries, each with the same producer id and sequences.
    expect(f.sent.length).toBe(3)
    expect(
      new Set(f.sent.map((s) => JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? String(v) : v)))).size,
    ).toBe(1)
    expect(await f.send([message('c', 0)])).toEqual({failed: []})
    expect(f.sent[3]).toEqual([{partition: 0, producerId: 102n, sequence: 0, count: 1}])
  })

  test('the producer id is asked for again after a failure, retried while the broker says so', async () => {
    // COORDINATOR_LOAD_IN_PROGRESS-like, retriable: asked again, and the send goes through.
    let f = await fake(
      () => 'ok',
      (n) => (n === 1 ? Object.assign(new Error('loading'), {canRetry: true}) : undefined),
    )
    expect(await f.send([message('a', 0)])).toEqual({failed: []})
    expect(f.inits()).toBe(2)
    // Not retriable: this send fails, and the next one asks again (the failure is not kept).
    f = await fake(
      () => 'ok',
      (n) => (n === 1 ? Object.assign(new Error('denied'), {canRetry: false}) : undefined),
    )
    await expect(f.send([message('a', 0)])).rejects.toThrow('denied')
    expect(await f.send([message('b', 0)])).toEqual({failed: []})
    expect(f.inits()).toBe(2)
  })
})
