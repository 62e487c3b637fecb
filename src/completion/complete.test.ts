import {readFileSync} from 'node:fs'
import {resolve} from 'node:path'
import {describe, expect, test} from 'vitest'
import {type CompleteSources, candidates, FILES, type Manifest} from './complete.js'

// The manifest the build writes (npm run build): the real commands and flags.
const manifest = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../oclif.manifest.json'), 'utf8'),
) as Manifest

function sources(): CompleteSources & {asked: Array<string | undefined>} {
  const asked: Array<string | undefined> = []
  return {
    manifest,
    asked,
    contexts: async () => ['local', 'prod-kafka'],
    targetNames: async (context) => {
      asked.push(context)
      return context === 'prod-kafka' ? ['payments', 'orders.DLT'] : ['orders', 'orders.DLT', 'invoices']
    },
  }
}

const c = (line: string) => candidates(line.split(' '), sources())

describe('completion candidates', () => {
  test('commands and topics: first word, then the sub-command', async () => {
    expect(await c('')).toEqual([
      'completion',
      'config',
      'diff-schema',
      'dlq',
      'lag',
      'publish',
      'replay',
      'tail',
    ])
    expect(await c('ta')).toEqual(['tail'])
    expect(await c('config ')).toEqual([
      'delete-context',
      'get-contexts',
      'set-context',
      'use-context',
      'view',
    ])
    expect(await c('config u')).toEqual(['use-context'])
    expect(await c('dlq ')).toEqual(['list'])
  })

  test('flags of the command, and values of flags with fixed choices', async () => {
    expect(await c('tail --fr')).toEqual(['--from'])
    expect(await c('tail orders -o ')).toEqual(['pretty', 'jsonl', 'raw'])
    expect(await c('tail orders --output j')).toEqual(['jsonl'])
    expect(await c('tail orders --output=r')).toEqual(['--output=raw'])
    expect(await c('tail orders --from ')).toEqual(['beginning', 'end'])
    expect(await c('diff-schema a.json b.json --compatibility FULL')).toEqual(['FULL', 'FULL_TRANSITIVE'])
    expect(await c('publish orders --compression ')).toContain('zstd')
    expect(await c('config set-context x --broker ')).toEqual(['kafka', 'sqs', 'pubsub', 'file'])
    expect(await c('completion ')).toEqual(['bash', 'zsh', 'fish'])
  })

  test('targets: the names of the current context, or of --context on the line', async () => {
    const s = sources()
    expect(await candidates(['tail', 'or'], s)).toEqual(['orders', 'orders.DLT'])
    expect(await candidates(['tail', '--context', 'prod-kafka', ''], s)).toEqual(['payments', 'orders.DLT'])
    expect(await candidates(['replay', 'orders.DLT', '--to', 'o'], s)).toEqual(['orders', 'orders.DLT'])
    expect(s.asked).toEqual([undefined, 'prod-kafka', undefined])
    // A flag's value is not taken for the target: after `--from beginning`, the target comes.
    expect(await c('tail --from beginning inv')).toEqual(['invoices'])
    // publish's second argument is a message value: nothing to offer.
    expect(await c('publish orders ')).toEqual([])
  })

  test('contexts, and files where a path goes', async () => {
    expect(await c('config use-context ')).toEqual(['local', 'prod-kafka'])
    expect(await c('tail orders --context p')).toEqual(['prod-kafka'])
    expect(await c('diff-schema ')).toBe(FILES)
    expect(await c('publish orders --file ')).toBe(FILES)
  })
})
