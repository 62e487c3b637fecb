#!/usr/bin/env bash
# Kafka topic → topic replay, side by side in one run against the harness broker:
#   evtctl replay SRC --to DST (copy, journaled, headers and keys kept)
#   vs kcat -C … | kcat -P … (the pipe users build today; it loses headers)
# N × 200 B messages with a key and a header each, 3 partitions. Target (issue "replay"):
# evtctl >= 0.5× the kcat pipe; peak RSS <= 200 MB whatever the backlog.
# Usage: npm run build && bench/replay-kafka.sh [count]   (default 500000; brokers up; kcat installed)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f .brokers/env ]] || { echo "start Kafka first: npm run brokers -- up kafka"; exit 2; }
. .brokers/env
count=${1:-500000}
tool() { node scripts/brokers.mjs kafka-tool "$@"; }
suffix=$(date +%s)
src=bench-rp-src-$suffix; dst1=bench-rp-kcat-$suffix; dst2=bench-rp-evtctl-$suffix
for topic in $src $dst1 $dst2; do tool TopicCommand --bootstrap-server "$KAFKA_BROKERS" --create --topic "$topic" --partitions 3 >/dev/null; done
lines=$(mktemp); state=$(mktemp -d); trap 'rm -rf "$lines" "$state"' EXIT
# key<TAB>value, 200-byte values; every message also gets a header (kcat -H applies to all).
node -e 'const n=+process.argv[1];const out=[];for(let i=0;i<n;i++)out.push(`k${i%1000}\t`+(`{"i":${i},"pad":"`).padEnd(198,"x")+`"}`);process.stdout.write(out.join("\n")+"\n")' "$count" > "$lines"
kcat -b "$KAFKA_BROKERS" -P -t "$src" -K $'\t' -H trace=bench -z lz4 < "$lines"
echo "== replay $count × 200 B (3 partitions, key + header each), topic → topic"
t0=$(date +%s.%N)
kcat -b "$KAFKA_BROKERS" -C -t "$src" -e -q -o beginning -K $'\t' | kcat -b "$KAFKA_BROKERS" -P -t "$dst1" -K $'\t'
t1=$(date +%s.%N)
XDG_STATE_HOME=$state /usr/bin/time -o "$state/rss" -f "%M" ./bin/run.js replay "kafka://$KAFKA_BROKERS/$src" --to "kafka://$KAFKA_BROKERS/$dst2" --yes 2>/dev/null
rss=$(cat "$state/rss")
t2=$(date +%s.%N)
kc=$(echo "$t1 - $t0" | bc -l); ev=$(echo "$t2 - $t1" | bc -l)
printf '  kcat -C | kcat -P   %.2f s  (%d msg/s; headers lost)\n  evtctl replay        %.2f s  (%d msg/s; %.2f× the kcat pipe; peak RSS %d MB)\n' \
  "$kc" "$(echo "$count / $kc" | bc)" "$ev" "$(echo "$count / $ev" | bc)" "$(echo "$kc / $ev" | bc -l)" $((rss / 1024))
for t in $dst1 $dst2; do printf '  %s holds %s messages\n' "$t" "$(kcat -b "$KAFKA_BROKERS" -C -t "$t" -e -q -o beginning -f 'x\n' | wc -l)"; done
