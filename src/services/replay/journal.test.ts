import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {Journal, load} from './journal.js'

const journal = (...records: object[]) => {
  const path = join(mkdtempSync(join(tmpdir(), 'journal-')), 'run.jsonl')
  writeFileSync(path, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`)
  return path
}

describe('journal load', () => {
  it('remembers what a log copy refused or skipped below its progress, until it is sent', async () => {
    const state = await load(
      journal(
        {t: 'start', run: 'r1', key: 'k', source: 's', destination: 'd', mode: 'copy', at: 'x'},
        {t: 'selected', ids: ['0:4', '0:5', '0:6']},
        {t: 'failed', id: '0:5', error: 'too large'},
        {t: 'skipped', id: '0:7', reason: 'no origin'},
        {t: 'sent', ids: ['0:4', '0:6']},
        {t: 'progress', partition: 0, next: '8'},
      ),
    )
    expect([...state.notCopied].sort()).toEqual(['0:5', '0:7'])
    expect(state.progress.get(0)).toBe(8n)
    expect(state.maybeSent.size).toBe(0)

    const retried = await load(
      journal(
        {t: 'start', run: 'r1', key: 'k', source: 's', destination: 'd', mode: 'copy', at: 'x'},
        {t: 'failed', id: '0:5', error: 'too large'},
        {t: 'selected', ids: ['0:5']},
        {t: 'sent', ids: ['0:5']},
      ),
    )
    expect(retried.notCopied.size).toBe(0)
    expect(retried.sent.has('0:5')).toBe(true)
  })

  it('skips a line cut by a crash', async () => {
    const path = journal({
      t: 'start',
      run: 'r2',
      key: 'k',
      source: 's',
      destination: 'd',
      mode: 'copy',
      at: 'x',
    })
    writeFileSync(path, '{"t":"sent","ids":["0:1"', {flag: 'a'})
    const state = await load(path)
    expect(state.run).toBe('r2')
    expect(state.sent.size).toBe(0)
  })

  it('fails every sync after a write that failed: what it held never reached the disk', async () => {
    const j = await Journal.create(mkdtempSync(join(tmpdir(), 'journal-')), 'k', {
      source: 's',
      destination: 'd',
      mode: 'copy',
    })
    // The file handle closed under it: the next write fails (EBADF).
    await (j as unknown as {fh: {close(): Promise<void>}}).fh.close()
    j.add({t: 'selected', ids: ['0:1']})
    const first = j.sync()
    await expect(first).rejects.toThrow()
    // Nothing new to write, yet the "selected" record above is not on disk: no send may follow.
    await expect(j.sync()).rejects.toThrow()
  })
})
