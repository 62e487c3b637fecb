#!/usr/bin/env bash
# diff-schema over a repository of 300 schema files (100 JSON Schema, 100 Avro, 100 Protobuf),
# about a third of them changed (some breaking), with --against HEAD~1 in one invocation; then the
# Protobuf part side by side with `buf breaking --against` (npm @bufbuild/buf, installed into a
# temporary folder; skipped when it cannot be installed).
# Target (issue #15): evtctl no slower than buf on the same Protobuf files.
# Usage: npm run build && bench/diff-schema.sh        (RUNS=n runs per command, default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
evtctl="$PWD/bin/run.js"
runs=${RUNS:-5}
BUF_VERSION=${BUF_VERSION:-1.75.0}
# BENCH_DIR=empty-folder keeps the generated repository (for profiling); else a temporary one.
dir=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT

gen() {
  node - "$dir" "$1" <<'EOF'
const fs = require('fs'), path = require('path')
const [dir, vs] = process.argv.slice(2); const v = vs === '1'
const write = (p, s) => { fs.mkdirSync(path.dirname(path.join(dir, p)), {recursive: true}); fs.writeFileSync(path.join(dir, p), s) }
const json = (i) => JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#', title: `Event${i}`, type: 'object', additionalProperties: false,
  required: ['id', 'at'],
  properties: {
    id: {type: 'string', format: 'uuid'}, at: {type: 'string', format: 'date-time'},
    amount: {type: v && i % 9 === 0 ? 'string' : 'number', minimum: 0},
    status: {enum: v && i % 10 === 0 ? ['new', 'paid'] : ['new', 'paid', 'shipped']},
    lines: {type: 'array', items: {$ref: '#/definitions/line'}},
    ...(v && i % 4 === 1 ? {note: {type: 'string', maxLength: 200}} : {}),
  },
  definitions: {line: {type: 'object', properties: {sku: {type: 'string'}, qty: {type: 'integer', minimum: 1}}}},
}, null, 2)
const avro = (i) => JSON.stringify({
  type: 'record', name: `Event${i}`, namespace: 'com.example', fields: [
    {name: 'id', type: 'string'}, {name: 'at', type: {type: 'long', logicalType: 'timestamp-millis'}},
    {name: 'amount', type: v && i % 9 === 0 ? 'double' : 'float'},
    {name: 'status', type: {type: 'enum', name: `Status${i}`, symbols: v && i % 10 === 0 ? ['NEW', 'PAID'] : ['NEW', 'PAID', 'SHIPPED']}},
    {name: 'tags', type: {type: 'array', items: 'string'}, default: []},
    ...(v && i % 4 === 1 ? [{name: 'note', type: ['null', 'string'], default: null}] : []),
  ],
}, null, 2)
const proto = (i) => `syntax = "proto3";
package bench.v1;
import "bench/v1/common.proto";
message Event${i} {
  string id = 1;
  Money amount = 2;
  ${v && i % 9 === 0 ? 'sint64' : 'int64'} count = 3;
  Status status = 4;
  repeated string tags = 5;
  ${v && i % 10 === 0 ? '' : 'string note = 6;'}
  oneof target {
    string email = 7;
    string phone = 8;
  }
  ${v && i % 4 === 1 ? 'bool flagged = 9;' : ''}
  enum Status {
    NEW = 0;
    PAID = 1;
    ${v && i % 7 === 0 ? '' : 'SHIPPED = 2;'}
  }
}
`
for (let i = 0; i < 100; i++) {
  write(`schemas/json/event${i}.json`, json(i))
  write(`schemas/avro/event${i}.avsc`, avro(i))
  write(`schemas/proto/bench/v1/event${i}.proto`, proto(i))
}
write('schemas/proto/bench/v1/common.proto', 'syntax = "proto3";\npackage bench.v1;\nmessage Money {\n  string currency = 1;\n  int64 units = 2;\n  int32 nanos = 3;\n}\n')
EOF
}
git_() { git -C "$dir" -c user.email=b@example.com -c user.name=b "$@"; }
git_ init -q -b main
gen 0 && git_ add -A && git_ commit -qm v0
gen 1 && git_ add -A && git_ commit -qm v1
echo "repository: $(git_ ls-files | wc -l) schema files; changed since HEAD~1: $(git_ diff --name-only HEAD~1 | wc -l)"

time_runs() { # label, command...: best and median wall time of $runs runs
  local label=$1; shift
  local times=()
  for _ in $(seq "$runs"); do
    local s e
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    times+=($(( (e - s) / 1000000 )))
  done
  local sorted; sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  printf '%-58s best %5d ms   median %5d ms\n' "$label" "$(echo "$sorted" | head -1)" "$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")"
  echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p" > "$dir/.last"
}

cd "$dir"
"$evtctl" diff-schema schemas --against HEAD~1 --json > "$dir/.report.json" || code=$?
node -e 'const r = require(process.argv[1]); const b = r.changes.filter(c => c.breaking).length;
  console.log(`evtctl report: exit ${process.argv[2]}, ${r.files.length} files, ${r.changes.length} changes, ${b} breaking`)' "$dir/.report.json" "${code:-0}"
time_runs "evtctl diff-schema schemas --against HEAD~1 (300 files)" "$evtctl" diff-schema schemas --against HEAD~1
time_runs "evtctl diff-schema schemas/proto --against HEAD~1" "$evtctl" diff-schema schemas/proto --against HEAD~1
evtctl_ms=$(cat "$dir/.last")

bufdir=$(mktemp -d)
if [ -n "${BENCH_DIR:-}" ]; then trap 'rm -rf "$bufdir"' EXIT; else trap 'rm -rf "$dir" "$bufdir"' EXIT; fi
if npm install --silent --no-audit --no-fund --prefix "$bufdir" "@bufbuild/buf@$BUF_VERSION" >/dev/null 2>&1 && [ -x "$bufdir/node_modules/.bin/buf" ]; then
  buf="$bufdir/node_modules/.bin/buf"
  "$buf" breaking schemas/proto --against ".git#ref=HEAD~1,subdir=schemas/proto" --error-format json > "$dir/.buf.json" 2>&1 || true
  echo "buf report: $(wc -l < "$dir/.buf.json") breaking change(s) (buf's FILE rules)"
  time_runs "buf breaking schemas/proto --against .git#ref=HEAD~1" "$buf" breaking schemas/proto --against ".git#ref=HEAD~1,subdir=schemas/proto"
  buf_ms=$(cat "$dir/.last")
  node -e 'const [e, b] = process.argv.slice(1).map(Number); console.log(`Protobuf: evtctl ${e} ms vs buf ${b} ms (median): evtctl/buf = ${(e / b).toFixed(2)} — ${e <= b ? "target met" : "SLOWER than buf"}`)' "$evtctl_ms" "$buf_ms"
else
  echo "buf: npm @bufbuild/buf@$BUF_VERSION could not be installed here; Protobuf comparison skipped"
fi
