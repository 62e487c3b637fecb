import {
  type BrokerAdapter,
  type Delivery,
  isDeadLetterAware,
  type PublishOptions,
  type ReadOptions,
} from '../../adapters/types.js'
import type {Target} from '../../config/targets.js'
import type {Envelope} from '../../envelope/envelope.js'
import {UsageError} from '../../errors.js'
import {type Emit, info, warning} from '../../events.js'
import {AsyncQueue} from '../../util/async-queue.js'
import type {EventFilter} from '../filter.js'
import {findUnfinished, Journal, type JournalState, journalKey, lastFinished} from './journal.js'
import {originOf} from './origin.js'

/** Messages per batch: one journal sync before sending it, one after, one after removing. */
const BATCH = 100

export interface ReplayOptions {
  source: Target
  /** --to: every message goes here; otherwise each goes back where it came from (originOf). */
  to?: Target
  mode: 'move' | 'copy'
  dryRun: boolean
  /** Where the read starts and stops (tail's grammar); always finite. */
  read: Pick<ReadOptions, 'from' | 'until' | 'partitions'>
  filter?: EventFilter
  /** Replay at most this many (selected) messages. */
  max?: number
  /** Start a new run even if an unfinished one of the same command exists. */
  fresh: boolean
  journalDir: string
  /** What the filters were, as given: part of what makes "the same command" for a resume. */
  filterSpec: Record<string, unknown>
  open(target: Target): Promise<BrokerAdapter>
  signal: AbortSignal
  emit: Emit
  /** SQS: how long received messages stay hidden while replayed (default 30 s). */
  holdSeconds?: number
  /** Test-only: SIGKILL the process at a step (`after-select:2` = in the 2nd batch). */
  fault?: string
}

export interface ReplayReport {
  source: string
  destinations: Array<{target: string; count: number}>
  mode: 'move' | 'copy'
  dryRun: boolean
  /** Messages chosen by the filters (this run, resumed ones included). */
  selected: number
  sent: number
  removedFromSource: number
  skipped: Array<{id: string; reason: string}>
  failed: Array<{id: string; error: string}>
  possibleDuplicates: Array<{id: string; why: string}>
  /** Resumed: sent by the interrupted run and removed from the source now, not sent again. */
  completedFromJournal: number
  journal?: string
  run?: string
  resumed: boolean
  durationMs: number
}

/** The identity of a source message in the journal: the broker's id, else partition and offset. */
export function idOf(env: Envelope): string {
  const id = env.meta?.messageId
  return typeof id === 'string' ? id : `${env.partition ?? 0}:${env.offset ?? ''}`
}

/**
 * Replays: reads the source (consuming for a move: each message is removed only once the
 * destination confirmed its copy), sends each selected message to its destination, and journals
 * every step, so a rerun of the same command finishes what an interrupted one started. Never
 * removes a message whose copy the destination did not confirm; unselected messages are given
 * back untouched.
 */
export async function replay(opts: ReplayOptions): Promise<ReplayReport> {
  const started = Date.now()
  const {source, mode} = opts
  const key = journalKey({
    source: source.url,
    to: opts.to?.url ?? '(origin)',
    mode,
    from: opts.read.from,
    until: opts.read.until ?? null,
    partitions: opts.read.partitions ?? null,
    filters: opts.filterSpec,
    max: opts.max ?? null,
  })
  const state: JournalState | undefined =
    opts.dryRun || opts.fresh ? undefined : await findUnfinished(opts.journalDir, key)
  const report: ReplayReport = {
    source: source.url,
    destinations: [],
    mode,
    dryRun: opts.dryRun,
    selected: 0,
    sent: 0,
    removedFromSource: 0,
    skipped: [],
    failed: [],
    possibleDuplicates: [],
    completedFromJournal: 0,
    resumed: state !== undefined,
    durationMs: 0,
  }
  const perDest = new Map<string, {target: Target; count: number}>()
  const src = await opts.open(source)
  const dests = new Map<string, BrokerAdapter>()
  const destAdapter = async (t: Target) => {
    const k = `${t.kind}|${connectionOf(t)}`
    let a = dests.get(k)
    if (!a) {
      a = await opts.open(t)
      dests.set(k, a)
    }
    return a
  }
  let journal: Journal | undefined
  if (!opts.dryRun && !state) {
    const finished = await lastFinished(opts.journalDir, key)
    if (finished)
      opts.emit(
        warning(
          'ALREADY_REPLAYED',
          `this same replay finished before (run ${finished.run}, ${finished.at}); running it again replays the same messages again${mode === 'copy' ? ' (the source still holds them: the destination gets second copies)' : ''}.`,
        ),
      )
  }
  if (!opts.dryRun) {
    journal = state
      ? await Journal.reopen(state)
      : await Journal.create(opts.journalDir, key, {
          source: source.url,
          destination: opts.to?.url ?? '(origin)',
          mode,
        })
    report.journal = journal.path
    report.run = journal.run
    opts.emit(
      info(
        'READ_PLAN',
        state
          ? `Resuming replay run ${journal.run} (journal ${journal.path}): ${state.sentNotRemoved.size} sent message(s) still to remove from the source${state.maybeSent.size ? `, ${state.maybeSent.size} that may have been sent` : ''}. Use --fresh to start over.`
          : `Replay run ${journal.run} (${mode}); journal: ${journal.path}`,
      ),
    )
  }
  let batchNo = 0
  const fault = (point: string) => {
    if (opts.fault === `${point}:${batchNo}`) process.kill(process.pid, 'SIGKILL')
  }

  // The read runs ahead by at most two batches; a move consumes, so what it holds is hidden from
  // the source's other consumers until removed or given back.
  const readOpts: ReadOptions = {
    ...opts.read,
    until: opts.read.until ?? {kind: 'end'},
    ...(mode === 'move' && !opts.dryRun ? {consume: true} : {}),
    ...(source.kind === 'sqs' ? {holdSeconds: opts.holdSeconds ?? 30} : {}),
    emit: (e) => {
      if (e.level === 'warning' || e.code === 'READ_SUMMARY') opts.emit(e)
    },
  }
  const stopReading = new AbortController()
  const reading = AbortSignal.any([opts.signal, stopReading.signal])
  const queue = new AsyncQueue<Delivery>(BATCH * 2)
  const pump = (async () => {
    try {
      for await (const d of src.read(source, readOpts, reading)) {
        await queue.push(d)
        if (reading.aborted) break
      }
      queue.close()
    } catch (err) {
      queue.close(reading.aborted ? undefined : err)
    }
  })()
  const it = queue[Symbol.asyncIterator]()
  let reachedMax = false
  try {
    while (!reachedMax && !opts.signal.aborted) {
      const first = await it.next()
      if (first.done) break
      const batch: Delivery[] = [first.value]
      while (batch.length < BATCH && queue.size > 0) {
        const n = await it.next()
        if (n.done) break
        batch.push(n.value)
      }
      batchNo++
      fault('after-receive')
      // Sort the batch: finish what the journal says was sent; leave alone what is not selected.
      const toRemove: Delivery[] = []
      const selected: Array<{d: Delivery; id: string; dest: Target}> = []
      for (const d of batch) {
        const env = d.envelope
        const id = idOf(env)
        if (state && mode === 'move' && state.sentNotRemoved.has(id)) {
          toRemove.push(d)
          report.completedFromJournal++
          continue
        }
        if (state && mode === 'copy' && alreadyCopied(state, env, id)) continue
        if (reachedMax || (opts.filter && !(await opts.filter(env)))) {
          await d.release()
          continue
        }
        const dest =
          opts.to ??
          originOf(source, env) ??
          (isDeadLetterAware(src) && src.originOf ? await src.originOf(source, env) : undefined)
        if (!dest) {
          if (report.selected === 0 && selected.length === 0 && !state) {
            await Promise.allSettled(batch.map((x) => x.release()))
            throw new UsageError(
              `Message ${id} of ${source.url} does not say where it came from, so there is nowhere to put it back.`,
              'Give the destination: --to TARGET.',
              'NO_DESTINATION',
            )
          }
          report.skipped.push({id, reason: 'does not say where it came from; give --to'})
          journal?.add({t: 'skipped', id, reason: 'no origin'})
          await d.release()
          continue
        }
        if (state?.maybeSent.has(id))
          report.possibleDuplicates.push({id, why: 'the interrupted run may have sent it before it stopped'})
        selected.push({d, id, dest})
        report.selected++
        if (opts.max !== undefined && report.selected >= opts.max) reachedMax = true
      }
      for (const s of selected) {
        const p = perDest.get(s.dest.url) ?? {target: s.dest, count: 0}
        p.count++
        perDest.set(s.dest.url, p)
      }
      if (opts.dryRun) {
        await Promise.allSettled([...selected.map((s) => s.d.release()), ...toRemove.map((d) => d.release())])
        continue
      }
      const j = journal!
      if (selected.length > 0) {
        j.add({t: 'selected', ids: selected.map((s) => s.id)})
        await j.sync()
      }
      fault('after-select')
      // Send, per destination; the batch is finished even on Ctrl-C (the journal then says so).
      const sentIds = new Set<string>()
      /** Source id → the destination's id or partition:offset for its copy. */
      const sentAs = new Map<string, string | undefined>()
      for (const group of groupBy(selected, (s) => s.dest.url)) {
        const dest = group[0]!.dest
        const adapter = await destAdapter(dest)
        const outcomes = new Map<number, {ok: boolean; as?: string; error?: string}>()
        await adapter.publish(
          dest,
          (async function* () {
            for (const s of group) yield prepare(s.d.envelope, s.id, j.run)
          })(),
          {
            signal: new AbortController().signal,
            ...destinationSettings(dest),
            emit: opts.emit,
            onSettled: (i, o) =>
              outcomes.set(
                i,
                o.status === 'sent'
                  ? {ok: true, ...((o.id ?? o.offset) ? {as: o.id ?? `${o.partition}:${o.offset}`} : {})}
                  : {ok: false, error: o.status === 'failed' ? o.error : o.reason},
              ),
          },
        )
        group.forEach((s, i) => {
          const o = outcomes.get(i)
          if (o?.ok) {
            sentIds.add(s.id)
            sentAs.set(s.id, o.as)
            return
          }
          const error = o?.error ?? 'no answer from the destination'
          report.failed.push({id: s.id, error})
          j.add({t: 'failed', id: s.id, error})
        })
      }
      fault('after-send')
      const sent = selected.filter((s) => sentIds.has(s.id))
      if (sent.length > 0)
        j.add({t: 'sent', ids: sent.map((s) => s.id), as: sent.map((s) => sentAs.get(s.id))})
      if (mode === 'copy') for (const p of progressOf(batch)) j.add(p)
      await j.sync()
      report.sent += sent.length
      fault('after-journal')
      // Move: remove from the source only what the destination confirmed (and what a resumed run
      // had sent); a failed copy's source message is given back and stays.
      if (mode === 'move') {
        const failedHere = selected.filter((s) => !sentIds.has(s.id))
        await Promise.allSettled(failedHere.map((s) => s.d.release()))
        const removing = [...sent.map((s) => s.d), ...toRemove]
        const results = await Promise.allSettled(removing.map((d) => d.ack()))
        const removed = removing.filter((_, i) => results[i]!.status === 'fulfilled')
        results.forEach((r, i) => {
          if (r.status === 'rejected')
            opts.emit(
              warning(
                'NOT_ACKNOWLEDGED',
                `Message ${idOf(removing[i]!.envelope)} was copied but not removed from the source (${(r.reason as Error).message}); a rerun removes it without sending it again.`,
              ),
            )
        })
        if (removed.length > 0) {
          j.add({t: 'removed', ids: removed.map((d) => idOf(d.envelope))})
          await j.sync()
        }
        report.removedFromSource += removed.length
        fault('after-remove')
      }
    }
    if (reachedMax) stopReading.abort()
    await pump
    if (journal && !opts.signal.aborted) {
      journal.add({t: 'done', at: new Date().toISOString()})
      await journal.sync()
    }
  } catch (err) {
    // Stopped before anything was sent or removed (no destination, a missing destination): the
    // journal holds nothing a rerun needs, and would make it claim a resume and possible duplicates.
    if (journal && !state && report.sent === 0 && report.removedFromSource === 0) {
      await journal.discard()
      journal = undefined
    }
    throw err
  } finally {
    stopReading.abort()
    queue.close()
    await pump.catch(() => {})
    await journal?.close()
  }
  report.destinations = [...perDest.values()].map((d) => ({target: d.target.url, count: d.count}))
  report.durationMs = Date.now() - started
  return report
}

/** A log copy resumed: what the interrupted run finished is below its recorded progress. */
function alreadyCopied(state: JournalState, env: Envelope, id: string): boolean {
  if (state.sent.has(id)) return true
  const next = state.progress.get(env.partition ?? 0)
  return (
    next !== undefined && env.offset !== undefined && /^\d+$/.test(env.offset) && BigInt(env.offset) < next
  )
}

/** Per partition, the offset after the batch's last message (logs only: numeric offsets). */
function progressOf(batch: Delivery[]): Array<{t: 'progress'; partition: number; next: string}> {
  const next = new Map<number, bigint>()
  for (const d of batch) {
    const o = d.envelope.offset
    if (o === undefined || !/^\d+$/.test(o)) return []
    const p = d.envelope.partition ?? 0
    const n = BigInt(o) + 1n
    if (n > (next.get(p) ?? -1n)) next.set(p, n)
  }
  return [...next].map(([partition, n]) => ({t: 'progress', partition, next: String(n)}))
}

/**
 * The copy as it is sent: the source's position dropped (the destination gives its own); on a
 * FIFO message, a deduplication id from the source message and the run, so a retry within SQS's
 * 5-minute window is not sent twice while a new run is not taken for a duplicate.
 */
function prepare(env: Envelope, id: string, run: string): Envelope {
  const {source: _s, partition: _p, offset: _o, ...rest} = env
  if (rest.meta?.groupId === undefined) return rest
  const dedupId = `${run}-${id}`.replace(/[^A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '').slice(0, 128)
  return {...rest, meta: {...rest.meta, dedupId}}
}

/** Kafka destinations: acks from all in-sync replicas, and the idempotent producer. */
function destinationSettings(dest: Target): Partial<PublishOptions> {
  return dest.kind === 'kafka' ? {acks: -1, idempotent: true} : {}
}

function connectionOf(t: Target): string {
  switch (t.kind) {
    case 'kafka':
      return t.brokers.join(',')
    case 'sqs':
      return `${t.endpoint ?? ''}|${t.region ?? ''}`
    case 'pubsub':
      return t.project
    case 'file':
      return ''
  }
}

function groupBy<T>(items: T[], key: (t: T) => string): T[][] {
  const m = new Map<string, T[]>()
  for (const x of items) m.set(key(x), [...(m.get(key(x)) ?? []), x])
  return [...m.values()]
}
