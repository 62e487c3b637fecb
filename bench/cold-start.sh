#!/usr/bin/env bash
# Cold start side by side with `node -e 0` (the floor of any Node CLI), in one hyperfine run.
# Targets: evtctl --version <= floor + 60 ms; evtctl tail --help <= floor + 120 ms.
# NODE_EXTRA_CA_CERTS adds ~80 ms to every Node start here: measured with it unset, then as-is.
#   bash bench/cold-start.sh          the Node on PATH
#   bash bench/cold-start.sh 24 22    that one, then Node 24 and 22 (scripts/node-runtime.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install -y hyperfine)"; exit 2; }
run() { hyperfine -N -w 5 -r "${RUNS:-30}" 'node -e 0' './bin/run.js --version' './bin/run.js tail --help' './bin/run.js publish --help' './bin/run.js __complete tail --o'; }
measure() {
  echo "##### Node $(node --version)"
  echo "== NODE_EXTRA_CA_CERTS unset"; env -u NODE_EXTRA_CA_CERTS bash -c "$(declare -f run); run"
  echo "== environment as-is (NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-unset})"; run
}
measure
for v in "$@"; do
  bin=$(node scripts/node-runtime.mjs "$v")
  PATH="$bin:$PATH" measure
done
