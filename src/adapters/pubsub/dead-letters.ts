import type {Target} from '../../config/targets.js'
import {type UserEvent, warning} from '../../events.js'
import type {DeadLetterQueue} from '../types.js'
import type {PubsubPort} from './port.js'

type PubsubTarget = Extract<Target, {kind: 'pubsub'}>

export const DEPTH_NOTE =
  'Pub/Sub tells a backlog only through Cloud Monitoring (num_undelivered_messages), which evtctl does not read (and the emulator has no metrics); --scan counts it when it reads to the end.'

/**
 * Pub/Sub dead-letter topics: those named in subscriptions' dead-letter policies (one listing of
 * the project's subscriptions, all pages). The messages sit in the dead-letter topic's own
 * subscriptions, which a scan peeks; a dead-letter topic without one drops what is dead-lettered,
 * which nothing else tells — flagged loudly. Read-only.
 */
export async function listPubsubDeadLetters(
  ps: PubsubPort,
  scope: PubsubTarget,
  call: <T>(x: PubsubTarget, f: () => Promise<T>) => Promise<T>,
): Promise<DeadLetterQueue[]> {
  const subs = await call(scope, () => ps.listSubscriptionDetails())
  let dlts: string[]
  if (scope.name === '') {
    dlts = [...new Set(subs.flatMap((s) => (s.deadLetter ? [s.deadLetter.topic] : [])))].sort()
  } else if (scope.resource === 'topics') {
    await call(scope, () => ps.topicRetention(scope.name)) // exit 5 for a missing topic
    dlts = [scope.name]
  } else {
    const sub = subs.find((s) => s.name === scope.name)
    if (!sub) await call(scope, () => ps.subscriptionTopic(scope.name)) // exit 5, named
    // A subscription with a dead-letter policy: its dead-letter topic; else its own topic, as a DLQ.
    dlts = [sub?.deadLetter?.topic ?? sub?.topic ?? scope.name]
  }
  const out: DeadLetterQueue[] = []
  for (const dlt of dlts) {
    const warnings: UserEvent[] = []
    const sources = subs
      .filter((s) => s.deadLetter?.topic === dlt)
      .map((s) => ({
        target: `pubsub://${scope.project}/subscriptions/${s.name}`,
        ...(s.deadLetter?.maxDeliveryAttempts ? {maxDeliveryAttempts: s.deadLetter.maxDeliveryAttempts} : {}),
        by: 'dead-letter-policy' as const,
      }))
      .sort((a, b) => (a.target < b.target ? -1 : 1))
    const readers = subs
      .filter((s) => s.topic === dlt)
      .map((s) => s.name)
      .sort()
    const exists = await ps.topicRetention(dlt).then(
      () => true,
      () => false,
    )
    if (!exists) {
      warnings.push(
        warning(
          'DLQ_WITHOUT_SUBSCRIPTION',
          `dead-letter topic ${dlt} does not exist: messages dead-lettered by ${sources.map((s) => s.target.replace(/^.*\//, '')).join(', ')} are LOST. Create the topic and a subscription on it.`,
        ),
      )
    } else if (readers.length === 0) {
      warnings.push(
        warning(
          'DLQ_WITHOUT_SUBSCRIPTION',
          `dead-letter topic ${dlt} has no subscription, so Pub/Sub DROPS every message dead-lettered to it — they are lost. Create one now: gcloud pubsub subscriptions create ${dlt}-sub --topic ${dlt} --project ${scope.project}`,
        ),
      )
    }
    if (sources.length === 0 && scope.name !== '')
      warnings.push(warning('NOT_A_DLQ', `no subscription names topic ${dlt} as its dead-letter topic.`))
    out.push({
      target: {...scope, url: `pubsub://${scope.project}/topics/${dlt}`, resource: 'topics', name: dlt},
      depth: null,
      depthExact: false,
      depthNote: DEPTH_NOTE,
      sources,
      readVia: readers.map((name) => ({
        ...scope,
        url: `pubsub://${scope.project}/subscriptions/${name}`,
        resource: 'subscriptions' as const,
        name,
      })),
      warnings,
    })
  }
  return out
}
