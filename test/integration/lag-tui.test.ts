import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {brokerEnv, uniqueName} from '../brokers/env.js'
import {createTopic, testKafka} from '../brokers/kafka.js'

const env = brokerEnv()
const BIN = resolve(import.meta.dirname, '../../bin/run.js')
const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], {stdio: 'pipe'})
    return true
  } catch {
    return false
  }
})()

/**
 * The dashboard in a real terminal: tmux runs it in a pane (send-keys presses keys, capture-pane
 * reads the screen, pipe-pane records every byte written to it).
 */
describe.skipIf(!env.KAFKA_BROKERS)('evtctl lag dashboard in tmux', () => {
  const socket = uniqueName('evtctl-lag')
  const session = 'lag'
  const dir = mkdtempSync(join(tmpdir(), 'evtctl-lag-tui-'))
  const raw = join(dir, 'pane.raw')
  const exitFile = join(dir, 'exit')
  const group = uniqueName('tui-billing')
  const evil = `${uniqueName('ev')}\x1b[2J\x07`
  let topic = ''

  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'})
  const screen = () => tmux('capture-pane', '-p', '-t', session)
  const keys = (...k: string[]) => tmux('send-keys', '-t', session, ...k)
  const waitFor = async (what: string, ok: (s: string) => boolean, ms = 20_000) => {
    const end = Date.now() + ms
    let s = ''
    while (Date.now() < end) {
      s = screen()
      if (ok(s)) return s
      await new Promise((r) => setTimeout(r, 150))
    }
    throw new Error(`timed out waiting for ${what}; the screen:\n${s}`)
  }
  const produce = async (n: number) => {
    const p = testKafka().producer()
    await p.connect()
    await p.send({topic, messages: Array.from({length: n}, (_, i) => ({partition: i % 2, value: `v${i}`}))})
    await p.disconnect()
  }

  beforeAll(async () => {
    if (!hasTmux)
      throw new Error('tmux is not installed: apt-get install -y tmux (this test must not pass silently)')
    topic = await createTopic('tui-orders', 2)
    await produce(20)
    const admin = testKafka().admin()
    await admin.connect()
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        {partition: 0, offset: '3'},
        {partition: 1, offset: '5'},
      ],
    })
    await admin.setOffsets({groupId: evil, topic, partitions: [{partition: 0, offset: '10'}]})
    await admin.disconnect()
    const cmd = `printf 'BEFORE-THE-DASHBOARD\\n'; ${process.execPath} ${BIN} lag kafka://${env.KAFKA_BROKERS}/${topic} --interval 1s; echo $? > ${exitFile}; sleep 600`
    tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '200',
      '-y',
      '30',
      `env -u CI TERM=xterm-256color sh -c "${cmd.replace(/"/g, '\\"')}"`,
    )
    tmux('pipe-pane', '-t', session, '-o', `cat >> ${raw}`)
  })

  afterAll(() => {
    try {
      tmux('kill-server')
    } catch {
      // already gone
    }
  })

  test('numbers appear and change as a producer writes; keys work; a resize redraws; q exits 0 and restores the screen', async () => {
    // Group lag: (10 − 3) + (10 − 5) = 12 on two partitions of 10 each.
    let s = await waitFor('the group row', (x) => x.includes(group) && /data from \d\d:\d\d:\d\d/.test(x))
    const rowOf = (text: string) => text.split('\n').find((l) => l.includes(group.slice(0, 16))) ?? ''
    expect(rowOf(s)).toMatch(/\s12\s/)
    // The group name with control sequences is shown escaped (the screen was not cleared by it).
    expect(s).toContain(`${evil.slice(0, 11)}\\x1b[2J\\x07`)
    await produce(6)
    s = await waitFor('the lag to grow by 6', (x) => /\s18\s/.test(rowOf(x)))

    // ↑↓ move the selection; enter shows the partitions of the selected row.
    const selected = (x: string) => x.split('\n').find((l) => l.startsWith('>')) ?? ''
    const first = selected(s)
    keys('Down')
    s = await waitFor('the selection to move', (x) => selected(x) !== '' && selected(x) !== first)
    keys('Up')
    s = await waitFor(
      'the selection to come back',
      (x) => selected(x) === first || selected(x).includes(first.slice(2, 12)),
    )
    // Select our group (worst first: it is behind; the other is too) and expand it.
    if (!selected(s).includes(group.slice(0, 8))) keys('Down')
    await waitFor('our group selected', (x) => selected(x).includes(group.slice(0, 8)))
    keys('Enter')
    s = await waitFor(
      'its partitions',
      (x) => /partition 0 {2}committed 3 {2}end 13/.test(x) && /partition 1 {2}committed 5/.test(x),
    )

    // / filters rows by name.
    keys('/')
    keys('-l', group.slice(0, 14))
    keys('Enter')
    s = await waitFor(
      'the filter to leave one row',
      (x) => x.includes('1/2 rows') && !x.includes(evil.slice(0, 11)),
    )
    // s changes the order, p pauses (and says so).
    keys('s')
    await waitFor('sort by lag', (x) => x.includes('sort lag'))
    keys('p')
    await waitFor('paused', (x) => x.includes('PAUSED'))
    keys('p')
    await waitFor('resumed', (x) => !x.includes('PAUSED'))

    // Never taller or wider than the terminal, before and after a resize.
    const fits = (x: string, cols: number, rows: number) => {
      const lines = x.replace(/\n+$/, '').split('\n')
      return lines.length <= rows - 1 && lines.every((l) => [...l].length <= cols)
    }
    expect(fits(screen(), 200, 30)).toBe(true)
    const beforeResize = readFileSync(raw, 'latin1')
    tmux('resize-window', '-t', session, '-x', '70', '-y', '12')
    s = await waitFor(
      'a redraw at 70 columns',
      (x) => x.split('\n')[0]!.startsWith('evtctl lag') && /q quit/.test(x) && fits(x, 70, 12),
    )
    expect(s.split('\n').filter((l) => l.includes('evtctl lag'))).toHaveLength(1)

    // No full-screen clears between frames (before the resize, which wipes once on purpose).
    expect(beforeResize.length).toBeGreaterThan(0)
    expect(beforeResize).not.toMatch(/\x1b\[2J|\x1b\[3J|\x1bc/)
    // Frames were drawn in place: one header on the screen, whatever the number of polls.
    expect((beforeResize.match(/data from/g) ?? []).length).toBeGreaterThan(3)

    keys('q')
    await waitFor(
      'the exit code',
      () => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '',
      10_000,
    )
    expect(readFileSync(exitFile, 'utf8').trim()).toBe('0')
    s = screen()
    // Back on the shell's own screen: the line printed before, no dashboard left over.
    expect(s).toContain('BEFORE-THE-DASHBOARD')
    expect(s).not.toContain('evtctl lag kafka://')
    const all = readFileSync(raw, 'latin1')
    // The alternate screen was left and the cursor shown again.
    expect(all.lastIndexOf('\x1b[?1049l')).toBeGreaterThan(all.lastIndexOf('\x1b[?1049h'))
    expect(all.lastIndexOf('\x1b[?25h')).toBeGreaterThan(all.lastIndexOf('\x1b[?25l'))
  }, 90_000)
})
