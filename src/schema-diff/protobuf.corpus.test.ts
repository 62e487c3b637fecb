/**
 * Confluent Schema Registry's labelled Protobuf diff examples (test/fixtures/confluent, from ../shared/corpora/confluent):
 * verdict and set of change types per case must agree (target ≥ 98% per file). Each side is
 * written to its own folder with its dependencies at their import paths, as the corpus README
 * says, so imports resolve from the importing file's folder (and resources/ as a --proto-path).
 */
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {describe, expect, test} from 'vitest'
import {CORPUS} from './corpus.test-helper.js'
import {COMPATIBLE, compareProtobuf} from './protobuf.js'
import {localReader} from './service.js'
import type {EngineOptions, SchemaSource} from './types.js'

/** `file#index`: why we differ from Confluent. Empty today; may only shrink. */
const KNOWN_DISAGREEMENTS: Record<string, string> = {}

interface Case {
  description: string
  original_schema: string
  update_schema: string
  changes: string[]
  compatible: boolean
  original_dependencies?: Array<{name: string; dependency?: string}>
  update_dependencies?: Array<{name: string; dependency?: string}>
}

const work = mkdtempSync(join(tmpdir(), 'evtctl-proto-corpus-'))
const RESOURCES = resolve(CORPUS, 'protobuf/resources')

function side(root: string, dir: string, text: string, deps: Case['original_dependencies']): SchemaSource {
  const folder = join(root, dir)
  mkdirSync(folder, {recursive: true})
  for (const d of deps ?? []) {
    if (d.dependency === undefined) continue
    const p = join(folder, d.name)
    mkdirSync(dirname(p), {recursive: true})
    writeFileSync(p, d.dependency)
  }
  const path = join(folder, `${dir}.proto`)
  writeFileSync(path, text)
  return {name: `${dir}.proto`, path, text, readFile: localReader(root)}
}

async function run(file: string): Promise<{agree: number; total: number; disagreements: string[]}> {
  const cases = JSON.parse(readFileSync(resolve(CORPUS, 'protobuf', file), 'utf8')) as Case[]
  const disagreements: string[] = []
  for (const [i, c] of cases.entries()) {
    const root = join(work, `${file}-${i}`)
    const withMeta = !c.original_schema.includes('\n')
    const original = withMeta
      ? {
          name: c.original_schema,
          path: join(RESOURCES, c.original_schema),
          text: readFileSync(join(RESOURCES, c.original_schema), 'utf8'),
          readFile: localReader(RESOURCES),
        }
      : side(root, 'old', c.original_schema, c.original_dependencies)
    const update = withMeta
      ? {
          name: c.update_schema,
          path: join(RESOURCES, c.update_schema),
          text: readFileSync(join(RESOURCES, c.update_schema), 'utf8'),
          readFile: localReader(RESOURCES),
        }
      : side(root, 'new', c.update_schema, c.update_dependencies)
    const opts: EngineOptions = {
      jsonSchemaPolicy: 'strict',
      protoPaths: withMeta ? [RESOURCES] : [],
      root: withMeta ? RESOURCES : root,
      deadline: Date.now() + 10_000,
    }
    const diffs = await compareProtobuf(original, update, opts)
    const types = [...new Set(diffs.map((d) => d.type))].sort()
    const want = [...new Set(c.changes.map((x) => x.split(' ')[0]!))].sort()
    const compatible = diffs.every((d) => COMPATIBLE.has(d.type))
    const agree = compatible === c.compatible && JSON.stringify(types) === JSON.stringify(want)
    if (!agree) disagreements.push(`${file}#${i}`)
    else
      expect(diffs.map((d) => `${d.type} ${d.path}`).sort(), `${file}#${i} ${c.description}`).toEqual(
        [...c.changes].sort(),
      )
  }
  return {agree: cases.length - disagreements.length, total: cases.length, disagreements}
}

describe('Confluent Protobuf corpus', () => {
  for (const file of ['diff-schema-examples.json', 'diff-schema-examples-with-meta.json']) {
    test(`${file}: verdict and change types agree on ≥ 98% of cases`, async () => {
      const r = await run(file)
      expect(r.disagreements.filter((d) => !(d in KNOWN_DISAGREEMENTS))).toEqual([])
      // The known list may only shrink: an entry that now agrees must be removed.
      const fixed = Object.keys(KNOWN_DISAGREEMENTS).filter(
        (k) => k.startsWith(`${file}#`) && !r.disagreements.includes(k),
      )
      expect(fixed, 'known disagreements that now agree: remove them').toEqual([])
      expect(r.agree / r.total).toBeGreaterThanOrEqual(0.98)
      console.log(`${file}: ${r.agree}/${r.total} agree`)
    })
  }
})
