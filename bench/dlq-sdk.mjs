// The same listing as `evtctl dlq list`, written directly on the SDKs in one script: the baseline
// of bench/dlq-list.sh: the same calls (ListQueues pages, GetQueueAttributes of every queue, and
// ListMessageMoveTasks of every DLQ holding messages). Usage: node bench/dlq-sdk.mjs sqs ENDPOINT | kafka BROKERS
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import {Kafka, logLevel} from 'kafkajs'

const [kind, where] = process.argv.slice(2)
if (kind === 'sqs') {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
  const sqs = new SQSClient({
    endpoint: where,
    region: 'us-east-1',
    credentials: {accessKeyId: 'x', secretAccessKey: 'x'},
  })
  const urls = []
  let token
  do {
    const page = await sqs.send(new ListQueuesCommand({MaxResults: 1000, NextToken: token}))
    urls.push(...(page.QueueUrls ?? []))
    token = page.NextToken
  } while (token)
  const attrs = []
  // 16 at a time, as evtctl does.
  for (let i = 0; i < urls.length; i += 16)
    attrs.push(
      ...(await Promise.all(
        urls
          .slice(i, i + 16)
          .map((QueueUrl) => sqs.send(new GetQueueAttributesCommand({QueueUrl, AttributeNames: ['All']}))),
      )),
    )
  const dlqs = new Map()
  for (const a of attrs) {
    const rp = a.Attributes?.RedrivePolicy
    if (rp)
      dlqs.set(JSON.parse(rp).deadLetterTargetArn, (dlqs.get(JSON.parse(rp).deadLetterTargetArn) ?? 0) + 1)
  }
  const byArn = new Map(attrs.map((a) => [a.Attributes.QueueArn, a.Attributes]))
  let depth = 0
  for (const arn of dlqs.keys()) depth += Number(byArn.get(arn)?.ApproximateNumberOfMessages ?? 0)
  // A running move task, as evtctl reports it: asked only of DLQs holding messages, 16 at a time.
  const busy = [...dlqs.keys()].filter((arn) => {
    const a = byArn.get(arn)
    return (
      a &&
      Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) > 0
    )
  })
  let tasks = 0
  for (let i = 0; i < busy.length; i += 16)
    for (const r of await Promise.all(
      busy
        .slice(i, i + 16)
        .map((SourceArn) => sqs.send(new ListMessageMoveTasksCommand({SourceArn, MaxResults: 1}))),
    ))
      if (r.Results?.[0]?.Status === 'RUNNING') tasks++
  console.log(`${dlqs.size} DLQs, depth ${depth}, ${tasks} move task(s) running`)
  sqs.destroy()
} else {
  const kafka = new Kafka({brokers: [where], logLevel: logLevel.NOTHING})
  const admin = kafka.admin()
  await admin.connect()
  const topics = (await admin.listTopics()).filter(
    (t) => !t.startsWith('__') && /(^|[._-])(dlq|dlt)($|[._-])|dead[._-]?letter/i.test(t),
  )
  const offsets = await Promise.all(topics.map((t) => admin.fetchTopicOffsets(t)))
  await admin.describeConfigs({
    resources: topics.map((name) => ({type: 2, name, configNames: ['cleanup.policy']})),
    includeSynonyms: false,
  })
  let depth = 0
  for (const o of offsets) for (const p of o) depth += Number(p.high) - Number(p.low)
  console.log(`${topics.length} DLQs, depth ${depth}`)
  await admin.disconnect()
}
