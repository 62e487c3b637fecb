import {Box, Text, Transform, useApp, useInput, useStdout} from 'ink'
import {memo, useEffect, useMemo, useRef, useState} from 'react'
import type {LagReader} from '../adapters/lag-source.js'
import {type LagFrame, watchLag} from '../services/lag/lag.js'
import {SORT_KEYS} from '../services/lag/view.js'
import {
  asciiStandIns,
  initialScreenState,
  restoreLine,
  type ScreenState,
  screenBlocks,
  screenLines,
} from './lag-screen.js'

export type QuitHow = 'q' | 'ctrl-c' | 'signal'

export type LagAppProps = Readonly<{
  reader: LagReader
  intervalMs: number
  /** The scope shown in the header (already a URL of ours). */
  source: string
  /** Aborted by SIGTERM (or the command): the dashboard ends. */
  signal: AbortSignal
  /** How the user quit; the command turns it into an exit code. */
  onQuit: (how: QuitHow) => void
  /**
   * On the alternate screen: after a resize, wipe it once (the terminal may have re-wrapped the
   * old frame's lines, which no erase of "our" lines would catch). Never between frames.
   */
  clearOnResize?: boolean
}>

/**
 * The live lag dashboard: polls through watchLag and draws screenLines() — a header (when the
 * data is from, stale and why), one row per group × topic (queue, subscription), worst first,
 * and a key line. The only component that calls exit(): errors of the first poll end it through
 * exit(error), so the command's catch renders them.
 *
 *   evtctl lag kafka://127.0.0.1:9092 · data from 10:04:05 (0 s ago) · every 1 s · sort worst
 *   GROUP     TOPIC    LAG  TIME LAG  IN/s  OUT/s  TREND     DRAIN  MEMB  STATUS
 * > billing   orders  1200      4 m     0/s  20/s  ▁▂▄▆█   falling…    1  stalled — no commits for 2 m
 *   q quit  ↑↓ move  enter partitions  / filter  s sort  p pause  · 1/1 rows
 */
export function LagApp(props: LagAppProps) {
  const {exit} = useApp()
  const {stdout} = useStdout()
  const [size, setSize] = useState({columns: stdout.columns || 80, rows: stdout.rows || 24})
  // One state for a poll's frame and the clock of the header: one render per poll.
  const [{frame, now}, setShown] = useState<{frame?: LagFrame; now: number}>({now: Date.now()})
  const [selectedKey, setSelectedKey] = useState<string>()
  const [ui, setUi] = useState<Omit<ScreenState, 'selected'>>(initialScreenState)
  const paused = useRef(false)
  const lastFrameAt = useRef(0)
  // Keys can come faster than renders: each one starts from what the last one left, not from
  // the last render's state.
  const latest = useRef({ui, selectedKey})

  useEffect(() => {
    const onResize = () => {
      if (props.clearOnResize) stdout.write('\x1b[2J\x1b[H')
      setSize({columns: stdout.columns || 80, rows: stdout.rows || 24})
    }
    stdout.on('resize', onResize)
    return () => {
      stdout.off('resize', onResize)
    }
  }, [stdout, props.clearOnResize])

  useEffect(() => {
    const ac = new AbortController()
    const onSignal = () => {
      props.onQuit('signal')
      exit()
    }
    props.signal.addEventListener('abort', onSignal, {once: true})
    ;(async () => {
      try {
        for await (const f of watchLag(props.reader, {
          intervalMs: props.intervalMs,
          signal: ac.signal,
          paused: () => paused.current,
        })) {
          lastFrameAt.current = Date.now()
          setShown({frame: f, now: lastFrameAt.current})
        }
      } catch (err) {
        if (!ac.signal.aborted) exit(err as Error)
      }
    })()
    // The header's "N s ago" moves on when polls are late or paused, and only then: polls on
    // time redraw it anyway (a tick between them would double the renders at a 1 s interval).
    const tick = setInterval(() => {
      if (Date.now() - lastFrameAt.current > props.intervalMs + 1000)
        setShown((x) => ({...x, now: Date.now()}))
    }, 1000)
    return () => {
      clearInterval(tick)
      ac.abort()
      props.signal.removeEventListener('abort', onSignal)
    }
  }, [props.reader, props.intervalMs, props.signal, props.onQuit, exit])

  // Rows in screen order (the keys move over them); the selection follows its row when the
  // order changes. Worked out once per render.
  const screen = useMemo(() => {
    const pick = (keys: string[]) => Math.max(0, selectedKey ? keys.indexOf(selectedKey) : 0)
    const first = screenLines(frame, {...ui, selected: 0}, size, props.source, props.intervalMs, now)
    const selected = pick(first.rowKeys)
    return selected === 0
      ? first
      : screenLines(frame, {...ui, selected}, size, props.source, props.intervalMs, now)
  }, [frame, ui, size, props.source, props.intervalMs, now, selectedKey])
  const keysOf = screen.rowKeys

  useInput((input, key) => {
    if (key.ctrl && input === 'c') {
      props.onQuit('ctrl-c')
      exit()
      return
    }
    let next = latest.current.ui
    const cur = latest.current.selectedKey
    let sel = Math.max(0, cur ? keysOf.indexOf(cur) : 0)
    const plain = !key.ctrl && !key.meta && !key.return && !key.escape && !key.upArrow && !key.downArrow
    // Typed fast (or pasted), several characters come as one input: each is a key of its own.
    const chars = plain && !key.backspace && !key.delete ? [...input] : ['']
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i]!
      // Ctrl-C inside a chunk (pressed while a frame was drawn): Ink recognises it only alone.
      if (ch === '\x03') {
        props.onQuit('ctrl-c')
        exit()
        return
      }
      // A chunk can end in Enter (keys typed while a frame was drawn): that is Enter, not text.
      // A newline inside a chunk is a paste's: dropped, so what follows it stays text.
      const newline = ch === '\r' || ch === '\n'
      if (newline && i < chars.length - 1) continue
      const enter = key.return || newline
      if (next.editing) {
        if (enter) next = {...next, editing: false}
        else if (key.escape) next = {...next, editing: false, filter: ''}
        else if (key.backspace || key.delete) next = {...next, filter: next.filter.slice(0, -1)}
        else if (ch >= ' ' && ch !== '\x7f') next = {...next, filter: next.filter + ch}
        continue
      }
      if (ch === 'q') {
        props.onQuit('q')
        exit()
        return
      }
      if (key.upArrow || key.downArrow)
        sel = Math.min(keysOf.length - 1, Math.max(0, sel + (key.upArrow ? -1 : 1)))
      else if (enter) {
        const k = keysOf[sel]
        if (!k) continue
        const expanded = new Set(next.expanded)
        if (expanded.has(k)) expanded.delete(k)
        else expanded.add(k)
        next = {...next, expanded}
      } else if (ch === '/') next = {...next, editing: true}
      else if (key.escape && next.filter) next = {...next, filter: ''}
      else if (ch === 's')
        next = {...next, sort: SORT_KEYS[(SORT_KEYS.indexOf(next.sort) + 1) % SORT_KEYS.length]!}
      else if (ch === 'p') {
        paused.current = !next.paused
        next = {...next, paused: !next.paused}
      }
    }
    const key_ = keysOf[sel]
    latest.current = {ui: next, selectedKey: key_ ?? cur}
    if (key_ !== cur) setSelectedKey(key_)
    if (next !== ui) setUi(next)
  })

  const blocks = useMemo(() => screenBlocks(screen.lines, screen.body, screen.selectedLine), [screen])

  return (
    <Box flexDirection="column" width={Math.max(20, size.columns - 1)}>
      {blocks.map((b) => (
        <Block
          key={b.start}
          strips={b.strips}
          selected={screen.selectedLine - b.start}
          warn={b.start === 0 && frame?.failed !== undefined}
        />
      ))}
    </Box>
  )
}

/**
 * Lines drawn side by side as strips (screenBlocks): one <Text> per strip, all the strip's lines
 * in it; line `selected` (if it is one of them) in inverse. A screenful of rows is a few nodes
 * for React, Yoga and Ink's output, not several per row. Memoized: a block whose text did not
 * change is not rendered again by React.
 */
const Block = memo(
  function Block({strips, selected, warn}: Readonly<{strips: string[][]; selected: number; warn: boolean}>) {
    const style = {wrap: 'truncate-end' as const, ...(warn ? {color: 'yellow'} : {})}
    const texts = strips.map((lines, i) => {
      // Non-ASCII strips are measured as ASCII stand-ins and written with their own characters.
      const standIns = asciiStandIns(lines)
      const shown = standIns ?? lines
      const text = (key?: number) =>
        selected < 0 || selected >= lines.length ? (
          <Text key={key} {...style}>
            {shown.join('\n')}
          </Text>
        ) : (
          <Text key={key} {...style}>
            {selected > 0 ? `${shown.slice(0, selected).join('\n')}\n` : ''}
            <Text inverse>{shown[selected]}</Text>
            {selected < lines.length - 1 ? `\n${shown.slice(selected + 1).join('\n')}` : ''}
          </Text>
        )
      return standIns ? (
        // biome-ignore lint/suspicious/noArrayIndexKey: a strip's place in its block is its identity
        <Transform key={i} transform={(line, index) => restoreLine(line, index, standIns, lines)}>
          {text()}
        </Transform>
      ) : (
        text(i)
      )
    })
    return texts.length === 1 ? texts[0] : <Box>{texts}</Box>
  },
  (a, b) =>
    a.selected === b.selected &&
    a.warn === b.warn &&
    a.strips.length === b.strips.length &&
    a.strips.every((lines, i) => {
      const other = b.strips[i] as string[]
      return lines.length === other.length && lines.every((l, j) => l === other[j])
    }),
)
