import {age, count, drain, name, rate} from '../output/lag-format.js'
import type {LagFrame} from '../services/lag/lag.js'
import {sparkline} from '../services/lag/status.js'
import type {LagRow, SortKey} from '../services/lag/view.js'
import {sortRows} from '../services/lag/view.js'

/*
 * The dashboard's screen as plain lines, worked out without Ink: the Ink view (LagApp.tsx) prints
 * them, and the benchmark's reference loop prints the very same lines with ANSI cursor moves, so
 * the two differ only in how they draw.
 *
 *   evtctl lag kafka://127.0.0.1:9092 · data from 10:04:05 (0 s ago) · every 1 s · sort worst
 *   GROUP        TOPIC     LAG  TIME LAG  IN/s  OUT/s  TREND      DRAIN           MEMB  STATUS
 * > billing      orders   1200     4 m    0/s  20/s  ▁▂▃▄▅▆▇█   falling behind     1  falling behind
 *   ...
 *   q quit  ↑↓ move  enter partitions  / filter  s sort  p pause
 */

export interface ScreenState {
  /** Index of the selected row among the rows shown after filtering. */
  selected: number
  expanded: ReadonlySet<string>
  filter: string
  /** The filter is being typed. */
  editing: boolean
  sort: SortKey
  paused: boolean
}

/** The dashboard as it starts: first row selected, nothing expanded or filtered, worst first. */
export function initialScreenState(): ScreenState {
  return {selected: 0, expanded: new Set(), filter: '', editing: false, sort: 'worst', paused: false}
}

export interface Screen {
  /** Each at most `columns - 1` characters, at most `rows - 1` lines (Ink clears the whole screen at `rows`). */
  lines: string[]
  /** Which line is the selected row (-1: none shown). */
  selectedLine: number
  /** Rows after filter and sort (the key handlers move over them). */
  rowKeys: string[]
  /** Where the table's lines are in `lines`: [start, end). */
  body: readonly [number, number]
}

interface Column {
  title: string
  width: number
  /** Takes a share of the spare width. */
  flex?: number
  right?: boolean
  /** Dropped first when the terminal is narrow (higher = sooner). */
  drop: number
  cell(r: LagRow): string
}

const TREND_WIDTH = 12

function columnsFor(kind: 'groups' | 'queues' | 'subscriptions'): Column[] {
  const trend: Column = {
    title: 'TREND',
    width: TREND_WIDTH,
    drop: 3,
    cell: (r) => sparkline(r.trend, TREND_WIDTH),
  }
  const status: Column = {title: 'STATUS', width: 14, flex: 4, drop: 0, cell: (r) => r.status}
  switch (kind) {
    case 'groups':
      return [
        {title: 'GROUP', width: 10, flex: 3, drop: 0, cell: (r) => name(r.name, true)},
        {title: 'TOPIC', width: 8, flex: 2, drop: 0, cell: (r) => name(r.topic ?? '', true)},
        {title: 'LAG', width: 8, right: true, drop: 0, cell: (r) => count(r.lag)},
        {title: 'TIME LAG', width: 8, right: true, drop: 0, cell: (r) => age(r.timeLagMs)},
        {title: 'IN/s', width: 7, right: true, drop: 4, cell: (r) => rate(r.consumeRate)},
        {title: 'OUT/s', width: 7, right: true, drop: 4, cell: (r) => rate(r.produceRate)},
        trend,
        {title: 'DRAIN', width: 14, drop: 2, cell: drain},
        {title: 'MEMB', width: 4, right: true, drop: 1, cell: (r) => count(r.members)},
        status,
      ]
    case 'queues':
      return [
        {title: 'QUEUE', width: 12, flex: 3, drop: 0, cell: (r) => name(r.name, true)},
        {title: 'VISIBLE', width: 8, right: true, drop: 0, cell: (r) => count(r.lag)},
        {title: 'IN FLIGHT', width: 9, right: true, drop: 1, cell: (r) => count(r.inFlight)},
        {
          title: 'DLQ',
          width: 7,
          right: true,
          drop: 1,
          cell: (r) => (r.dlq === undefined ? '-' : count(r.dlq)),
        },
        {title: 'OLDEST', width: 7, right: true, drop: 2, cell: (r) => age(r.timeLagMs)},
        trend,
        status,
      ]
    case 'subscriptions':
      return [
        {title: 'SUBSCRIPTION', width: 14, flex: 3, drop: 0, cell: (r) => name(r.name, true)},
        {title: 'TOPIC', width: 8, flex: 2, drop: 1, cell: (r) => name(r.topic ?? '', true)},
        {title: 'BACKLOG', width: 8, right: true, drop: 0, cell: (r) => count(r.lag)},
        {title: 'OLDEST', width: 7, right: true, drop: 2, cell: (r) => age(r.timeLagMs)},
        status,
      ]
  }
}

/** Fits `text` in `width` characters: cut with … or padded. */
export function fitCell(text: string, width: number, right = false): string {
  const chars = [...text]
  if (chars.length > width)
    return width <= 1 ? chars.slice(0, width).join('') : `${chars.slice(0, width - 1).join('')}…`
  const pad = ' '.repeat(width - chars.length)
  return right ? pad + text : text + pad
}

function layoutColumns(all: Column[], width: number): Column[] {
  let cols = [...all]
  const need = (cs: Column[]) => cs.reduce((n, c) => n + c.width, 0) + cs.length * 2 + 1
  while (need(cols) > width) {
    const worst = Math.max(...cols.map((c) => c.drop))
    if (worst === 0) break
    const i = cols.map((c) => c.drop).lastIndexOf(worst)
    cols = cols.filter((_, j) => j !== i)
  }
  const spare = Math.max(0, width - need(cols))
  const flex = cols.reduce((n, c) => n + (c.flex ?? 0), 0)
  let given = 0
  const out = cols.map((c) => {
    const extra = c.flex ? Math.floor((spare * c.flex) / flex) : 0
    given += extra
    return {...c, width: c.width + extra}
  })
  // Rounding leftovers to the last flexible column (the status).
  const last = [...out].reverse().find((c) => c.flex)
  if (last) last.width += spare - given
  return out
}

/**
 * A line cut into runs of printable ASCII and runs of anything else (`▁▃█`, `—`, `·`), in order.
 * Ink measures every text it lays out with string-width, twice a frame: printable ASCII takes
 * its fast path (width = length), anything else goes through Intl.Segmenter and emoji regular
 * expressions, grapheme by grapheme. One <Text> per run keeps that slow path to the few
 * characters that need it, instead of whole 150-character rows (most of the dashboard's CPU).
 */
export function asciiRuns(line: string): string[] {
  // An ASCII letter that a combining mark or joiner follows (`e\u0301`, a keycap) stays with it.
  return line.match(/(?:[\x20-\x7e](?![\p{M}\u200d]))+|[\x20-\x7e]?[^\x20-\x7e]+/gu) ?? []
}

/**
 * Characters that take one column each and never join a neighbour into one grapheme (no combining
 * marks, joiners, invisible or wide characters): printable ASCII, Latin letters, dashes, bullets
 * and ellipses, arrows, box drawing and blocks (the sparkline). In a block of such lines a
 * character's index is its column.
 */
const NARROW_LINE =
  /^[\x20-\x7e\u00a0-\u00ac\u00ae-\u024f\u2010-\u2027\u2030-\u205e\u2190-\u21ff\u2500-\u259f]*$/

/** An ASCII gap narrower than this between two strips of other characters joins them. */
const MIN_ASCII_STRIP = 4

/**
 * Lines cut into vertical strips (strips[s][line]), each as wide as its widest line: columns where
 * every line has printable ASCII, and columns where some line has anything else (the sparkline,
 * a `—`, a `…`). Side by side, the strips give back the lines, character for character.
 * All lines must be NARROW_LINE. Drawn as one multi-line <Text> per strip, a screenful of rows
 * is a few nodes for React, Yoga and Ink instead of several per row, and Ink measures only the
 * non-ASCII strips grapheme by grapheme (see asciiRuns for why that matters).
 */
export function verticalStrips(lines: readonly string[]): string[][] {
  const width = lines.reduce((n, l) => Math.max(n, l.length), 0)
  const mixed = new Array<boolean>(width).fill(false)
  for (const l of lines) for (let x = 0; x < l.length; x++) if (l.charCodeAt(x) > 0x7e) mixed[x] = true
  const cuts: Array<{from: number; to: number; mixed: boolean}> = []
  for (let x = 0; x < width; x++) {
    const last = cuts.at(-1)
    const before = cuts.at(-2)
    if (last && last.mixed === mixed[x]) last.to = x + 1
    else if (mixed[x] && last && before && last.to - last.from < MIN_ASCII_STRIP) {
      cuts.pop()
      before.to = x + 1
    } else cuts.push({from: x, to: x + 1, mixed: mixed[x] as boolean})
  }
  return cuts.map((c) => lines.map((l) => l.slice(c.from, c.to)))
}

/**
 * What Ink is given to measure for a strip of narrow characters that are not all ASCII: the same
 * lines with `?` in place of each non-ASCII character (one column each way), which string-width
 * measures at once; a <Transform> puts the characters back as the frame is written
 * (restoreLine). Undefined when the strip is all ASCII already, or has a character that is not
 * NARROW_LINE (its width is left to Ink).
 */
export function asciiStandIns(lines: readonly string[]): string[] | undefined {
  if (lines.every((l) => PRINTABLE_ASCII.test(l)) || !lines.every((l) => NARROW_LINE.test(l)))
    return undefined
  return lines.map((l) => l.replace(/[^\x20-\x7e]/g, '?'))
}

/**
 * Line `index` of a strip as Ink writes it (`standIns[index]`, maybe inside an SGR sequence for
 * the selected row) with the real characters back in place; a line that is not the stand-in
 * (Ink wrapped or cut the text) is left as it is.
 */
export function restoreLine(
  line: string,
  index: number,
  standIns: readonly string[],
  lines: readonly string[],
): string {
  const standIn = standIns[index]
  const real = lines[index]
  if (standIn === undefined || real === undefined || standIn === real) return line
  const at = line.indexOf(standIn)
  return at < 0 ? line : line.slice(0, at) + real + line.slice(at + standIn.length)
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

/**
 * A screen's lines as blocks, each drawn side by side as strips (strips[s][line]) from line
 * `start` on: the table's rows (body) as vertical strips, as long as their characters are
 * narrow; any other line (the header, the key line, a row with wide or combining characters)
 * alone, cut into asciiRuns. The selected line is a block of its own, one strip: it is drawn in
 * inverse, and Ink takes apart every line of a text that holds an escape sequence (sanitizeAnsi,
 * twice a frame), so the other rows' strips stay free of them.
 */
export function screenBlocks(
  lines: readonly string[],
  body: readonly [number, number],
  selected = -1,
): Array<{start: number; strips: string[][]}> {
  const blocks: Array<{start: number; strips: string[][]}> = []
  let i = 0
  while (i < lines.length) {
    const inBody = i >= body[0] && i < body[1]
    if (inBody && i === selected && NARROW_LINE.test(lines[i] as string)) {
      blocks.push({start: i, strips: [[lines[i] as string]]})
      i++
      continue
    }
    let end = i
    if (inBody) while (end < body[1] && end !== selected && NARROW_LINE.test(lines[end] as string)) end++
    if (end > i) {
      blocks.push({start: i, strips: verticalStrips(lines.slice(i, end))})
      i = end
    } else {
      blocks.push({start: i, strips: asciiRuns(lines[i] as string).map((r) => [r])})
      i++
    }
  }
  return blocks
}

const clock = (iso: string) => new Date(iso).toTimeString().slice(0, 8)

export function matches(r: LagRow, filter: string): boolean {
  if (!filter) return true
  const f = filter.toLowerCase()
  return [r.name, r.topic ?? '', r.status].some((s) => s.toLowerCase().includes(f))
}

/**
 * The screen for `frame` in a terminal of `columns` × `rows`, at `now`. Lines are at most
 * columns − 1 wide (a line as wide as the terminal wraps on some terminals after a resize) and
 * rows − 1 many.
 */
export function screenLines(
  frame: LagFrame | undefined,
  state: ScreenState,
  size: {columns: number; rows: number},
  source: string,
  intervalMs: number,
  now: number,
): Screen {
  const width = Math.max(20, size.columns - 1)
  const height = Math.max(3, size.rows - 1)
  const lines: string[] = []
  const secs = Math.max(0, Math.round(intervalMs / 100) / 10)
  if (!frame) {
    lines.push(fitCell(`evtctl lag ${name(source, true)} · first poll…`, width))
    return {lines, selectedLine: -1, rowKeys: [], body: [1, 1]}
  }
  const at = frame.view.doc.at
  const ago = Math.max(0, Math.round((now - Date.parse(at)) / 1000))
  const parts = [
    `evtctl lag ${name(source, true)}`,
    `data from ${clock(at)} (${ago} s ago)`,
    `every ${secs} s`,
    `sort ${state.sort}`,
  ]
  if (state.paused) parts.push('PAUSED')
  if (frame.failed)
    parts.push(`STALE: poll failed at ${clock(frame.failed.at)}: ${name(frame.failed.reason, true)}`)
  lines.push(fitCell(parts.join(' · '), width))

  const kind = 'groups' in frame.view.doc ? 'groups' : 'queues' in frame.view.doc ? 'queues' : 'subscriptions'
  const cols = layoutColumns(columnsFor(kind), width)
  const row = (cells: string[]) => fitCell(cells.join('  '), width)
  lines.push(row([' ', ...cols.map((c) => fitCell(c.title, c.width, c.right))]))

  const rows = sortRows(
    frame.view.rows.filter((r) => matches(r, state.filter)),
    state.sort,
  )
  const footer = state.editing
    ? `/ ${state.filter}▏  (enter: keep · esc: clear)`
    : `q quit  ↑↓ move  enter partitions  / filter${state.filter ? ` "${state.filter}"` : ''}  s sort  p ${state.paused ? 'resume' : 'pause'}  · ${rows.length}/${frame.view.rows.length} rows`
  // Body lines: rows, and the partitions of expanded rows under them.
  const body: Array<{text: string; rowIndex: number}> = []
  rows.forEach((r, i) => {
    const mark = i === state.selected ? '>' : ' '
    body.push({text: row([mark, ...cols.map((c) => fitCell(c.cell(r), c.width, c.right))]), rowIndex: i})
    if (state.expanded.has(r.key) && r.partitions) {
      for (const p of r.partitions) {
        body.push({
          text: fitCell(
            `    partition ${p.partition}  committed ${p.committed ?? '-'}  end ${p.end}  lag ${count(p.lag)}  time lag ${age(p.timeLagMs)}`,
            width,
          ),
          rowIndex: i,
        })
      }
    }
  })
  if (rows.length === 0)
    body.push({
      text: fitCell(state.filter ? '  (no row matches the filter)' : '  (nothing to show)', width),
      rowIndex: -1,
    })
  const room = height - lines.length - 1
  // Scroll so the selected row (and what it expands to) stays in view.
  const firstOfSelected = body.findIndex((b) => b.rowIndex === state.selected)
  const lastOfSelected = body.findLastIndex((b) => b.rowIndex === state.selected)
  let start = 0
  if (firstOfSelected >= 0) {
    if (lastOfSelected - firstOfSelected + 1 > room) start = firstOfSelected
    else if (lastOfSelected >= room) start = lastOfSelected - room + 1
  }
  const shown = body.slice(start, start + room)
  const bodyStart = lines.length
  const selectedLine = shown.findIndex(
    (b) => b.rowIndex === state.selected && body.indexOf(b) === firstOfSelected,
  )
  lines.push(...shown.map((b) => b.text))
  lines.push(fitCell(footer, width))
  return {
    // No trailing blanks: fewer characters for the terminal (and for Ink to lay out) per frame.
    lines: lines.slice(0, height).map((l) => l.trimEnd()),
    selectedLine: selectedLine < 0 ? -1 : selectedLine + 2,
    rowKeys: rows.map((r) => r.key),
    body: [bodyStart, Math.min(height, bodyStart + shown.length)],
  }
}
