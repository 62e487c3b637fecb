import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createFileAdapter} from '../../src/adapters/file/file-adapter.js'
import {parseTarget} from '../../src/config/targets.js'
import {describeBrokerContract} from './broker-contract.js'

const dir = mkdtempSync(join(tmpdir(), 'evtctl-contract-'))
let n = 0

describeBrokerContract('file', () => ({
  open: async () => createFileAdapter(),
  freshTarget: async () => {
    const path = join(dir, `topic-${++n}.jsonl`)
    writeFileSync(path, '')
    return parseTarget(`file://${path}`)
  },
  missingTarget: async () => parseTarget(`file://${join(dir, `missing-${++n}.jsonl`)}`),
  readAll: {from: {kind: 'beginning'}, until: {kind: 'end'}},
}))
