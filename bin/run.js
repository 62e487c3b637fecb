#!/usr/bin/env -S node --max-semi-space-size=4
// --max-semi-space-size: stream commands allocate many short-lived objects; a small young
// generation keeps RSS flat (1M-message tail: 175 MB → ~125 MB, no slower).
// Kept tiny: cold start is measured. `--version` answers without loading oclif.
const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {readFileSync} = await import('node:fs')
  const {version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`evtctl/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  const {execute} = await import('../dist/cli.js')
  await execute({dir: import.meta.url})
}
