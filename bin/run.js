#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=50
// --max-semi-space-size: stream commands allocate many short-lived objects; a small young
// generation keeps RSS flat (1M-message tail: 175 MB → ~125 MB, no slower).
// --heap-growing-percent: what the small young generation promotes at full speed (a Pub/Sub tail
// catching up after a slow reader woke) is garbage in old space, which V8 let grow to ~3× the
// live heap before collecting it (peak 159–186 MB); growing 1.5× at most: 127 MB, as fast.
// Kept tiny: cold start is measured. `--version` answers without loading oclif.
const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {readFileSync} = await import('node:fs')
  const {version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`evtctl/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else if (argv[0] === '__complete' || argv[0] === '__complete-refresh') {
  // Shell completion (evtctl completion bash|zsh|fish): its own small bundle, no oclif.
  await (await import('../dist/complete.js')).main(argv)
} else {
  const [{execute}, {fileURLToPath}] = await Promise.all([import('../dist/cli.js'), import('node:url')])
  // No user plugins: evtctl has no plugin manager, and oclif would otherwise run code from a
  // package.json in its data directory on every command.
  await execute({loadOptions: {root: fileURLToPath(import.meta.url), userPlugins: false}})
}
