import {readFileSync} from 'node:fs'
import {afterAll, describe, expect, test} from 'vitest'
import {brokerEnv} from '../brokers/env.js'
import {createTopic, leftovers, testPubsub} from '../brokers/pubsub.js'
import {BIN, NODE_FLAGS, run, sandboxEnv, start} from '../e2e/helpers.js'

/**
 * A slow reader of a Pub/Sub tail (issue 18, item 11): `--until end` must not end while messages
 * wait to be written, and a follow must not pull a whole backlog into memory.
 */
const env = brokerEnv()
const cli: NodeJS.ProcessEnv = {...sandboxEnv(), PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST}
// Memory as a user's run has it: vitest's NODE_ENV=test alone adds ~55 MB to evtctl's RSS (measured).
delete cli.NODE_ENV
const topicUrl = (t: string) => `pubsub://${env.PUBSUB_PROJECT_ID}/topics/${t}`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Topics made here: deleted at the end, as the shared emulator would keep their backlog for an hour. */
const made: string[] = []

/** A topic that retains messages, holding `n` numbered messages of about `pad` bytes each. */
async function backlog(
  prefix: string,
  n: number,
  pad: number,
): Promise<{url: string; topic: string; from: string}> {
  const topic = await createTopic(prefix, 3_600)
  made.push(topic)
  const from = new Date(Date.now() - 60_000).toISOString()
  const fill = 'x'.repeat(pad)
  const input = Array.from({length: n}, (_, i) => `${i} ${fill}`).join('\n')
  const pub = await run(['publish', topicUrl(topic)], {env: cli, input})
  expect(pub.code, pub.stderr).toBe(0)
  return {url: topicUrl(topic), topic, from}
}

/** The pid of the `evtctl tail` that shell `sh` started (a descendant: `{ …; }` runs in a subshell). */
function tailPid(sh: number): number | undefined {
  const todo = [sh]
  while (todo.length > 0) {
    const pid = todo.shift()!
    try {
      if (pid !== sh && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('tail')) return pid
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)
      for (const c of children) if (c) todo.push(Number(c))
    } catch {}
  }
  return undefined
}

/** VmRSS of `pid` in MB, or undefined once it is gone. */
function rssMB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

describe('pubsub: a tail into a slow reader', () => {
  afterAll(async () => {
    const ps = testPubsub()
    try {
      await Promise.allSettled(made.map((t) => ps.topic(t).delete()))
    } finally {
      await ps.close()
    }
  })

  test('--until end into a reader that starts 5 s late prints every message and exits 0', async () => {
    const n = 30_000
    const {url, topic, from} = await backlog('slow-until', n, 20)
    const pipeline = start(
      {
        shell: `{ "${process.execPath}" ${NODE_FLAGS.join(' ')} "${BIN}" tail '${url}' --from ${from} --until end -o raw; echo "tail-exit=$?" >&2; } | (sleep 5; wc -l)`,
      },
      cli,
    )
    expect(await pipeline.done).toBe(0)
    expect(pipeline.err()).toMatch(/tail-exit=0/)
    expect(Number(pipeline.out().trim()), pipeline.err()).toBe(n)
    expect(await leftovers(topic)).toEqual([])
  }, 60_000)

  test('a follow into a reader that stalls for 8 s stays under 150 MB RSS while it waits and while it catches up, and loses nothing', async () => {
    const n = 60_000
    const stallMs = 8_000
    const {url, topic, from} = await backlog('slow-follow', n, 300)
    const t0 = Date.now()
    const pipeline = start(
      {
        shell: `{ "${process.execPath}" ${NODE_FLAGS.join(' ')} "${BIN}" tail '${url}' --from ${from} --max ${n} -o raw; echo "tail-exit=$?" >&2; } | (sleep ${stallMs / 1000}; wc -l)`,
      },
      cli,
    )
    let pid: number | undefined
    for (let i = 0; i < 50 && pid === undefined; i++) {
      await sleep(100)
      pid = tailPid(pipeline.child.pid!)
    }
    expect(pid, 'the tail process under the shell').toBeDefined()
    let stalled = 0
    let peak = 0
    const trace: string[] = []
    let stallSamples = 0
    let ended = false
    void pipeline.done.then(() => {
      ended = true
    })
    while (!ended) {
      const mb = rssMB(pid!)
      if (mb !== undefined) {
        peak = Math.max(peak, mb)
        trace.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${mb.toFixed(0)}`)
        // While the reader sleeps (a margin either side): a tail that reads ahead grows here.
        const at = Date.now() - t0
        if (at > 2_000 && at < stallMs - 500) {
          stalled = Math.max(stalled, mb)
          stallSamples++
        }
      }
      await sleep(100)
    }
    console.log(
      `follow into a stalled reader: ${n} messages; peak RSS ${stalled.toFixed(0)} MB while the reader slept, ${peak.toFixed(0)} MB over the whole run (catching up)`,
    )
    console.log(`RSS (MB) by second: ${trace.filter((_, i) => i % 10 === 0).join(', ')}`)
    expect(stallSamples).toBeGreaterThan(30)
    expect(pipeline.err()).toMatch(/tail-exit=0/)
    expect(Number(pipeline.out().trim()), pipeline.err()).toBe(n)
    expect(stalled).toBeLessThanOrEqual(150)
    // Catching up at full speed promotes garbage to old space; bin/run.js's --heap-growing-percent
    // has V8 collect it before the heap grows past 1.5× (without it: 159–186 MB here).
    expect(peak).toBeLessThanOrEqual(150)
    expect(await leftovers(topic)).toEqual([])
  }, 60_000)
})
