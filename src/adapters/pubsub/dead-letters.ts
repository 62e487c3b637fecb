import type {Target} from '../../config/targets.js'
import {type UserEvent, warning} from '../../events.js'
import type {MetricReading, PubsubMetrics, SubscriptionBacklog} from '../metrics/port.js'
import type {DeadLetterQueue} from '../types.js'
import type {PubsubPort} from './port.js'

type PubsubTarget = Extract<Target, {kind: 'pubsub'}>

const SCAN_NOTE = '--scan counts it when it reads to the end'
export const EMULATOR_DEPTH_NOTE = `Pub/Sub tells a backlog only through Cloud Monitoring (num_undelivered_messages), and the emulator has no metrics; ${SCAN_NOTE}.`

/**
 * Pub/Sub dead-letter topics: those named in subscriptions' dead-letter policies (one listing of
 * the project's subscriptions, all pages). The messages sit in the dead-letter topic's own
 * subscriptions, which a scan peeks; a dead-letter topic without one drops what is dead-lettered,
 * which nothing else tells — flagged loudly. Depth: each of those subscriptions' backlog from
 * Cloud Monitoring (`metrics`, one request for them all; none on the emulator), the largest of
 * them (each holds its own copy of every dead letter). Read-only.
 */
export async function listPubsubDeadLetters(
  ps: PubsubPort,
  scope: PubsubTarget,
  call: <T>(x: PubsubTarget, f: () => Promise<T>) => Promise<T>,
  metrics?: PubsubMetrics,
  signal: AbortSignal = new AbortController().signal,
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
  const readersOf = (dlt: string) =>
    subs
      .filter((s) => s.topic === dlt)
      .map((s) => s.name)
      .sort()
  const reading = await metrics?.backlog(dlts.flatMap(readersOf), signal)
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
    const readers = readersOf(dlt)
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
      ...depthOf(readers, reading),
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

/**
 * A dead-letter topic's depth from its subscriptions' backlogs (Cloud Monitoring, sampled each
 * minute: approximate): the largest of them, or null with the reason when any is not known.
 */
export function depthOf(
  readers: string[],
  reading: MetricReading<SubscriptionBacklog> | undefined,
): Pick<DeadLetterQueue, 'depth' | 'depthExact' | 'depthNote'> {
  if (!reading) return {depth: null, depthExact: false, depthNote: EMULATOR_DEPTH_NOTE}
  if (readers.length === 0)
    return {depth: null, depthExact: false, depthNote: 'no subscription holds its messages'}
  if (reading.unavailable)
    return {depth: null, depthExact: false, depthNote: `${reading.unavailable}; ${SCAN_NOTE}.`}
  const counts = readers.map((r) => [r, reading.values.get(r)?.backlog ?? null] as const)
  const unknown = counts.find(([, n]) => n === null)
  if (unknown)
    return {depth: null, depthExact: false, depthNote: `${unknown[0]}: ${reading.missing}; ${SCAN_NOTE}.`}
  const depth = Math.max(...counts.map(([, n]) => n!))
  const each =
    counts.length > 1
      ? `; the largest of its subscriptions' (${counts.map(([r, n]) => `${r} ${n}`).join(', ')})`
      : ''
  return {
    depth,
    depthExact: false,
    depthNote: `Cloud Monitoring num_undelivered_messages, sampled each minute${each}`,
  }
}
