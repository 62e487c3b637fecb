import {resolve} from 'node:path'

/** Confluent's labelled examples: ../shared/corpora/confluent beside the repository, or EVTCTL_CONFLUENT_CORPUS. */
export const CORPUS = resolve(
  process.env.EVTCTL_CONFLUENT_CORPUS ?? resolve(import.meta.dirname, '../../../shared/corpora/confluent'),
)
