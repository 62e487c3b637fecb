#!/usr/bin/env bash
# File broker: tail 1M small envelopes to /dev/null and into a slow pipe; reports time and peak RSS.
# Target (issue "foundation"): RSS <= 150 MB, flat.   Usage: npm run build && bench/file-tail.sh [count]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
node -e '
const n = Number(process.argv[1]); const out = [];
const fs = require("fs"); const fd = fs.openSync(process.argv[2], "w");
for (let i = 0; i < n; i++) {
  out.push(JSON.stringify({v: 1, timestamp: "2026-11-24T00:00:00.000Z", key: {utf8: "k" + (i % 100)}, value: {json: {id: i, name: "x".repeat(40)}}}));
  if (out.length === 10000) { fs.writeSync(fd, out.join("\n") + "\n"); out.length = 0 }
}
if (out.length) fs.writeSync(fd, out.join("\n") + "\n");
' "$count" "$dir/t.jsonl"
echo "file: $(du -h "$dir/t.jsonl" | cut -f1), $count envelopes"
for mode in jsonl raw; do
  /usr/bin/time -f "tail -o $mode > /dev/null: %e s, peak RSS %M KB" ./bin/run.js tail "file://$dir/t.jsonl" --from beginning --until end -o $mode > /dev/null
done
/usr/bin/time -f "tail -o jsonl | slow reader (20 MB/s): %e s, peak RSS %M KB" ./bin/run.js tail "file://$dir/t.jsonl" --from beginning --until end -o jsonl | node bench/slow-reader.mjs 20000000
