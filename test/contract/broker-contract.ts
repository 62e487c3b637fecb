import {describe, expect, test} from 'vitest'
import {capabilitiesOf} from '../../src/adapters/registry.js'
import type {BrokerAdapter, Delivery, PublishOutcome, ReadOptions} from '../../src/adapters/types.js'
import type {Target} from '../../src/config/targets.js'
import type {Envelope} from '../../src/envelope/envelope.js'
import {payloadBytes} from '../../src/envelope/payload.js'
import {ExitCode} from '../../src/errors.js'
import {deliveryId, idOf} from '../../src/services/replay/replay.js'

/** What a broker needs to give the contract suite. */
export interface ContractSubject {
  open(): Promise<BrokerAdapter>
  /** A fresh, empty, existing topic/queue (unique name). */
  freshTarget(): Promise<Target>
  /** A target that does not exist. */
  missingTarget(): Promise<Target>
  /** How to read "everything there is, then stop" on this broker. */
  readAll: ReadOptions
  /** What a consuming read needs besides `consume` (Kafka: the group that records it). */
  consumeWith?: () => Partial<ReadOptions>
  /**
   * For live-only targets (a Pub/Sub topic): a target made now that keeps what is published to
   * `target` from now on, to be read back any number of times (a subscription, peeked).
   */
  backlogOf?(target: Target): Promise<Target>
  /** Documented exceptions the broker or its client forces (each has its own test elsewhere). */
  exceptions?: {
    /** The broker cannot carry a header whose value is null (SQS attributes). */
    noNullHeaderValues?: boolean
    /** Header names must be unique (SQS attributes). */
    uniqueHeaderNames?: boolean
    /** Header values must be text (Pub/Sub attributes). */
    textHeadersOnly?: boolean
    /** Messages have no key (SQS). */
    noKeys?: boolean
    /** A message needs a body (SQS). */
    noTombstones?: boolean
    /** No order between messages (SQS standard queues): compare as sets. */
    unordered?: boolean
    /** Headers come back sorted by name, as the broker keeps no order (SQS attributes). */
    headersByName?: boolean
    /**
     * A read sees only what is published after it starts (a Pub/Sub topic): round trips are read
     * live, and "read twice" reads `backlogOf(target)` instead.
     */
    liveOnly?: boolean
  }
}

function samplesFor(s: ContractSubject): Envelope[] {
  const x = s.exceptions ?? {}
  return FIDELITY_SAMPLES.filter((e) => !(x.noTombstones && e.value === null)).map((e) => {
    let headers = e.headers
    if (headers && x.noNullHeaderValues) headers = headers.filter(([, v]) => v !== null)
    if (headers && x.textHeadersOnly) headers = headers.filter(([, v]) => v === null || !('base64' in v))
    if (headers && x.uniqueHeaderNames)
      headers = headers.filter(([n], i, all) => all.findIndex(([m]) => m === n) === i)
    const {key: _key, ...rest} = e
    return {...(x.noKeys ? rest : e), ...(headers ? {headers} : {})}
  })
}

/** Hex of key, value and headers: what must survive a round trip. */
function fingerprint(e: Envelope, byName = false): string {
  const hex = (p: Envelope['value'] | undefined) => (p == null ? 'null' : payloadBytes(p).toString('hex'))
  const headers = (e.headers ?? []).map(([n, v]) => [n, hex(v)])
  if (byName) headers.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0))
  return JSON.stringify([hex(e.key), hex(e.value), headers])
}

async function collect(it: AsyncIterable<Delivery>, max = Number.POSITIVE_INFINITY): Promise<Envelope[]> {
  const out: Envelope[] = []
  for await (const d of it) {
    out.push(d.envelope)
    if (out.length >= max) break
  }
  return out
}

/**
 * A fresh target of `s` with three sample messages published to it; resolves with where to read
 * them back (a live-only subject's backlog).
 */
async function threePublished(s: ContractSubject, adapter: BrokerAdapter): Promise<Target> {
  if (s.exceptions?.liveOnly && !s.backlogOf) throw new Error('a live-only subject needs backlogOf')
  const target = await s.freshTarget()
  const readTarget = s.backlogOf ? await s.backlogOf(target) : target
  await adapter.publish(target, from(samplesFor(s).slice(0, 3)), {signal: new AbortController().signal})
  return readTarget
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items
}

const bytes = (...b: number[]) => ({base64: Buffer.from(b).toString('base64')})

/** Envelopes that stress fidelity: binary, invalid UTF-8, duplicate headers, tombstones, JSON. */
export const FIDELITY_SAMPLES: Envelope[] = [
  {v: 1, key: {utf8: 'order-1'}, value: {json: {id: 1, total: 42.5, tags: ['a', 'b']}}},
  {v: 1, key: bytes(0, 1, 2, 255), value: bytes(0xff, 0xfe, 0x00, 0x80, 0x0a)},
  {
    v: 1,
    key: {utf8: 'dup'},
    headers: [
      ['trace-id', {utf8: 'abc'}],
      ['dup', {utf8: 'first'}],
      ['dup', {utf8: 'second'}],
      ['bin', bytes(0, 1)],
      ['empty', null],
    ],
    value: {utf8: 'plain text with\nnewline and ünïcödé'},
  },
  {v: 1, key: {utf8: 'gone'}, value: null},
  {v: 1, value: {utf8: '{ "not": "canonical" }'}},
]

/**
 * The promises every adapter keeps. Runs against the file broker always and against each real
 * broker in integration. A broker that cannot keep one says so through its capabilities.
 */
export function describeBrokerContract(name: string, subject: () => ContractSubject): void {
  describe(`broker contract: ${name}`, () => {
    test('does what it declares it can do (capabilities checked by behaviour)', async () => {
      const s = subject()
      const adapter = await s.open()
      try {
        const target = await s.freshTarget()
        const can = capabilitiesOf(target)
        // Keys: a broker that claims them returns them (the round trip below compares them);
        // one that does not is the one whose samples must drop them.
        expect(can.keys).toBe(!s.exceptions?.noKeys)
        expect(can.follow).toBe(true) // the follow tests below run on every broker
        if (!can.seekOffset && !can.seekTime) return
        if (s.exceptions?.liveOnly) return // a live-only topic cannot be read from the past here
        const at = (sec: number) => `2026-01-01T00:00:0${sec}.000Z`
        const three: Envelope[] = ['a', 'b', 'c'].map((v, i) => ({v: 1, timestamp: at(i), value: {utf8: v}}))
        await adapter.publish(target, from(three), {signal: new AbortController().signal})
        const all = await collect(adapter.read(target, s.readAll, new AbortController().signal))
        const text = (xs: Envelope[]) => xs.map((e) => payloadBytes(e.value!).toString())
        expect(text(all)).toEqual(['a', 'b', 'c'])
        const readFrom = async (start: ReadOptions['from']) =>
          text(await collect(adapter.read(target, {...s.readAll, from: start}, new AbortController().signal)))
        if (can.seekOffset) {
          expect(await readFrom({kind: 'offset', offset: BigInt(all[1]!.offset!)})).toEqual(['b', 'c'])
          expect(await readFrom({kind: 'last', count: 1})).toEqual(['c'])
        }
        if (can.seekTime) expect(await readFrom({kind: 'time', time: new Date(at(1))})).toEqual(['b', 'c'])
      } finally {
        await adapter.close()
      }
    })

    test('consume: where the target can, an acked message is gone; elsewhere a consuming read is refused (exit 6)', async () => {
      const s = subject()
      const adapter = await s.open()
      try {
        const fresh = await s.freshTarget()
        // Pub/Sub: a topic has nothing to ack, its subscription can be consumed.
        const backlog = !capabilitiesOf(fresh).consume && s.backlogOf ? await s.backlogOf(fresh) : undefined
        const target = backlog && capabilitiesOf(backlog).consume ? backlog : fresh
        if (target !== fresh) {
          await expect(
            collect(adapter.read(fresh, {...s.readAll, consume: true}, new AbortController().signal)),
          ).rejects.toMatchObject({exitCode: ExitCode.Unsupported})
        }
        if (!capabilitiesOf(target).consume) {
          await expect(
            collect(adapter.read(target, {...s.readAll, consume: true}, new AbortController().signal)),
          ).rejects.toMatchObject({exitCode: ExitCode.Unsupported})
          return
        }
        const three: Envelope[] = ['a', 'b', 'c'].map((v) => ({v: 1, value: {utf8: v}}))
        await adapter.publish(fresh, from(three), {signal: new AbortController().signal})
        const consuming: ReadOptions = {...s.readAll, consume: true, ...s.consumeWith?.()}
        for await (const d of adapter.read(target, {...consuming, max: 1}, new AbortController().signal)) {
          await d.ack()
          await d.ack() // idempotent
          break
        }
        // A second consuming read, giving back what it reads, finds exactly the two not taken; what
        // it gave back is there for a third. (A message read and neither acked nor given back
        // stays the reader's when the read ends by itself: SQS keeps it hidden, Pub/Sub leased.)
        const left: Envelope[] = []
        for await (const d of adapter.read(target, consuming, new AbortController().signal)) {
          left.push(d.envelope)
          await d.release()
          await d.release() // idempotent
        }
        // (Which one was taken first is the broker's choice: SQS and Pub/Sub do not promise order.)
        expect(left.map((e) => payloadBytes(e.value!).toString()).sort()).toHaveLength(2)
        expect(new Set(left.map((e) => payloadBytes(e.value!).toString())).size).toBe(2)
        expect(await collect(adapter.read(target, consuming, new AbortController().signal))).toHaveLength(2)
      } finally {
        await adapter.close()
      }
    })

    test('publish settles each message once (onSettled), in agreement with its report', async () => {
      const s = subject()
      const adapter = await s.open()
      try {
        const target = await s.freshTarget()
        const want = samplesFor(s)
        const outcomes = new Map<number, PublishOutcome>()
        const twice: number[] = []
        const report = await adapter.publish(target, from(want), {
          signal: new AbortController().signal,
          onSettled: (i, o) => {
            if (outcomes.has(i)) twice.push(i)
            outcomes.set(i, o)
          },
        })
        expect(twice).toEqual([])
        expect([...outcomes.keys()].sort((a, b) => a - b)).toEqual(want.map((_, i) => i))
        expect([...outcomes.values()].filter((o) => o.status === 'sent')).toHaveLength(report.sent)
        expect(report.failed).toEqual([])
      } finally {
        await adapter.close()
      }
    })

    test('round-trips keys, values and headers byte-exact, in order', async () => {
      const s = subject()
      const adapter = await s.open()
      try {
        const target = await s.freshTarget()
        const want = samplesFor(s)
        const controller = new AbortController()
        const live = s.exceptions?.liveOnly
        const reading = live
          ? collect(adapter.read(target, {from: {kind: 'end'}}, controller.signal), want.length)
          : undefined
        if (live) await new Promise((r) => setTimeout(r, 1_000))
        const report = await adapter.publish(target, from(want), {signal: new AbortController().signal})
        expect(report).toEqual({sent: want.length, failed: []})
        const got = reading
          ? await reading
          : await collect(adapter.read(target, s.readAll, controller.signal))
        controller.abort()
        expect(got).toHaveLength(want.length)
        const sortIf = (xs: string[]) => (s.exceptions?.unordered ? [...xs].sort() : xs)
        expect(sortIf(got.map((e) => fingerprint(e, s.exceptions?.headersByName)))).toEqual(
          sortIf(want.map((e) => fingerprint(e, s.exceptions?.headersByName))),
        )
        for (const env of got) {
          expect(env.source).toBe(target.url)
          expect(env.offset).toBeDefined()
          expect(env.timestamp).toBeDefined()
        }
      } finally {
        await adapter.close()
      }
    })

    test('reading has no side effects: a second read sees the same messages', async () => {
      const s = subject()
      const adapter = await s.open()
      try {
        const readTarget = await threePublished(s, adapter)
        const first = await collect(adapter.read(readTarget, s.readAll, new AbortController().signal))
        const second = await collect(adapter.read(readTarget, s.readAll, new AbortController().signal))
        const ids = (xs: Envelope[]) => xs.map((e) => e.offset!)
        expect(s.exceptions?.unordered ? ids(second).sort() : ids(second)).toEqual(
          s.exceptions?.unordered ? ids(first).sort() : ids(first),
        )
        expect(first).toHaveLength(3)
      } finally {
        await adapter.close()
      }
    })

    test('a delivery that gives its log position gives the one its envelope holds (the replay journal id)', async () => {
      const s = subject()
      const adapter = await s.open()
      try {
        const readTarget = await threePublished(s, adapter)
        let read = 0
        for await (const d of adapter.read(
          readTarget,
          {...s.readAll, forCopy: true},
          new AbortController().signal,
        )) {
          read++
          // Delivery.partition/offset are a shortcut past the envelope, for adapters whose
          // envelopes have no messageId: the same values, or not given at all.
          if (d.offset !== undefined) {
            expect(d.envelope.meta?.messageId).toBeUndefined()
            expect([d.partition ?? 0, d.offset]).toEqual([d.envelope.partition ?? 0, d.envelope.offset])
            expect(deliveryId(d)).toBe(idOf(d.envelope))
          } else expect(d.partition).toBeUndefined()
        }
        expect(read).toBe(3)
      } finally {
        await adapter.close()
      }
    })

    test('a following read stops within one poll of an abort', async () => {
      const s = subject()
      const adapter = await s.open()
      try {
        const target = await s.freshTarget()
        const controller = new AbortController()
        const reading = collect(adapter.read(target, {from: {kind: 'end'}}, controller.signal))
        await new Promise((r) => setTimeout(r, 300))
        const t0 = Date.now()
        controller.abort()
        await reading
        expect(Date.now() - t0).toBeLessThan(2_000)
      } finally {
        await adapter.close()
      }
    })

    test('a following read delivers messages published after it started', async () => {
      const s = subject()
      const adapter = await s.open()
      try {
        const target = await s.freshTarget()
        const controller = new AbortController()
        const reading = collect(adapter.read(target, {from: {kind: 'end'}}, controller.signal), 2)
        await new Promise((r) => setTimeout(r, s.exceptions?.liveOnly ? 1_000 : 300))
        await adapter.publish(target, from(samplesFor(s).slice(0, 2)), {signal: controller.signal})
        const got = await reading
        controller.abort()
        const sortIf = (xs: string[]) => (s.exceptions?.unordered ? [...xs].sort() : xs)
        expect(sortIf(got.map((e) => fingerprint(e, s.exceptions?.headersByName)))).toEqual(
          sortIf(
            samplesFor(s)
              .slice(0, 2)
              .map((e) => fingerprint(e, s.exceptions?.headersByName)),
          ),
        )
      } finally {
        await adapter.close()
      }
    })

    test('a missing target is NotFound (exit 5) and is not created by reading', async () => {
      const s = subject()
      const adapter = await s.open()
      try {
        const target = await s.missingTarget()
        await expect(
          collect(adapter.read(target, s.readAll, new AbortController().signal)),
        ).rejects.toMatchObject({
          exitCode: ExitCode.NotFound,
        })
        await expect(
          collect(adapter.read(target, s.readAll, new AbortController().signal)),
        ).rejects.toMatchObject({
          exitCode: ExitCode.NotFound,
          // The adapter was opened on another target: the error names the one that is missing.
          message: expect.stringContaining(resourceName(target)),
        })
      } finally {
        await adapter.close()
      }
    })

    test('close is idempotent', async () => {
      const adapter = await subject().open()
      await adapter.close()
      await adapter.close()
    })
  })
}

/** The name a user gave for the topic, queue or subscription of `target`. */
function resourceName(target: Target): string {
  switch (target.kind) {
    case 'file':
      return target.name
    case 'kafka':
      return target.topics[0]!
    case 'sqs':
      return target.queueName
    case 'pubsub':
      return target.name
  }
}
