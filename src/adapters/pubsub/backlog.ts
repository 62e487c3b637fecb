import type {Target} from '../../config/targets.js'
import {NotFoundError} from '../../errors.js'
import type {LagReader, PubsubSubscriptionRaw} from '../lag-source.js'
import type {PubsubMetrics} from '../metrics/port.js'
import type {PubsubPort} from './port.js'

type PubsubTarget = Extract<Target, {kind: 'pubsub'}>

/**
 * `evtctl lag` on Pub/Sub: the subscriptions in scope (one, a topic's, or a project's). Backlog
 * (num_undelivered_messages) and the oldest unacked age (oldest_unacked_message_age) exist only in
 * Cloud Monitoring: read through `metrics`, one request per metric for all the subscriptions of
 * a poll. The emulator has none (no `metrics`, no request): both null with the reason — never 0.
 * Nothing is pulled.
 */
export function pubsubLagReader(
  ps: PubsubPort,
  scope: PubsubTarget,
  opts: {emulator: boolean; tempPrefixes: string[]; metrics?: PubsubMetrics},
  call: <T>(x: PubsubTarget, f: () => Promise<T>) => Promise<T>,
): LagReader {
  const note = opts.emulator
    ? 'the Pub/Sub emulator has no Cloud Monitoring, so no backlog numbers'
    : 'needs monitoring.timeSeries.list (Cloud Monitoring)'
  return {
    async poll(signal) {
      const at = new Date().toISOString()
      let subs: Array<{name: string; topic: string}>
      if (scope.resource === 'subscriptions' && scope.name !== '') {
        const topic = await call(scope, () => ps.subscriptionTopic(scope.name))
        subs = [{name: scope.name, topic: topic.replace(/^.*\//, '')}]
      } else {
        const all = await call(scope, () => ps.listSubscriptionDetails())
        subs = all
          .filter((s) => !opts.tempPrefixes.some((p) => s.name.startsWith(p)))
          .filter((s) => scope.name === '' || s.topic === scope.name)
        if (scope.name !== '' && subs.length === 0) {
          // The topic must exist: a missing one is exit 5, an existing one without subscriptions too.
          await call(scope, () => ps.topicRetention(scope.name))
          throw new NotFoundError(
            `Topic "${scope.name}" has no subscriptions, so nothing has a backlog.`,
            `Name a subscription: pubsub://${scope.project}/subscriptions/NAME.`,
          )
        }
      }
      subs.sort((a, b) => a.name.localeCompare(b.name))
      const reading = await opts.metrics?.backlog(
        subs.map((s) => s.name),
        signal,
      )
      const subscriptions: PubsubSubscriptionRaw[] = subs.map((s) => {
        const m = reading?.values.get(s.name)
        const why = reading ? (reading.unavailable ?? reading.missing) : note
        return {
          subscription: s.name,
          topic: s.topic,
          backlog: m?.backlog ?? null,
          oldestUnackedAgeMs: m?.oldestUnackedAgeMs ?? null,
          ...(m?.backlog == null ? {note: why} : {}),
          ...(m && m.backlog !== null && m.oldestUnackedAgeMs === null ? {ageNote: why} : {}),
        }
      })
      return {kind: 'pubsub', at, subscriptions}
    },
    close: async () => {},
  }
}
