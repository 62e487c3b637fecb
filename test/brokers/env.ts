import {randomUUID} from 'node:crypto'
import {inject} from 'vitest'

export function brokerEnv() {
  return inject('brokers')
}

/** Unique names per test, so test files run in parallel without sharing state. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}
