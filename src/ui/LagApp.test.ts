import {render} from 'ink-testing-library'
import {createElement} from 'react'
import {afterEach, describe, expect, test} from 'vitest'
import type {KafkaLagRaw, LagReader} from '../adapters/lag-source.js'
import {LagTracker} from '../services/lag/view.js'
import {installPlainOutput} from './ink-output.js'
import {LagApp} from './LagApp.js'
import {initialScreenState, screenLines} from './lag-screen.js'

function raw(at: string, end: number): KafkaLagRaw {
  const partition = (committed: string | null) => ({
    partition: 0,
    committed,
    end: String(end),
    low: '0',
    oldestUnconsumedMs: Date.parse(at) - 60_000,
  })
  return {
    kind: 'kafka',
    at,
    groups: [
      {
        group: 'billing',
        state: 'EMPTY',
        members: 0,
        topics: [{topic: 'orders', partitions: [partition('3')]}],
      },
      {
        group: 'shipping',
        state: 'STABLE',
        members: 1,
        topics: [{topic: 'orders', partitions: [partition('9')]}],
      },
      {
        group: 'audit',
        state: 'STABLE',
        members: 1,
        topics: [{topic: 'orders', partitions: [partition(null)]}],
      },
    ],
  }
}

let unmount = () => {}

/** The dashboard on a fake terminal, polling `reader` every `intervalMs`; unmounted after each test. */
function mount(reader: LagReader, intervalMs: number, onQuit: (why: string) => void = () => {}) {
  const app = render(
    createElement(LagApp, {
      reader,
      intervalMs,
      source: 'kafka://x:9092',
      signal: new AbortController().signal,
      onQuit,
    }),
  )
  unmount = app.unmount
  return app
}

describe('LagApp', () => {
  afterEach(() => unmount())

  /** Three polls into the app: what it draws is what screenLines gives for them, line for line. */
  async function drawsScreenLines() {
    const polls: KafkaLagRaw[] = []
    const reader: LagReader = {
      poll: async (signal) => {
        // Three polls, then none that ends before the app does: the last frame stays put.
        if (polls.length === 3)
          return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
        const r = raw(new Date().toISOString(), 40 + polls.length * 5)
        polls.push(r)
        return r
      },
      close: async () => {},
    }
    const app = mount(reader, 50)
    const end = Date.now() + 5_000
    while (polls.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
    const seen = polls.length
    expect(seen).toBe(3)
    // The same polls through a tracker of our own give the lines the app was given to draw.
    const tracker = new LagTracker()
    let view = tracker.update(polls[0]!)
    for (const p of polls.slice(1, seen)) view = tracker.update(p)
    const now = Date.parse(polls[seen - 1]!.at)
    const state = initialScreenState()
    const {lines} = screenLines({view, pollMs: 1}, state, {columns: 100, rows: 24}, 'kafka://x:9092', 50, now)
    await new Promise((r) => setTimeout(r, 10))
    const frame = app.lastFrame() ?? ''
    expect(lines.join('\n')).toMatch(/[▁-█]/)
    expect(lines.join('\n')).toContain('—')
    expect(frame.split('\n').slice(1)).toEqual(lines.slice(1))
  }

  test('draws exactly the lines of screenLines, sparklines and dashes included', drawsScreenLines)

  test('the same with Ink’s frame-to-text step made cheaper (ink-output.ts)', async () => {
    expect(await installPlainOutput()).toBe(true)
    await drawsScreenLines()
  })

  test('text and Enter in one chunk (typed while a frame was drawn) set the filter and end editing', async () => {
    const reader: LagReader = {poll: async () => raw(new Date().toISOString(), 40), close: async () => {}}
    const app = mount(reader, 1000)
    const tick = () => new Promise((r) => setTimeout(r, 50))
    await tick()
    app.stdin.write('/')
    await tick()
    app.stdin.write('ship\r')
    await tick()
    const footer = (app.lastFrame() ?? '').split('\n').at(-1)
    expect(footer).toContain('/ filter "ship"')
    expect(footer).toContain('1/3 rows')
  })

  test('Ctrl-C that arrives with other keys still quits; a newline inside a pasted chunk stays text', async () => {
    const reader: LagReader = {poll: async () => raw(new Date().toISOString(), 40), close: async () => {}}
    const quits: string[] = []
    const app = mount(reader, 1000, (why) => quits.push(why))
    const tick = () => new Promise((r) => setTimeout(r, 50))
    await tick()
    app.stdin.write('/')
    await tick()
    // A paste: the newline does not end the filter, so "q" below is text, not quit.
    app.stdin.write('ship\nqx')
    await tick()
    expect((app.lastFrame() ?? '').split('\n').at(-1)).toContain('/ shipqx')
    expect(quits).toEqual([])
    app.stdin.write('a\x03')
    await tick()
    expect(quits).toEqual(['ctrl-c'])
  })
})
