#!/usr/bin/env node
// Bundles src/cli.ts with @oclif/core into dist/ (ESM, code-split so lazy imports stay lazy), and
// src/completion/complete.ts, the completion entry, beside it.
// Broker SDKs stay external: they are loaded from node_modules only by the adapter that needs them.
import {rmSync} from 'node:fs'
import {build} from 'esbuild'

rmSync('dist', {recursive: true, force: true})
await build({
  // complete: what the shell completion scripts call on TAB (bin/run.js loads it without oclif).
  entryPoints: {cli: 'src/cli.ts', complete: 'src/completion/complete.ts'},
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // typescript and ts-node: oclif's dev-mode TypeScript support, never used by a built CLI.
  external: [
    'typescript',
    'ts-node',
    'kafkajs',
    '@platformatic/*',
    '@aws-sdk/*',
    '@smithy/*',
    '@google-cloud/*',
    'google-gax',
    // Cloud Monitoring's requests (lag, dlq list on Google Cloud): loaded only then.
    'google-auth-library',
    // The lag dashboard's: loaded from node_modules only on a terminal.
    'ink',
    'react',
    'react/*',
  ],
  jsx: 'automatic',
  // CommonJS dependencies call require() for Node built-ins; give the ESM bundle a real one.
  banner: {
    js: "import {createRequire as __evtctlCreateRequire} from 'node:module'; const require = __evtctlCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
})
