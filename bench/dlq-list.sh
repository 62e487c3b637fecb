#!/usr/bin/env bash
# dlq list over a large estate, against the same listing written directly on the SDKs in one script
# (bench/dlq-sdk.mjs), side by side in one run (issue "dlq list": >= 0.8× the SDK script's speed).
#   SQS: N queues on ElasticMQ (every 5th with a redrive policy to its own DLQ)
#   Kafka: N topics (every 5th a .DLT topic) — evtctl also reads first/last timestamps, the script not
# Usage: npm run build && bench/dlq-list.sh [N]   (RUNS=n, default 5; SKIP_CREATE=1 reuses what an earlier
# run made; KINDS=sqs benches one broker only; EVTCTL_BROKER_STATE=dir uses that broker set;
# needs hyperfine (apt-get install hyperfine); brokers up)
set -euo pipefail
cd "$(dirname "$0")/.."
state=${EVTCTL_BROKER_STATE:-.brokers}
[[ -f $state/env ]] || { echo "start the brokers first: npm run brokers -- up"; exit 2; }
. "$state/env"
n=${1:-500}
runs=${RUNS:-5}
suffix=$(date +%s)
if [[ -z ${SKIP_CREATE:-} ]]; then
echo "== creating $n SQS queues and $n Kafka topics (suffix $suffix)"
node --input-type=module -e '
import {CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient} from "@aws-sdk/client-sqs"
import {Kafka, logLevel} from "kafkajs"
const [n, suffix, endpoint, brokers] = [Number(process.argv[1]), process.argv[2], process.argv[3], process.argv[4]]
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"
const sqs = new SQSClient({endpoint, region: "us-east-1", credentials: {accessKeyId: "x", secretAccessKey: "x"}})
for (let i = 0; i < n; i += 5) {
  const dlq = await sqs.send(new CreateQueueCommand({QueueName: `b${suffix}-${i}-dlq`}))
  const arn = (await sqs.send(new GetQueueAttributesCommand({QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"]}))).Attributes.QueueArn
  await sqs.send(new SendMessageCommand({QueueUrl: dlq.QueueUrl, MessageBody: "x"}))
  await Promise.all([1, 2, 3, 4].map((j) => sqs.send(new CreateQueueCommand({QueueName: `b${suffix}-${i + j}`, Attributes: j === 1 ? {RedrivePolicy: JSON.stringify({deadLetterTargetArn: arn, maxReceiveCount: 3})} : {}}))))
}
sqs.destroy()
const admin = new Kafka({brokers: [brokers], logLevel: logLevel.NOTHING}).admin()
await admin.connect()
const topics = Array.from({length: n}, (_, i) => ({topic: i % 5 === 0 ? `b${suffix}-${i}.DLT` : `b${suffix}-${i}`}))
for (let i = 0; i < topics.length; i += 100) await admin.createTopics({topics: topics.slice(i, i + 100), waitForLeaders: false})
await new Promise((r) => setTimeout(r, 5000))
await admin.disconnect()
' "$n" "$suffix" "$SQS_ENDPOINT" "$KAFKA_BROKERS"
fi
json=$(mktemp); trap 'rm -f "$json"' EXIT
means() { node -e 'for (const r of JSON.parse(require("fs").readFileSync(process.argv[1])).results) console.log(r.mean.toFixed(3), "±", r.stddev.toFixed(3))' "$1"; }
ratio() { echo "${1%% *} / ${2%% *}" | bc -l; }
for kind in ${KINDS:-sqs kafka}; do
  if [[ $kind == sqs ]]; then where=$SQS_ENDPOINT; target="--context bench-sqs"; else where=$KAFKA_BROKERS; target="kafka://$KAFKA_BROKERS"; fi
  export XDG_CONFIG_HOME=$(mktemp -d)
  ./bin/run.js config set-context bench-sqs --broker sqs --region us-east-1 --endpoint "$SQS_ENDPOINT" >/dev/null 2>&1
  echo "== $kind: all queues/topics of the harness broker (including those of earlier runs); mean of $runs runs"
  ./bin/run.js dlq list $target --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log("  evtctl found", JSON.parse(s).dlqs.length, "DLQs"))'
  hyperfine -r "$runs" -w 1 -S bash --export-json "$json" \
    "node bench/dlq-sdk.mjs $kind $where >/dev/null" \
    "./bin/run.js dlq list $target --json >/dev/null 2>&1" >/dev/null 2>&1
  mapfile -t m < <(means "$json")
  printf '  SDK script       %s s\n  evtctl dlq list  %s s  (%.2f× the script'"'"'s speed)\n' "${m[0]}" "${m[1]}" "$(ratio "${m[0]}" "${m[1]}")"
done
