import {PubSub} from '@google-cloud/pubsub'
import {brokerEnv, uniqueName} from './env.js'

/** Test-side Pub/Sub client on the emulator (set-up and the peers' view). */
export function testPubsub(): PubSub {
  const env = brokerEnv()
  process.env.METADATA_SERVER_DETECTION ??= 'none'
  return new PubSub({
    projectId: env.PUBSUB_PROJECT_ID,
    apiEndpoint: env.PUBSUB_EMULATOR_HOST,
    emulatorMode: true,
  })
}

/** A topic; `retainSeconds`: message retention, which the emulator needs to replay a snapshot. */
export async function createTopic(prefix: string, retainSeconds?: number): Promise<string> {
  const ps = testPubsub()
  try {
    const name = uniqueName(prefix)
    await ps.createTopic(retainSeconds ? {name, messageRetentionDuration: {seconds: retainSeconds}} : name)
    return name
  } finally {
    await ps.close()
  }
}

/**
 * Names of evtctl's temporary subscriptions and snapshots that exist now; with `topic` (short
 * name), only those on that topic, so that tests running at the same time do not see each other's.
 */
export async function leftovers(topic?: string): Promise<string[]> {
  const ps = testPubsub()
  try {
    const [subs] = await ps.getSubscriptions()
    const [snaps] = await ps.getSnapshots()
    const onTopic = (t: unknown) => topic === undefined || String(t ?? '').endsWith(`/topics/${topic}`)
    return [...subs, ...snaps]
      .filter((x) => onTopic((x.metadata as {topic?: unknown} | undefined)?.topic))
      .map((x) => x.name.slice(x.name.lastIndexOf('/') + 1))
      .filter((n) => n.startsWith('evtctl-'))
  } finally {
    await ps.close()
  }
}

/** A subscription on `topic` (a short name); returns its short name. */
export async function createSubscription(topic: string, prefix = 'sub'): Promise<string> {
  const ps = testPubsub()
  try {
    const name = uniqueName(prefix)
    await ps.topic(topic).createSubscription(name)
    return name
  } finally {
    await ps.close()
  }
}
