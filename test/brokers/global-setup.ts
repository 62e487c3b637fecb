import type {TestProject} from 'vitest/node'
import {type BrokerEnv, down, up} from '../../scripts/brokers.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    brokers: BrokerEnv
  }
}

/**
 * Brings Kafka, ElasticMQ and the Pub/Sub emulator up for the integration tests (reusing any a
 * developer already started with `npm run brokers -- up`) and stops only what it started fresh: a
 * broker of that earlier set that had died and was restarted here stays up, as other test runs
 * (started at the same time, sharing the set) may be using it.
 * Under CI=true a broker that fails to start fails the run; elsewhere its tests are skipped with
 * a loud reason.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const {env, started, restarted, failed} = await up()
  const failures = Object.entries(failed)
  if (failures.length > 0) {
    const report = failures.map(([name, msg]) => `--- ${name} failed to start ---\n${msg}`).join('\n')
    if (process.env.CI === 'true') {
      await down(started)
      throw new Error(`Brokers failed to start under CI=true; the run fails.\n${report}`)
    }
    process.stderr.write(
      `\n${'!'.repeat(78)}\nSKIPPING integration tests of: ${failures.map(([n]) => n).join(', ')} (not CI, so not fatal)\n${report}\n${'!'.repeat(78)}\n\n`,
    )
  }
  project.provide('brokers', env)
  return async () => {
    await down(started.filter((n) => !restarted.includes(n)))
  }
}
