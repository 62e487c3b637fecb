import {mkdtempSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic} from '../brokers/pubsub.js'
import {run} from '../e2e/helpers.js'

const env = brokerEnv()

/** A local port that nothing listens on (bound, then closed): connections to it are refused at once. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as {port: number}
      srv.close(() => resolve(port))
    })
  })
}

/**
 * A "metadata server" on a local port that resets every connection: gcp-metadata does not expect
 * ECONNRESET, so its probe emits a MetadataLookupWarning (as on networks where the look-up of
 * metadata.google.internal fails in other ways than it expects); still no network is tried.
 */
const resetting = createServer((socket) => socket.resetAndDestroy())
const resettingHost = new Promise<string>((resolve) =>
  resetting.listen(0, '127.0.0.1', () =>
    resolve(`127.0.0.1:${(resetting.address() as {port: number}).port}`),
  ),
)
afterAll(() => new Promise<void>((r) => resetting.close(() => r())))

/**
 * A user with nothing set up: an empty HOME (no gcloud ADC file), no GOOGLE_* variables, no
 * emulator, and GCE_METADATA_HOST on a closed local port, so google-auth's metadata-server probe
 * fails at once and no network is tried.
 */
async function bareEnv(metadata: 'closed' | 'resetting' = 'closed'): Promise<NodeJS.ProcessEnv> {
  const home = mkdtempSync(join(tmpdir(), 'evtctl-noauth-'))
  const e: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    NO_COLOR: '1',
    GCE_METADATA_HOST: metadata === 'closed' ? `127.0.0.1:${await closedPort()}` : await resettingHost,
  }
  return e
}

const STACK = /^\s+at .+[(:]\d+/m

describe('pubsub: credentials', () => {
  test.each([
    ['tail', 'closed', ['tail', 'pubsub://some-project/topics/orders', '--until', 'end']],
    ['publish', 'closed', ['publish', 'pubsub://some-project/topics/orders', 'hello']],
    ['tail', 'resetting', ['tail', 'pubsub://some-project/topics/orders', '--until', 'end']],
    ['publish', 'resetting', ['publish', 'pubsub://some-project/topics/orders', 'hello']],
  ] as const)(
    '%s with no credentials at all (metadata server %s): exit 3, the fix in the hint, no stack trace, no warning',
    async (_, metadata, args) => {
      const r = await run([...args], {env: await bareEnv(metadata)})
      expect(r.code, r.stderr).toBe(3)
      expect(r.stderr).toMatch(/credentials/i)
      expect(r.stderr).toMatch(/gcloud auth application-default login/)
      expect(r.stderr).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/)
      expect(r.stderr).toMatch(/PUBSUB_EMULATOR_HOST/)
      expect(r.stderr).toMatch(/--emulator-host/)
      expect(r.stderr).not.toMatch(STACK)
      expect(r.stderr).not.toMatch(/MetadataLookupWarning|googleauth\.js|Node\.js v/)
      expect(r.stdout.toString()).toBe('')
    },
  )

  test('GOOGLE_APPLICATION_CREDENTIALS naming a missing file: exit 3 naming the file', async () => {
    const e = await bareEnv()
    e.GOOGLE_APPLICATION_CREDENTIALS = join(e.HOME!, 'no-such-key.json')
    const r = await run(['publish', 'pubsub://some-project/topics/orders', 'hello'], {env: e})
    expect(r.code, r.stderr).toBe(3)
    expect(r.stderr).toContain('no-such-key.json')
    expect(r.stderr).not.toMatch(STACK)
  })

  test.skipIf(!env.PUBSUB_EMULATOR_HOST)(
    'publish and tail on the emulator print no MetadataLookupWarning, even with a metadata server that fails',
    async () => {
      const topic = await createTopic('mlw')
      const e = {...(await bareEnv('resetting')), PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST}
      const url = `pubsub://${env.PUBSUB_PROJECT_ID}/topics/${topic}`
      const pub = await run(['publish', url, '--input', 'lines'], {env: e, input: 'a\nb\n'})
      expect(pub.code, pub.stderr).toBe(0)
      expect(pub.stderr).not.toMatch(/MetadataLookupWarning/)
      expect(pub.stderr).not.toMatch(/\(node:\d+\)/)
      const tail = await run(['tail', url, '--until', 'end'], {env: e})
      expect(tail.code, tail.stderr).toBe(0)
      expect(tail.stderr).not.toMatch(/MetadataLookupWarning/)
      expect(tail.stderr).not.toMatch(/\(node:\d+\)/)
    },
  )
})
