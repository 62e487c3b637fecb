import {resolve} from 'node:path'

/**
 * Confluent's labelled examples, copied unchanged (with their licence) into test/fixtures/confluent
 * from ../shared/corpora/confluent, so a clone anywhere runs the corpus tests; EVTCTL_CONFLUENT_CORPUS
 * points elsewhere (a newer copy).
 */
export const CORPUS = resolve(
  process.env.EVTCTL_CONFLUENT_CORPUS ?? resolve(import.meta.dirname, '../../test/fixtures/confluent'),
)
