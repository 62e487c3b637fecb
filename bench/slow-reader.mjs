// A deliberately slow reader of stdin (about RATE bytes/s), to check that a writer's memory stays
// flat when its stdout cannot keep up (back-pressure must reach the read).
const rate = Number(process.argv[2] ?? 20_000_000)
let bytes = 0
const started = Date.now()
process.stdin.on('data', (chunk) => {
  bytes += chunk.length
  const due = (bytes / rate) * 1000 - (Date.now() - started)
  if (due > 5) {
    process.stdin.pause()
    setTimeout(() => process.stdin.resume(), due)
  }
})
process.stdin.on('end', () =>
  process.stderr.write(`slow reader: ${bytes} bytes in ${Date.now() - started} ms\n`),
)
