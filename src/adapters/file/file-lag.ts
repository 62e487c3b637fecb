import type {Target} from '../../config/targets.js'
import {UnsupportedError} from '../../errors.js'
import type {LagReader, LagScopeOptions} from '../lag-source.js'
import type {LagAware} from '../types.js'

/**
 * `evtctl lag` on the file broker: the groups whose offsets are stored beside the topic (written
 * by `tail --consume --group`). It keeps no members and no per-message read times, so members and
 * time lag are null with the reason. No groups at all: exit 6, said in a sentence.
 */
export function fileLagReader(lag: LagAware['lag'], scope: Target, opts: LagScopeOptions): LagReader {
  return {
    async poll() {
      if (scope.kind !== 'file' || scope.name === '') {
        throw new UnsupportedError(
          'The file broker reports lag per topic, not for a whole directory.',
          'Name a topic: evtctl lag file://PATH/NAME.jsonl (or a bare name).',
        )
      }
      const at = new Date().toISOString()
      const rows = (await lag(scope)).filter((r) => !opts.groups?.length || opts.groups.includes(r.group))
      if (rows.length === 0) {
        throw new UnsupportedError(
          `The file topic "${scope.name}" has no consumer groups with stored offsets, so it has no lag to show.`,
          `Groups appear once a consumer records its position in ${scope.name}.jsonl.offsets.json beside the topic (see "The embedded file broker" in the README).`,
        )
      }
      return {
        kind: 'file',
        at,
        groups: rows.map((r) => ({
          group: r.group,
          state: null,
          members: null,
          note: 'the file broker keeps no consumer members',
          topics: [
            {
              topic: scope.name,
              partitions: [
                {
                  partition: r.partition,
                  committed: r.committed ?? null,
                  end: r.end,
                  low: '0',
                  oldestUnconsumedMs: null,
                  timestampNote: 'the file broker does not look up message times for lag',
                },
              ],
            },
          ],
        })),
      }
    },
    close: async () => {},
  }
}
