/**
 * Confluent Schema Registry's own labelled JSON Schema diff examples (test/fixtures/confluent, from ../shared/corpora/confluent),
 * run through our engine: per case the BACKWARD verdict (strict and lenient) and the set of
 * difference types must agree with Confluent's. Target: ≥ 98% per file. A case that disagrees
 * goes into KNOWN_DISAGREEMENTS below with the reason; that list may only shrink.
 */
import {existsSync, readFileSync} from 'node:fs'
import {resolve} from 'node:path'
import {describe, expect, test} from 'vitest'
import {CORPUS} from './corpus.test-helper.js'
import {COMPATIBLE_LENIENT, COMPATIBLE_STRICT, compareNodes} from './json-schema.js'
import {JsonSchemaDocument} from './json-schema-model.js'

const FILES = [
  'diff-schema-examples.json',
  'diff-combined-schema-examples.json',
  'diff-schema-examples-2020-12.json',
  'diff-combined-schema-examples-2020-12.json',
]

/** `file#index`: why we differ from Confluent, and who we believe is right. Empty today. */
const KNOWN_DISAGREEMENTS: Record<string, string> = {}

interface Case {
  description: string
  original_schema: unknown
  update_schema: unknown
  changes: string[]
  compatible: boolean
  compatible_lenient?: boolean
}

/** Confluent's 2020-12 file has a trailing comma its parser tolerates (see the corpus README). */
function readCases(file: string): Case[] {
  const text = readFileSync(resolve(CORPUS, 'json-schema', file), 'utf8')
  return JSON.parse(text.replace(/,(\s*[}\]])/g, '$1')) as Case[]
}

describe.skipIf(!existsSync(CORPUS) && process.env.EVTCTL_SKIP_CORPUS === '1')(
  'Confluent JSON Schema corpus',
  () => {
    test('the corpus is there (set EVTCTL_CONFLUENT_CORPUS, or EVTCTL_SKIP_CORPUS=1 to skip)', () => {
      expect(existsSync(resolve(CORPUS, 'json-schema')), CORPUS).toBe(true)
    })

    for (const file of FILES) {
      test(`${file}: verdict and change types agree on ≥ 98% of cases`, () => {
        const cases = readCases(file)
        const disagreements: string[] = []
        cases.forEach((c, i) => {
          const a = new JsonSchemaDocument(c.original_schema, {name: 'original'})
          const b = new JsonSchemaDocument(c.update_schema, {name: 'update'})
          const diffs = compareNodes(a.root, b.root)
          const types = [...new Set(diffs.map((d) => d.type))].sort()
          const want = [...new Set(c.changes.map((x) => x.split(' ')[0]!))].sort()
          const strict = diffs.every((d) => COMPATIBLE_STRICT.has(d.type))
          const lenient = diffs.every((d) => COMPATIBLE_LENIENT.has(d.type))
          const agree =
            strict === c.compatible &&
            lenient === (c.compatible_lenient ?? c.compatible) &&
            JSON.stringify(types) === JSON.stringify(want)
          if (!agree) disagreements.push(`${file}#${i}`)
          // Paths too, though the contract asks only for types: every Confluent path is ours.
          if (agree)
            expect(diffs.map((d) => `${d.type} ${d.path}`).sort(), `${file}#${i} ${c.description}`).toEqual(
              [...c.changes].sort(),
            )
        })
        const unexplained = disagreements.filter((d) => !(d in KNOWN_DISAGREEMENTS))
        expect(unexplained, 'disagreements not in KNOWN_DISAGREEMENTS').toEqual([])
        const agreement = (cases.length - disagreements.length) / cases.length
        expect(agreement).toBeGreaterThanOrEqual(0.98)
        // The known list may only shrink: an entry that now agrees must be removed.
        const fixed = Object.keys(KNOWN_DISAGREEMENTS).filter(
          (k) => k.startsWith(`${file}#`) && !disagreements.includes(k),
        )
        expect(fixed, 'known disagreements that now agree: remove them').toEqual([])
        console.log(`${file}: ${cases.length - disagreements.length}/${cases.length} agree`)
      })
    }
  },
)
