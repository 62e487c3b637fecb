import {defineConfig} from 'vitest/config'

// One project per layer, so each can run on its own: `npx vitest run --project unit`.
export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {test: {name: 'unit', include: ['src/**/*.test.ts'], environment: 'node'}},
      {test: {name: 'contract', include: ['test/contract/**/*.test.ts'], environment: 'node'}},
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/brokers/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {test: {name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 30_000}},
    ],
  },
})
