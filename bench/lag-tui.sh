#!/usr/bin/env bash
# evtctl lag, side by side in one run against the harness's Kafka (npm run brokers -- up kafka):
#  1. CPU of the dashboard (Ink) with 36 rows at a 1 s interval, under a pty (tmux) for 30 s after
#     a warm-up, against the reference: the same lines from the same polls drawn with plain ANSI
#     cursor moves (bench/lag-tui.ts reference). A producer writes 10 msg/s so every frame changes.
#     Targets (issue #14): <= 3% of one core, and <= 1.5x the reference. Measured twice in each
#     process: 30 s from 8 s on (the issue's "after warm-up") and 30 s from 90 s on.
#  2. `lag --json` on 200 groups x 50 partitions: wall time of the command, and per poll in-process
#     the time and the number of Kafka requests (counted from the bytes each socket writes).
# Usage: npm run build && flock /tmp/evtctl-heavy.lock bench/lag-tui.sh   (needs tmux; ONLY_CPU=1: part 1)
# Setting up 200 groups x 50 partitions takes kafkajs's setOffsets ~15 minutes here.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${EVTCTL_BROKER_STATE:-.brokers}
[[ -f $state/env ]] || { echo "start Kafka first: npm run brokers -- up kafka"; exit 2; }
. "$state/env"
WARM=${WARM:-8}
SECS=${SECS:-30}
LATE=${LATE:-90}
mkdir -p .scratch
npx esbuild bench/lag-tui.ts --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --outfile=.scratch/lag-bench.mjs --external:kafkajs '--external:@platformatic/*' \
  "--banner:js=import {createRequire as __r} from 'node:module'; const require = __r(import.meta.url);"
b() { node .scratch/lag-bench.mjs "$@"; }
suffix=$(date +%s)
t36=lagbench36-$suffix
t200=lagbench200-$suffix
# The groups and topics of a run are deleted when it ends: left behind, they would make the next
# run's polls dearer (lag lists every group in the cluster and fetches its offsets).
trap 'b cleanup "$t36" || true; b cleanup "$t200" || true' EXIT
b setup "$t36" 36 4
url36="kafka://$KAFKA_BROKERS/$t36"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# cpu NAME COMMAND: % of one core over SECS s after WARM s, and again over SECS s from LATE s on
# (V8 still compiles hot functions during the first minute at one frame a second), in a 160x45
# tmux pane; and the rows on screen
cpu() {
  local sock=lagbench-$$-$1
  tmux -L "$sock" -f /dev/null new-session -d -s b -x 160 -y 45 "exec env -u CI $2"
  local pid; pid=$(tmux -L "$sock" list-panes -t b -F '#{pane_pid}')
  b produce "$t36" $((LATE + SECS + 2)) &
  local prod=$!
  sleep "$WARM"
  local rows; rows=$(tmux -L "$sock" capture-pane -p -t b | grep -c -- "$t36-g" || true)
  local t0; t0=$(ticks "$pid")
  sleep "$SECS"
  local t1; t1=$(ticks "$pid")
  sleep $((LATE - WARM - SECS))
  local t2; t2=$(ticks "$pid")
  sleep "$SECS"
  local t3; t3=$(ticks "$pid")
  tmux -L "$sock" send-keys -t b q
  sleep 1
  tmux -L "$sock" kill-server 2>/dev/null || true
  wait "$prod" || true
  printf '%s %s %s %s\n' "$1" "$(echo "scale=2; ($t1 - $t0) / $SECS" | bc)" \
    "$(echo "scale=2; ($t3 - $t2) / $SECS" | bc)" "$rows"
}
echo "== dashboard CPU, 36 rows, 1 s interval, % of one core over ${SECS} s from ${WARM} s and from ${LATE} s on"
read -r _ ink inklate inkrows < <(cpu ink "./bin/run.js lag $url36 --interval 1s")
read -r _ ref reflate refrows < <(cpu reference "node .scratch/lag-bench.mjs reference $url36 1000")
printf '                                        from %3s s  from %3s s\n' "$WARM" "$LATE"
printf '  evtctl lag (Ink 6), as installed      %6s%%  %8s%%  (%s rows on screen)\n' "$ink" "$inklate" "$inkrows"
printf '  reference ANSI redraw loop            %6s%%  %8s%%  (%s rows on screen)\n' "$ref" "$reflate" "$refrows"
printf '  ratio to the reference                %7s  %9s\n' "$(echo "scale=2; $ink / $ref" | bc)" "$(echo "scale=2; $inklate / $reflate" | bc)"

[[ ${ONLY_CPU:-} == 1 ]] && exit 0
echo "== lag --json, 200 groups x 50 partitions"
b setup "$t200" 200 50
url200="kafka://$KAFKA_BROKERS/$t200"
groups=$(./bin/run.js lag "$url200" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).groups.length))')
echo "  groups on the topic: $groups (the cluster holds $(./bin/run.js lag "kafka://$KAFKA_BROKERS" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).groups.length))') groups with commits)"
for i in 1 2 3; do
  s=$(date +%s.%N); ./bin/run.js lag "$url200" --json > /dev/null; e=$(date +%s.%N)
  printf '  run %d: evtctl lag --json  %.2f s wall (start-up, connect, one poll)\n' "$i" "$(echo "$e - $s" | bc)"
done
echo "  in-process polls on one connection (what the dashboard repeats every interval):"
b polls "$url200" 5 | sed 's/^/    /'
