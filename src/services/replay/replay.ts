import {setTimeout as delay} from 'node:timers/promises'
import {
  type BatchSender,
  type BrokerAdapter,
  type Delivery,
  isDeadLetterAware,
  type PublishOptions,
  type ReadOptions,
} from '../../adapters/types.js'
import {prepareDecoded} from '../../codecs/chain.js'
import type {Target} from '../../config/targets.js'
import {carryRead, type Envelope} from '../../envelope/envelope.js'
import {UsageError} from '../../errors.js'
import {type Emit, info, warning} from '../../events.js'
import {AsyncQueue} from '../../util/async-queue.js'
import {rateLimiter} from '../../util/rate.js'
import type {EventFilter} from '../filter.js'
import {findUnfinished, Journal, type JournalState, journalKey, lastFinished} from './journal.js'
import {originOf} from './origin.js'
import {openSender} from './sink.js'

/**
 * Messages per batch (the most a kill can leave possibly duplicated): a queue hands out ten per
 * receive and holds what is received, so its batches are small; a log's are larger, as each
 * costs a produce round trip and an fsync (1,000: one produce request of ~250 KB for 200-byte messages).
 */
const BATCH = {queue: 100, log: 1000}
/** Batches being removed from the source (a move) while the next one sends. */
const REMOVING = 4

interface Selected {
  d: Delivery
  id: string
  dest: Target
}

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
  /** Schema decoders for --where (the filter sees decoded values; copies stay the source's bytes). */
  decoding?: Parameters<typeof prepareDecoded>[1]
  /** --rate: at most this many messages sent per second. */
  rate?: number
  /** --mark: provenance headers on every copy (evtctl-replay-run, evtctl-replayed-from). */
  mark?: boolean
  /** --keep-partitions (Kafka destination): each copy to its source partition. */
  keepPartitions?: boolean
  /** --new-timestamps: copies get the time of the replay, not the original's timestamp. */
  newTimestamps?: boolean
  /**
   * --commit-group (Kafka source): the read starts where this group's commits say (elsewhere at
   * `read.from`), and each message handled — copied and confirmed, or left out by the filters —
   * is committed for the group after its batch was journaled. The group's progress never passes
   * a message that failed or was skipped.
   */
  commitGroup?: string
  /** After each batch: messages read from the source so far, and sent. */
  onProgress?(p: {read: number; sent: number}): void
  /**
   * Test-only: SIGKILL the process at a step (`after-select:2` = in the 2nd batch; `before-report`
   * = all done, before the report is given).
   */
  fault?: string
  /** Test-only: messages per batch (so a small topic still makes several batches to kill in). */
  batchSize?: number
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
  /** --commit-group: messages committed for the group, and handled ones it could not commit. */
  committed?: {group: string; messages: number; notCommitted: number}
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

/** idOf its envelope, without making the envelope where the delivery knows its log position. */
export function deliveryId(d: Delivery): string {
  return d.offset !== undefined ? `${d.partition ?? 0}:${d.offset}` : idOf(d.envelope)
}

/** A replay that ran: its report, and the step that marks its journal finished. */
export interface ReplayRun {
  report: ReplayReport
  /**
   * Marks the run finished in its journal (a rerun then starts a new run instead of resuming).
   * Call it once the report has been given: a run killed before anyone saw its report is resumed
   * by a rerun, which finds nothing left to do, rather than replayed a second time. Does nothing
   * for a dry run, an interrupted run or one that failed.
   */
  finish(): Promise<void>
}

/**
 * Replays: reads the source (consuming for a move: each message is removed only once the
 * destination confirmed its copy), sends each selected message to its destination, and journals
 * every step, so a rerun of the same command finishes what an interrupted one started. Never
 * removes a message whose copy the destination did not confirm; unselected messages are given
 * back untouched.
 */
export async function replay(opts: ReplayOptions): Promise<ReplayRun> {
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
    ...(opts.commitGroup !== undefined ? {commitGroup: opts.commitGroup} : {}),
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
    ...(opts.commitGroup !== undefined
      ? {committed: {group: opts.commitGroup, messages: 0, notCommitted: 0}}
      : {}),
  }
  const copyOptions: CopyOptions = {
    ...(opts.keepPartitions ? {keepPartitions: true} : {}),
    ...(opts.newTimestamps ? {newTimestamps: true} : {}),
    ...(opts.mark ? {markFrom: source.url} : {}),
  }
  /** --rate: one tick per selected message (p-throttle spreads them over each second). */
  const tick = opts.rate ? rateLimiter(opts.rate, opts.signal) : undefined
  /** Smaller batches under a low --rate, so sending is smooth rather than a burst per batch. */
  const fullBatch = source.kind === 'kafka' || source.kind === 'file' ? BATCH.log : BATCH.queue
  const batchSize =
    opts.batchSize ?? (opts.rate ? Math.max(1, Math.min(fullBatch, Math.ceil(opts.rate / 10))) : fullBatch)
  /** SQS move: how long each received message stays hidden while replayed. */
  const holdSeconds = source.kind === 'sqs' && mode === 'move' ? (opts.holdSeconds ?? 30) : undefined
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
  /** One publish kept open per destination for the whole run. */
  const sinks = new Map<string, Promise<BatchSender>>()
  const sinkFor = (dest: Target) => {
    let sink = sinks.get(dest.url)
    if (!sink) {
      sink = destAdapter(dest).then((a) =>
        openSender(a, dest, {
          ...destinationSettings(dest),
          ...(opts.keepPartitions ? {keepPartitions: true} : {}),
          emit: opts.emit,
        }),
      )
      sinks.set(dest.url, sink)
    }
    return sink
  }
  let journal: Journal | undefined
  /** The journal of a run that went to its end: marked done by finish(). */
  let finishedJournal: Journal | undefined
  // With --commit-group a rerun starts where the group's commits say: no second copies.
  if (!opts.dryRun && !state && opts.commitGroup === undefined) {
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
          ...(holdSeconds !== undefined ? {holdSeconds} : {}),
        })
    report.journal = journal.path
    report.run = journal.run
    opts.emit(
      info(
        'READ_PLAN',
        state
          ? `Resuming replay run ${journal.run} (journal ${journal.path}): ${mode === 'move' ? `${state.sentNotRemoved.size} sent message(s) still to remove from the source` : 'what it copied is not copied again'}${state.maybeSent.size ? `, ${state.maybeSent.size} that may have been sent` : ''}. Use --fresh to start over.`
          : `Replay run ${journal.run} (${mode}); journal: ${journal.path}`,
      ),
    )
  }
  // An interrupted SQS move's messages are hidden until its hold runs out: wait for them, so that
  // this one rerun finishes the job.
  if (state && !opts.dryRun && holdSeconds !== undefined) {
    const back = state.lastWrite + (state.holdSeconds ?? holdSeconds) * 1000 + 1000 - Date.now()
    if (back > 0) {
      opts.emit(
        info(
          'RESUME_WAIT',
          `Waiting ${Math.ceil(back / 1000)} s for the messages the interrupted run held to come back (their SQS visibility timeout)…`,
        ),
      )
      await delay(back, undefined, {signal: opts.signal}).catch(() => {}) // Ctrl-C: stop waiting
    }
  }
  let batchNo = 0
  const fault = (point: string, n: number) => {
    if (opts.fault === `${point}:${n}`) process.kill(process.pid, 'SIGKILL')
  }

  // The read runs ahead by at most two batches; a move consumes, so what it holds is hidden from
  // the source's other consumers until removed or given back.
  // --commit-group: the read commits the acks of the last batches after it handed them over.
  let acksDone = () => {}
  const acksEnd = new Promise<void>((resolve) => {
    acksDone = resolve
  })
  const readOpts: ReadOptions = {
    ...opts.read,
    until: opts.read.until ?? {kind: 'end'},
    // Payloads keep the bytes read and skip JSON recognition — except into a file topic, which
    // stores envelopes as they are: there a JSON value should stay {json}, as publish stores it.
    forCopy: opts.to?.kind !== 'file',
    ...(opts.commitGroup !== undefined ? {consume: true, group: opts.commitGroup, acksUntil: acksEnd} : {}),
    ...(mode === 'move' && !opts.dryRun ? {consume: true, batched: true} : {}),
    ...(source.kind === 'sqs' ? {holdSeconds: holdSeconds ?? opts.holdSeconds ?? 30} : {}),
    emit: (e) => {
      if (e.level === 'warning' || e.code === 'READ_SUMMARY') opts.emit(e)
    },
  }
  const stopReading = new AbortController()
  const reading = AbortSignal.any([opts.signal, stopReading.signal])
  const batchRead = src.readBatches !== undefined
  // What the read hands over, as it hands it (Kafka: a partition's part of a fetch, made into
  // deliveries as they are taken; elsewhere one message at a time). Moving chunks rather than
  // messages through the queue saves a few awaits per message, most of the cost of a fast copy.
  const queue = new AsyncQueue<Iterable<Delivery>>(batchRead ? 2 : batchSize * 2)
  const pump = (async () => {
    try {
      const chunks = batchRead
        ? src.readBatches!(source, readOpts, reading)
        : singles(src.read(source, readOpts, reading))
      for await (const chunk of chunks) {
        await queue.push(chunk)
        if (reading.aborted) break
      }
      queue.close()
    } catch (err) {
      queue.close(reading.aborted ? undefined : err)
    }
  })()
  const chunks = queue[Symbol.asyncIterator]()
  let current: Iterator<Delivery> | undefined
  /** The next batch: waits for a first message, then takes what has arrived, up to batchSize. */
  const nextBatch = async (): Promise<Delivery[]> => {
    const batch: Delivery[] = []
    while (batch.length < batchSize) {
      if (!current) {
        if (batch.length > 0 && queue.size === 0) break
        const c = await chunks.next()
        if (c.done) break
        current = c.value[Symbol.iterator]()
      }
      const r = current.next()
      if (r.done) current = undefined
      else batch.push(r.value)
    }
    return batch
  }
  let reachedMax = false
  /** Messages read from the source (selected or not)… */
  let read = 0
  /** …as of the end of each batch still sending (the progress a batch reports when sent). */
  const readAt = new Map<number, number>()
  const readBy = (n: number) => {
    const r = readAt.get(n) ?? read
    readAt.delete(n)
    return r
  }

  /**
   * One batch's journey, in two stages. Sending (journal "selected" → send → journal "sent") is
   * one batch at a time, in order: the destination sees the source's order, a kill leaves at most
   * one batch that may have been sent, and a log copy's progress only ever moves forward.
   * Removing from the source (a move) overlaps the next batch's send.
   */
  const send = async (n: number, selected: Selected[], batch: Delivery[]): Promise<Selected[]> => {
    const j = journal!
    await j.sync() // its "selected" record (usually written already, with the previous batch's "sent")
    fault('after-select', n)
    /** Per selected message: sent, and as what (the destination's id or partition:offset). */
    const ok: boolean[] = new Array(selected.length).fill(false)
    const as: Array<string | undefined> = new Array(selected.length).fill(undefined)
    // Each destination's copies at once; the batch is finished even on Ctrl-C (the journal then
    // says so).
    await Promise.all(
      byDestination(selected).map(async (group) => {
        const sink = await sinkFor(selected[group[0]!]!.dest)
        const outcomes =
          (await sendAsRead(sink, group, selected)) ??
          (await sink.send(
            group.map((i) => prepare(selected[i]!.d.envelope, selected[i]!.id, j.run, copyOptions)),
          ))
        group.forEach((i, n) => {
          const o = outcomes[n]!
          if (o.status === 'sent') {
            ok[i] = true
            if (o.id !== undefined || o.offset !== undefined) as[i] = o.id ?? `${o.partition}:${o.offset}`
            return
          }
          const error = o.status === 'failed' ? o.error : o.reason
          const id = selected[i]!.id
          report.failed.push({id, error})
          j.add({t: 'failed', id, error})
        })
      }),
    )
    fault('after-send', n)
    const sent = selected.filter((_, i) => ok[i])
    if (sent.length > 0)
      j.add({
        t: 'sent',
        ids: sent.map((s) => s.id),
        ...(as.some((x) => x !== undefined) ? {as: as.filter((_, i) => ok[i])} : {}),
      })
    if (mode === 'copy') for (const p of progressOf(batch)) j.add(p)
    await j.sync()
    report.sent += sent.length
    opts.onProgress?.({read: readBy(n), sent: report.sent})
    fault('after-journal', n)
    return sent
  }
  /**
   * The copies as their source read them, where the destination writes such reads (Kafka →
   * Kafka): the same bytes prepare() would keep, without making an envelope per message. Not
   * with --mark, which adds headers.
   */
  const sendAsRead = async (sink: BatchSender, group: number[], selected: Selected[]) => {
    if (!sink.sendAsRead || !asReadCopies(copyOptions)) return undefined
    const reads = group.map((i) => selected[i]!.d.asRead)
    if (reads.some((r) => r === undefined)) return undefined
    return sink.sendAsRead(reads, copyOptions.newTimestamps ? {newTimestamps: true} : {})
  }
  /** Move: remove from the source only what the destination confirmed (and what a resumed run had
   * sent); a failed copy's source message is given back and stays. */
  const remove = async (n: number, selected: Selected[], sent: Selected[], toRemove: Delivery[]) => {
    const j = journal!
    const sentIds = new Set(sent.map((s) => s.id))
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
            `Message ${deliveryId(removing[i]!)} was copied but not removed from the source (${(r.reason as Error).message}); a rerun removes it without sending it again.`,
          ),
        )
    })
    if (removed.length > 0) {
      j.add({t: 'removed', ids: removed.map(deliveryId)})
      await j.sync()
    }
    report.removedFromSource += removed.length
    fault('after-remove', n)
  }
  /**
   * --commit-group: commits what the batch handled (each ack commits once every message before it
   * in its partition is acked too). Not awaited here: an ack behind a failed message waits until
   * the read ends, and is then counted as not committed.
   */
  let acking = 0
  let acksSettled = () => {}
  const commit = (handled: Delivery[], sent: Selected[]) => {
    const c = report.committed!
    const count = (d: Delivery) => {
      acking++
      d.ack()
        .then(
          () => {
            c.messages++
          },
          () => {
            c.notCommitted++
          },
        )
        .finally(() => {
          if (--acking === 0) acksSettled()
        })
    }
    for (const d of handled) count(d)
    for (const s of sent) count(s.d)
  }
  /** Every ack committed or given up (the read gives up what it cannot commit once told the
   * acks are done). */
  const commitsSettled = () =>
    acking === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          acksSettled = resolve
        })
  /** The batch now sending (its promise settles when the next may send). */
  let sending: Promise<unknown> = Promise.resolve()
  const removing = new Set<Promise<void>>()
  let failure: {error: unknown} | undefined
  const track = (p: Promise<void>) => {
    const q = p.catch((error) => {
      failure ??= {error}
    })
    removing.add(q)
    q.finally(() => removing.delete(q))
  }

  try {
    while (!reachedMax && !opts.signal.aborted && !failure) {
      const batch = await nextBatch()
      if (batch.length === 0) break
      const n = ++batchNo
      read += batch.length
      fault('after-receive', n)
      // Sort the batch: finish what the journal says was sent; leave alone what is not selected.
      const toRemove: Delivery[] = []
      const selected: Selected[] = []
      /** Read and deliberately not sent: copied by the interrupted run, or left out by the filters. */
      const handled: Delivery[] = []
      // By index: for…of in this async function made an iterator result per message.
      for (let k = 0; k < batch.length; k++) {
        const d = batch[k]!
        // The envelope only where something looks inside (a copy to Kafka may never make it).
        const id = deliveryId(d)
        if (state && mode === 'move' && state.sentNotRemoved.has(id)) {
          toRemove.push(d)
          report.completedFromJournal++
          continue
        }
        if (state && mode === 'copy' && alreadyCopied(state, d, id)) {
          handled.push(d)
          continue
        }
        if (opts.filter && opts.decoding) await prepareDecoded(d.envelope, opts.decoding)
        if (reachedMax) {
          await d.release()
          continue
        }
        if (opts.filter && !(await opts.filter(d.envelope))) {
          handled.push(d)
          await d.release()
          continue
        }
        const dest =
          opts.to ??
          originOf(source, d.envelope) ??
          (isDeadLetterAware(src) && src.originOf ? await src.originOf(source, d.envelope) : undefined)
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
        if (tick) await tick().catch(() => {}) // Ctrl-C while waiting: the batch still finishes
        selected.push({d, id, dest})
        report.selected++
        if (opts.max !== undefined && report.selected >= opts.max) reachedMax = true
      }
      for (const s of selected) {
        const p = perDest.get(s.dest.url) ?? {target: s.dest, count: 0}
        p.count++
        perDest.set(s.dest.url, p)
      }
      readAt.set(n, read)
      if (opts.dryRun) {
        await Promise.allSettled([...selected.map((s) => s.d.release()), ...toRemove.map((d) => d.release())])
        opts.onProgress?.({read, sent: 0})
        continue
      }
      // Keep at most REMOVING batches being removed, then wait for the previous batch's send. This
      // batch's "selected" record goes into the journal now, so the previous batch's last write
      // may carry it: then one fsync per batch. It is not written sooner: while the previous batch
      // is on its way, a kill would list both batches as possible duplicates. (A kill just after
      // that write lists this batch although it was not sent yet: a false alarm, never a miss.)
      while (removing.size >= REMOVING) await Promise.race(removing)
      if (selected.length > 0) journal!.add({t: 'selected', ids: selected.map((s) => s.id)})
      await sending
      if (failure) {
        await Promise.allSettled([...selected.map((s) => s.d.release()), ...toRemove.map((d) => d.release())])
        break
      }
      const sent = send(n, selected, batch)
      sending = sent.catch(() => {})
      track(
        mode === 'move'
          ? sent.then((ok) => remove(n, selected, ok, toRemove))
          : sent.then((ok) => {
              if (report.committed) commit(handled, ok)
            }),
      )
    }
    await Promise.all(removing)
    acksDone()
    if (failure) throw failure.error
    if (reachedMax) stopReading.abort()
    // Stopped early (--max, Ctrl-C): the read may be waiting for room in the queue; let it go.
    if (reading.aborted) queue.close()
    await pump
    await commitsSettled()
    // A dry run checks that each destination is there (a publish of nothing: the adapters look
    // the topic or queue up first), so the plan does not promise a replay that would fail. The
    // file broker makes its topics on first publish: nothing to check there.
    if (opts.dryRun)
      for (const {target} of perDest.values())
        if (target.kind !== 'file')
          await (await destAdapter(target)).publish(target, (async function* () {})(), {signal: opts.signal})
    if (journal && !opts.signal.aborted) finishedJournal = journal
  } catch (err) {
    await Promise.all(removing)
    // Stopped before anything was sent or removed (no destination, a missing destination): the
    // journal holds nothing a rerun needs, and would make it claim a resume and possible duplicates.
    if (journal && !state && report.sent === 0 && report.removedFromSource === 0) {
      await journal.discard()
      journal = undefined
    }
    throw err
  } finally {
    acksDone()
    await Promise.allSettled([...sinks.values()].map(async (s) => (await s).close()))
    stopReading.abort()
    queue.close()
    await pump.catch(() => {})
    await journal?.close()
  }
  report.destinations = [...perDest.values()].map((d) => ({target: d.target.url, count: d.count}))
  report.durationMs = Date.now() - started
  // Its work done, its report not given yet (the kill the journal's late "done" is for).
  if (opts.fault === 'before-report') process.kill(process.pid, 'SIGKILL')
  return {
    report,
    finish: async () => {
      if (finishedJournal) await Journal.markDone(finishedJournal.path, finishedJournal.run)
    },
  }
}

/** A log copy resumed: what the interrupted run finished is below its recorded progress. */
function alreadyCopied(state: JournalState, d: Delivery, id: string): boolean {
  if (state.sent.has(id)) return true
  // Below the progress but refused or skipped: not copied (tried again, never committed).
  if (state.notCopied.has(id)) return false
  const {partition, offset} = d.offset !== undefined ? d : d.envelope
  const next = state.progress.get(partition ?? 0)
  return next !== undefined && offset !== undefined && /^\d+$/.test(offset) && BigInt(offset) < next
}

/** Per partition, the offset after the batch's last message (logs only: numeric offsets). */
function progressOf(batch: Delivery[]): Array<{t: 'progress'; partition: number; next: string}> {
  const last = new Map<number, string>()
  for (const d of batch) {
    const o = d.offset ?? d.envelope.offset
    if (o === undefined) return []
    const p = (d.offset !== undefined ? d.partition : d.envelope.partition) ?? 0
    const prev = last.get(p)
    // Decimal strings: longer is larger, else compare as text (no BigInt per message).
    if (prev === undefined || o.length > prev.length || (o.length === prev.length && o > prev)) last.set(p, o)
  }
  const out: Array<{t: 'progress'; partition: number; next: string}> = []
  for (const [partition, o] of last) {
    if (!/^\d+$/.test(o)) return []
    out.push({t: 'progress', partition, next: String(BigInt(o) + 1n)})
  }
  return out
}

/**
 * The copy as it is sent: the source's position dropped (the destination gives its own); on a
 * FIFO message, a deduplication id from the source message and the run, so a retry within SQS's
 * 5-minute window is not sent twice while a new run is not taken for a duplicate.
 */
function prepare(env: Envelope, id: string, run: string, how: CopyOptions): Envelope {
  // Field by field (a rest spread of the envelope cost ~1 µs a message on a million-message copy).
  const out: Envelope = {v: env.v, value: env.value}
  const fields = out as unknown as Record<string, unknown>
  for (const k of KEPT) if (env[k] !== undefined) fields[k] = env[k]
  if (how.keepPartitions && env.partition !== undefined) out.partition = env.partition
  if (!how.newTimestamps && env.timestamp !== undefined) out.timestamp = env.timestamp
  carryRead(env, out)
  if (how.markFrom !== undefined)
    out.headers = [
      ...(out.headers ?? []),
      ['evtctl-replay-run', {utf8: run}],
      ['evtctl-replayed-from', {utf8: how.markFrom}],
    ]
  if (out.meta?.groupId === undefined) return out
  const dedupId = `${run}-${id}`.replace(/[^A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '').slice(0, 128)
  return {...out, meta: {...out.meta, dedupId}}
}

/**
 * What a copy takes from its source envelope as it is (the rest is the source's position, which
 * the destination gives anew, and the timestamp and partition, kept as asked). Every field is
 * named in one list or the other, so a new envelope field cannot be dropped unnoticed.
 */
const FIELDS: Record<keyof Envelope, 'kept' | 'position' | 'asked'> = {
  v: 'kept',
  value: 'kept',
  key: 'kept',
  headers: 'kept',
  timestampType: 'kept',
  schema: 'kept',
  decoded: 'kept',
  decodeError: 'kept',
  keySchema: 'kept',
  keyDecoded: 'kept',
  keyDecodeError: 'kept',
  meta: 'kept',
  source: 'position',
  offset: 'position',
  partition: 'asked',
  timestamp: 'asked',
}
const KEPT = (Object.keys(FIELDS) as Array<keyof Envelope>).filter(
  (k) => FIELDS[k] === 'kept' && k !== 'v' && k !== 'value',
)

/** How each copy is made from its source message (the flags of the same names). */
interface CopyOptions {
  keepPartitions?: boolean
  newTimestamps?: boolean
  /** --mark: the source, for the evtctl-replayed-from header. */
  markFrom?: string
}

/**
 * Whether copies made with these options may be sent as their source read them (sendAsRead):
 * only options that leave key, value and headers as read. Every option is named here, so a new
 * one cannot reach the messages-as-read path unnoticed.
 */
function asReadCopies(how: CopyOptions): boolean {
  const leavesBytes: Record<keyof CopyOptions, boolean> = {
    keepPartitions: true, // the sender places each copy
    newTimestamps: true, // passed to sendAsRead
    markFrom: false, // adds headers
  }
  return (Object.keys(how) as Array<keyof CopyOptions>).every((k) => how[k] === undefined || leavesBytes[k])
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

/** One-message chunks, for a read that hands over one message at a time. */
async function* singles(read: AsyncIterable<Delivery>): AsyncGenerator<Delivery[]> {
  for await (const d of read) yield [d]
}

/** The positions of `selected`, grouped by destination (one group per destination, in order). */
function byDestination(selected: Selected[]): number[][] {
  const m = new Map<string, number[]>()
  for (let i = 0; i < selected.length; i++) {
    const k = selected[i]!.dest.url
    const group = m.get(k)
    if (group) group.push(i)
    else m.set(k, [i])
  }
  return [...m.values()]
}
