/**
 * Lag arithmetic and the status in plain words, from successive polls of one row (a group on a
 * topic, a group, a queue). Pure: no broker, no clock (times come in), so every rule has a test.
 *
 * Burrow's lesson (linkedin/Burrow#58): a consumer that stops committing must not show frozen,
 * healthy-looking lag, and a status must say what happened ("no commits for 12 m while lag
 * grows"), not a code (STOP, STALL).
 */

/** One poll of one row: sums over its partitions (offsets as numbers: lag math stays below 2^53). */
export interface Sample {
  at: number
  /** Sum of committed offsets of the partitions the row has commits on; null: none. */
  committed: number | null
  /** Sum of log-end offsets of those same partitions (so consumed = Δcommitted, produced = Δend). */
  end: number
  /** Known lag (sum over committed partitions); null when nothing is committed. */
  lag: number | null
  /** Committed offset per partition (`topic/partition`, or just the partition), to see a rewind. */
  offsets: Record<string, number>
}

export interface StatusInput {
  samples: readonly Sample[]
  /** Consumers in the group; null = unknown (not read, or a broker without members). */
  members: number | null
  /** Commits unchanged for at least this long (while behind) is a stall. */
  stallMs: number
  /** Rates are taken over the samples of this last span. */
  windowMs: number
}

export interface StatusOutput {
  status: string
  /** Messages consumed (committed) and produced per second over the window; null with one poll. */
  consumeRate: number | null
  produceRate: number | null
  /** Time to drain at the current rates; null when not draining (see status) or unknown. */
  drainMs: number | null
  /** When commits last moved (the first poll, when they never did since). */
  lastCommitMoveAt: number | null
}

/** Whether a partition's committed offset is below what it was in the poll before. */
function wentBack(offsets: Record<string, number>, before: Record<string, number>): boolean {
  for (const p in offsets) {
    const was = before[p]
    if (was !== undefined && (offsets[p] as number) < was) return true
  }
  return false
}

/** How long a rewind (a committed offset going back) stays in the status. */
const REWIND_SHOWN_MS = 30_000

export function lagStatus(input: StatusInput): StatusOutput {
  const {samples, members} = input
  const last = samples[samples.length - 1]
  const none: StatusOutput = {
    status: 'no data',
    consumeRate: null,
    produceRate: null,
    drainMs: null,
    lastCommitMoveAt: null,
  }
  if (!last) return none
  if (last.committed === null || last.lag === null) return {...none, status: 'never committed'}

  // When did the commits last move? Walk back while the sum stays the same.
  let moveAt = samples[0]!.at
  for (let i = samples.length - 1; i > 0; i--) {
    if (samples[i]!.committed !== samples[i - 1]!.committed) {
      moveAt = samples[i]!.at
      break
    }
  }
  // The window's samples with commits: the first of them and how many (no copy: this runs for
  // every row on every poll, and in the dashboard without V8's optimizing compiler).
  const since = last.at - input.windowMs
  let first = last
  let inWindow = 0
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i]!
    if (s.at < since) break
    if (s.committed === null) continue
    first = s
    inWindow++
  }
  const span = (last.at - first.at) / 1000
  const rates =
    inWindow >= 2 && span > 0
      ? {
          consumeRate: Math.max(0, (last.committed - (first.committed ?? 0)) / span),
          produceRate: Math.max(0, (last.end - first.end) / span),
        }
      : {consumeRate: null, produceRate: null}
  const base = {...rates, drainMs: null, lastCommitMoveAt: moveAt}

  for (let i = samples.length - 1; i > 0; i--) {
    const cur = samples[i]!
    if (cur.at < last.at - REWIND_SHOWN_MS) break
    if (wentBack(cur.offsets, samples[i - 1]!.offsets)) return {...base, status: 'rewound'}
  }
  if (members === 0 && last.lag > 0) return {...base, status: 'stopped — no members'}
  if (last.lag === 0) return {...base, status: 'ok'}
  if (rates.consumeRate === null || rates.produceRate === null) {
    return {...base, status: 'behind — one poll, no trend yet'}
  }
  const still = last.at - moveAt
  const lagThen = first.lag ?? last.lag
  if (still >= input.stallMs && last.committed === first.committed) {
    return {
      ...base,
      status: `stalled — no commits for ${humanDuration(still)}${last.lag > lagThen ? ' while lag grows' : ''}`,
    }
  }
  const drain =
    rates.consumeRate > rates.produceRate ? (last.lag / (rates.consumeRate - rates.produceRate)) * 1000 : null
  if (last.lag > lagThen && rates.produceRate >= rates.consumeRate) return {...base, status: 'falling behind'}
  if (last.lag < lagThen) return {...base, drainMs: drain, status: 'catching up'}
  // Waiting messages and no commits, not yet long enough to call it a stall.
  if (rates.consumeRate === 0) return {...base, status: `behind — no commits for ${humanDuration(still)}`}
  return {...base, drainMs: drain, status: 'ok'}
}

/** 12 m, 45 s, 3 h 5 m: short, for a status and a table cell. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} m`
  const h = Math.floor(m / 60)
  if (h < 48) return m % 60 ? `${h} h ${m % 60} m` : `${h} h`
  return `${Math.floor(h / 24)} d`
}

const BARS = '▁▂▃▄▅▆▇█'

/** A sparkline of `values` (oldest first), `width` characters at most (the newest ones). */
export function sparkline(values: ReadonlyArray<number | null>, width: number): string {
  const v = values.slice(-width)
  const known = v.filter((x): x is number => x !== null)
  if (known.length === 0) return ''
  const lo = Math.min(...known)
  const hi = Math.max(...known)
  return v
    .map((x) => {
      if (x === null) return ' '
      if (hi === lo) return hi === 0 ? BARS[0]! : BARS[3]!
      return BARS[Math.round(((x - lo) / (hi - lo)) * (BARS.length - 1))]!
    })
    .join('')
}
