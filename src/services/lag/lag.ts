import type {LagReader} from '../../adapters/lag-source.js'
import {isEvtctlError} from '../../errors.js'
import {LagTracker, type LagView} from './view.js'

export {LagTracker, type LagView} from './view.js'

/** One state of a watch: the last good numbers, and whether the latest poll failed. */
export interface LagFrame {
  /** The last poll that worked (its doc.at says when the data is from). */
  view: LagView
  /** The latest poll failed: why and when; the numbers above are then stale. */
  failed?: {reason: string; at: string}
  /** How long the last good poll took. */
  pollMs: number
}

/** A poll that takes longer than this (and at least two intervals) is given up as failed. */
const POLL_TIMEOUT_MS = 10_000

/** One poll, as a view (the table and --json): statuses from a single poll have no trend. */
export async function sampleLag(
  reader: LagReader,
  signal: AbortSignal,
  tracker = new LagTracker(),
): Promise<LagView> {
  return tracker.update(await reader.poll(signal))
}

/**
 * Polls every `intervalMs` (from the start of one poll to the next) until `signal` aborts,
 * yielding a frame after each poll. The first poll's error is thrown (a missing topic is exit 5,
 * not a dashboard of nothing); later failures yield the last good view marked stale, with the
 * reason, and polling goes on. `paused()`: polls are skipped while it says so.
 */
export async function* watchLag(
  reader: LagReader,
  opts: {
    intervalMs: number
    signal: AbortSignal
    tracker?: LagTracker
    paused?: () => boolean
    /** Wakes a sleeping watch at once (a key asked for a refresh). */
    wake?: (wakeUp: () => void) => void
  },
): AsyncGenerator<LagFrame> {
  const tracker = opts.tracker ?? new LagTracker()
  const timeoutMs = Math.max(POLL_TIMEOUT_MS, opts.intervalMs * 2)
  let last: LagFrame | undefined
  while (!opts.signal.aborted) {
    const started = Date.now()
    if (!opts.paused?.() || !last) {
      const pollSignal = AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)])
      try {
        const view = tracker.update(await reader.poll(pollSignal))
        last = {view, pollMs: Date.now() - started}
        yield last
      } catch (err) {
        if (opts.signal.aborted) return
        if (!last) throw err
        const timedOut = pollSignal.aborted
        const reason = timedOut
          ? `no answer within ${Math.round(timeoutMs / 1000)} s`
          : isEvtctlError(err)
            ? err.message
            : (err as Error).message
        last = {view: last.view, pollMs: last.pollMs, failed: {reason, at: new Date().toISOString()}}
        yield last
      }
    }
    const wait = Math.max(0, opts.intervalMs - (Date.now() - started))
    await sleep(wait, opts.signal, opts.wake)
  }
}

function sleep(ms: number, signal: AbortSignal, wake?: (wakeUp: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, {once: true})
    wake?.(done)
  })
}
