#!/usr/bin/env bash
# Kafka throughput, side by side in one run against the harness broker (npm run brokers -- up kafka).
#   tail:    1M × 200 B from the beginning to /dev/null as JSONL: evtctl vs kcat -C -J -e vs ConsoleConsumer
#   publish: 1M × 200-byte lines from stdin: evtctl (platformatic producer, and kafkajs) vs kcat -P
# Targets (issue "Kafka adapter"): tail >= 0.25× kcat and faster than ConsoleConsumer; publish >= 0.1× kcat;
# RSS <= 150 MB while tailing, also into a slow pipe.   Usage: npm run build && bench/kafka.sh [count]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f .brokers/env ]] || { echo "start Kafka first: npm run brokers -- up kafka"; exit 2; }
. .brokers/env
count=${1:-1000000}
tool() { node scripts/brokers.mjs kafka-tool "$@"; }
# t 'command with redirections': runs it, prints the seconds it took.
t() { local s; s=$(date +%s.%N); eval "$1"; echo "$(date +%s.%N) - $s" | bc; }
suffix=$(date +%s)
src=bench-src-$suffix; dst1=bench-dst1-$suffix; dst2=bench-dst2-$suffix; dst3=bench-dst3-$suffix
for topic in $src $dst1 $dst2 $dst3; do tool TopicCommand --bootstrap-server "$KAFKA_BROKERS" --create --topic "$topic" --partitions 3 >/dev/null; done
tool ProducerPerformance --topic "$src" --num-records "$count" --record-size 200 --throughput -1 \
  --producer-props bootstrap.servers="$KAFKA_BROKERS" linger.ms=20 batch.size=262144 >/dev/null
echo "== tail $count × 200 B (3 partitions) to /dev/null"
kcat_s=$(t 'kcat -b "$KAFKA_BROKERS" -C -t "$src" -J -e -q > /dev/null')
evt_s=$(t './bin/run.js tail "kafka://$KAFKA_BROKERS/$src" --from beginning --until end -o jsonl > /dev/null')
rss=$( { /usr/bin/time -f "%M" ./bin/run.js tail "kafka://$KAFKA_BROKERS/$src" --from beginning --until end -o jsonl > /dev/null; } 2>&1 | tail -1)
cc_s=$(t 'tool ConsoleConsumer --bootstrap-server "$KAFKA_BROKERS" --topic "$src" --from-beginning --max-messages "$count" > /dev/null 2>&1')
slow_rss=$( { /usr/bin/time -f "%M" ./bin/run.js tail "kafka://$KAFKA_BROKERS/$src" --from beginning --until end -o jsonl | node bench/slow-reader.mjs 40000000 2>/dev/null; } 2>&1 | tail -1)
printf '  kcat -C -J -e        %6.2f s\n  evtctl tail -o jsonl %6.2f s  (%.2f× kcat; peak RSS %d MB; into a 40 MB/s pipe: %d MB)\n  ConsoleConsumer      %6.2f s\n' \
  "$kcat_s" "$evt_s" "$(echo "$kcat_s / $evt_s" | bc -l)" $((rss / 1024)) $((slow_rss / 1024)) "$cc_s"
echo "== publish $count × 200-byte lines from stdin"
lines=$(mktemp); trap 'rm -f "$lines"' EXIT
node -e 'const n=+process.argv[1];const b=[];for(let i=0;i<n;i++)b.push(("m"+i+"-").padEnd(200,"x"));process.stdout.write(b.join("\n")+"\n")' "$count" > "$lines"
kcatp_s=$(t 'kcat -b "$KAFKA_BROKERS" -P -t "$dst1" < "$lines"')
evtp_s=$(t './bin/run.js publish "kafka://$KAFKA_BROKERS/$dst2" < "$lines" 2>/dev/null')
evtk_s=$(t 'EVTCTL_KAFKA_PRODUCER=kafkajs ./bin/run.js publish "kafka://$KAFKA_BROKERS/$dst3" < "$lines" 2>/dev/null')
printf '  kcat -P                          %6.2f s\n  evtctl publish (@platformatic)   %6.2f s  (%.3f× kcat)\n  evtctl publish (kafkajs producer) %5.2f s  (%.3f× kcat)\n' \
  "$kcatp_s" "$evtp_s" "$(echo "$kcatp_s / $evtp_s" | bc -l)" "$evtk_s" "$(echo "$kcatp_s / $evtk_s" | bc -l)"
for topic in $src $dst1 $dst2 $dst3; do tool TopicCommand --bootstrap-server "$KAFKA_BROKERS" --delete --topic "$topic" >/dev/null; done
