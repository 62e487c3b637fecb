import {humanDuration} from '../services/lag/status.js'
import type {LagDoc, LagRow} from '../services/lag/view.js'
import {safeText} from './safe-text.js'

/*
 * Cells of the lag table and dashboard, shared so both say the same thing. Unknown is "?" (its
 * reason is printed apart), never 0. Names come from the broker (group, topic and queue names can
 * hold anything): on a terminal their control characters are shown escaped, not obeyed.
 */

export const count = (n: number | null | undefined): string =>
  n === null || n === undefined ? '?' : String(n)
export const age = (ms: number | null): string => (ms === null ? '?' : ms === 0 ? '0 s' : humanDuration(ms))
export const rate = (r: number | null): string =>
  r === null ? '' : r >= 100 ? `${Math.round(r)}/s` : `${Math.round(r * 10) / 10}/s`

export function drain(row: LagRow): string {
  if (row.lag === 0) return '-'
  if (row.status === 'falling behind' || row.status.includes('while lag grows')) return 'falling behind'
  return row.drainMs === null ? '' : humanDuration(row.drainMs)
}

export const name = (text: string, terminal: boolean): string => (terminal ? safeText(text) : text)

/** What kind of rows a doc has: their names and column titles. */
export function kindOf(doc: LagDoc): 'groups' | 'queues' | 'subscriptions' {
  return 'groups' in doc ? 'groups' : 'queues' in doc ? 'queues' : 'subscriptions'
}

/** The reasons behind the unknown values of `rows`, each once: "? lag, time lag: never committed (2 rows)". */
export function unknownReasons(rows: readonly LagRow[]): string[] {
  const byReason = new Map<string, {fields: Set<string>; rows: Set<string>}>()
  for (const r of rows) {
    for (const [field, reason] of Object.entries(r.reasons)) {
      const e = byReason.get(reason) ?? {fields: new Set(), rows: new Set()}
      byReason.set(reason, e)
      e.fields.add(field === 'timeLagMs' ? 'time lag' : field)
      e.rows.add(r.key)
    }
  }
  return [...byReason].map(
    ([reason, e]) =>
      `? ${[...e.fields].join(', ')}: ${reason}${e.rows.size > 1 ? ` (${e.rows.size} rows)` : ''}`,
  )
}
