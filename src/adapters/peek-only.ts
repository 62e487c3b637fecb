import {UnsupportedError} from '../errors.js'
import type {ReadOptions} from './types.js'

/**
 * For adapters whose targets cannot `consume`: a read asked to consume is refused, never quietly
 * turned into a peek (a replay relying on it would believe messages were taken).
 */
export function refuseConsume(broker: string, opts: ReadOptions): void {
  if (opts.consume) {
    throw new UnsupportedError(
      `${broker} reads here only peek: a read that consumes (acknowledges what it reads) is not offered.`,
      'Read without consuming; tail never commits, acks or deletes.',
    )
  }
}
