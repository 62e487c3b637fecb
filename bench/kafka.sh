#!/usr/bin/env bash
# Kafka throughput, side by side in one run against the harness broker (npm run brokers -- up kafka).
#   tail:    1M × 200 B from the beginning to /dev/null as JSONL: evtctl vs kcat -C -J -e vs ConsoleConsumer
#   publish: 1M × 200-byte lines from stdin: evtctl (platformatic producer, and kafkajs) vs kcat -P
# Targets (issue "Kafka adapter"): tail >= 0.25× kcat and faster than ConsoleConsumer; publish >= 0.1× kcat;
# RSS <= 150 MB while tailing, also into a slow pipe.
# Usage: npm run build && bench/kafka.sh [count]   (RUNS=n runs per command, default 3; needs hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f .brokers/env ]] || { echo "start Kafka first: npm run brokers -- up kafka"; exit 2; }
. .brokers/env
count=${1:-1000000}
tool() { node scripts/brokers.mjs kafka-tool "$@"; }
suffix=$(date +%s)
src=bench-src-$suffix; dst1=bench-dst1-$suffix; dst2=bench-dst2-$suffix; dst3=bench-dst3-$suffix
for topic in $src $dst1 $dst2 $dst3; do tool TopicCommand --bootstrap-server "$KAFKA_BROKERS" --create --topic "$topic" --partitions 3 >/dev/null; done
tool ProducerPerformance --topic "$src" --num-records "$count" --record-size 200 --throughput -1 \
  --producer-props bootstrap.servers="$KAFKA_BROKERS" linger.ms=20 batch.size=262144 >/dev/null
# mean seconds of each command in a hyperfine JSON export, in order
means() { node -e 'for (const r of JSON.parse(require("fs").readFileSync(process.argv[1])).results) console.log(r.mean.toFixed(2), "±", r.stddev.toFixed(2))' "$1"; }
runs=${RUNS:-3}
json=$(mktemp); lines=$(mktemp); trap 'rm -f "$json" "$lines"' EXIT
echo "== tail $count × 200 B (3 partitions) to /dev/null: mean of $runs runs each"
hyperfine -r "$runs" -w 1 -S bash --export-json "$json" \
  "kcat -b $KAFKA_BROKERS -C -t $src -J -e -q >/dev/null" \
  "./bin/run.js tail kafka://$KAFKA_BROKERS/$src --from beginning --until end -o jsonl >/dev/null" \
  "node scripts/brokers.mjs kafka-tool ConsoleConsumer --bootstrap-server $KAFKA_BROKERS --topic $src --from-beginning --max-messages $count >/dev/null 2>&1" \
  >/dev/null 2>&1
mapfile -t m < <(means "$json")
rss=$( { /usr/bin/time -f "%M" ./bin/run.js tail "kafka://$KAFKA_BROKERS/$src" --from beginning --until end -o jsonl > /dev/null; } 2>&1 | tail -1)
slow_rss=$( { /usr/bin/time -f "%M" ./bin/run.js tail "kafka://$KAFKA_BROKERS/$src" --from beginning --until end -o jsonl | node bench/slow-reader.mjs 40000000 2>/dev/null; } 2>&1 | tail -1)
ratio() { echo "${1%% *} / ${2%% *}" | bc -l; }
printf '  kcat -C -J -e        %s s\n  evtctl tail -o jsonl %s s  (%.2f× kcat; peak RSS %d MB; into a 40 MB/s pipe: %d MB)\n  ConsoleConsumer      %s s  (evtctl %.2f× its speed)\n' \
  "${m[0]}" "${m[1]}" "$(ratio "${m[0]}" "${m[1]}")" $((rss / 1024)) $((slow_rss / 1024)) "${m[2]}" "$(ratio "${m[2]}" "${m[1]}")"
echo "== publish $count × 200-byte lines from stdin: mean of $runs runs each"
node -e 'const n=+process.argv[1];const b=[];for(let i=0;i<n;i++)b.push(("m"+i+"-").padEnd(200,"x"));process.stdout.write(b.join("\n")+"\n")' "$count" > "$lines"
hyperfine -r "$runs" -S bash --export-json "$json" \
  "kcat -b $KAFKA_BROKERS -P -t $dst1 < $lines" \
  "./bin/run.js publish kafka://$KAFKA_BROKERS/$dst2 < $lines 2>/dev/null" \
  "EVTCTL_KAFKA_PRODUCER=kafkajs ./bin/run.js publish kafka://$KAFKA_BROKERS/$dst3 < $lines 2>/dev/null" \
  >/dev/null 2>&1
mapfile -t m < <(means "$json")
printf '  kcat -P                           %s s\n  evtctl publish (@platformatic)    %s s  (%.3f× kcat)\n  evtctl publish (kafkajs producer)  %s s  (%.3f× kcat)\n' \
  "${m[0]}" "${m[1]}" "$(ratio "${m[0]}" "${m[1]}")" "${m[2]}" "$(ratio "${m[0]}" "${m[2]}")"
for topic in $src $dst1 $dst2 $dst3; do tool TopicCommand --bootstrap-server "$KAFKA_BROKERS" --delete --topic "$topic" >/dev/null; done
