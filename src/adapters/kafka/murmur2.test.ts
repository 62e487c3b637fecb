import {randomBytes} from 'node:crypto'
import {compatibilityPartitioner} from '@platformatic/kafka'
import {describe, expect, it} from 'vitest'
import {keyPartition, murmur2} from './murmur2.js'

describe('murmur2', () => {
  it("gives the Java client's values (Kafka's own UtilsTest cases)", () => {
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ]
    for (const [s, want] of cases) expect(murmur2(Buffer.from(s)), s).toBe(want)
  })

  it("agrees with @platformatic/kafka's partitioner (BigInt) on random keys of every length", () => {
    for (let len = 0; len < 70; len++) {
      for (let n = 0; n < 20; n++) {
        const key = randomBytes(len)
        expect(murmur2(key) & 0x7fffffff).toBe(compatibilityPartitioner(undefined as never, key))
      }
    }
  })

  it('places a key on the positive hash modulo the partition count', () => {
    expect(keyPartition(Buffer.from('21'), 7)).toBe((-973932308 & 0x7fffffff) % 7)
  })
})
