import fc from 'fast-check'
import {expect, test} from 'vitest'
import {Watermark} from './watermark.js'

test('settled is the length of the settled prefix, in any order of marks', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({min: 0, max: 60}), {maxLength: 120}), (marks) => {
      const w = new Watermark()
      const seen = new Set<number>()
      for (const m of marks) {
        w.mark(m)
        seen.add(m)
        let want = 0
        while (seen.has(want)) want++
        expect(w.settled).toBe(want)
      }
    }),
  )
})
