import {setMaxListeners} from 'node:events'
import pMap from 'p-map'
import type {Target} from '../../config/targets.js'
import {NotFoundError} from '../../errors.js'
import type {LagReader, LagScopeOptions, SqsQueueRaw} from '../lag-source.js'
import type {MetricReading, SqsMetrics} from '../metrics/port.js'
import type {DeadLetterDeps} from './dead-letters.js'

type SqsTarget = Extract<Target, {kind: 'sqs'}>

const CONCURRENCY = 16
const DEPTH = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'RedrivePolicy',
] as const

/**
 * `evtctl lag` on SQS: each queue's GetQueueAttributes (visible, in flight, delayed) and its DLQ's
 * depth beside it (from the redrive policy). Read-only: nothing is received. The age of the oldest
 * message is only in CloudWatch (ApproximateAgeOfOldestMessage): read through `where.metrics`, one
 * GetMetricData call for all the queues of a poll, beside the attributes. Without it (ElasticMQ
 * and other endpoints that are not AWS have no CloudWatch, and get no call at all) it is null
 * with the reason.
 */
export function sqsLagReader(
  deps: DeadLetterDeps,
  scopes: SqsTarget[],
  opts: LagScopeOptions,
  where: {endpoint?: string; aws: boolean; metrics?: SqsMetrics},
): LagReader {
  const dlqUrls = new Map<string, string | null>()
  const noMetrics = where.aws
    ? 'needs cloudwatch:GetMetricData (ApproximateAgeOfOldestMessage)'
    : `${where.endpoint ?? 'this endpoint'} is not AWS and has no CloudWatch (ElasticMQ has none), so the age of the oldest message is unknown`

  async function queuesOf(
    scope: SqsTarget,
    signal: AbortSignal,
  ): Promise<Array<{name: string; url: string}>> {
    if (scope.queueName !== '') return [{name: scope.queueName, url: await deps.urlOf(scope, signal)}]
    const urls: string[] = []
    let token: string | undefined
    do {
      const page = await deps.call(
        'ListQueues',
        (o) =>
          deps.sqs.listQueues(
            {
              MaxResults: 1000,
              ...(opts.prefix ? {QueueNamePrefix: opts.prefix} : {}),
              ...(token ? {NextToken: token} : {}),
            },
            o,
          ),
        {signal},
      )
      urls.push(...(page.QueueUrls ?? []))
      token = page.NextToken
    } while (token)
    if (urls.length === 0) {
      throw new NotFoundError(
        `No queue${opts.prefix ? ` whose name starts with "${opts.prefix}"` : ''} at ${scope.url}.`,
        'Check --prefix, or name a queue: evtctl lag sqs://REGION/QUEUE.',
      )
    }
    return urls
      .map((url) => ({name: url.replace(/^.*\//, ''), url}))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  async function dlqUrl(scope: SqsTarget, arn: string, signal: AbortSignal): Promise<string | null> {
    if (dlqUrls.has(arn)) return dlqUrls.get(arn)!
    const name = arn.replace(/^.*:/, '')
    let url: string | null
    try {
      url = await deps.urlOf(
        {...scope, url: `${scope.url}/${name}`, queueName: name, queueUrl: undefined} as SqsTarget,
        signal,
      )
    } catch (err) {
      if (err instanceof NotFoundError) url = null
      else throw err
    }
    dlqUrls.set(arn, url)
    return url
  }

  return {
    async poll(signal) {
      setMaxListeners(CONCURRENCY * 4, signal)
      const at = new Date().toISOString()
      const queues = (await Promise.all(scopes.map((s) => queuesOf(s, signal)))).flatMap((qs, i) =>
        qs.map((q) => ({...q, scope: scopes[i]!})),
      )
      const unique = [...new Map(queues.map((q) => [q.url, q])).values()]
      // CloudWatch is asked beside the attributes, once for all the queues; it never throws.
      const ages: Promise<MetricReading<number> | undefined> = where.metrics
        ? where.metrics.oldestAge(
            unique.map((q) => q.name),
            signal,
          )
        : Promise.resolve(undefined)
      const out = await pMap(
        unique,
        async (q): Promise<SqsQueueRaw> => {
          const a =
            (
              await deps.call(
                'GetQueueAttributes',
                (o) => deps.sqs.getQueueAttributes({QueueUrl: q.url, AttributeNames: [...DEPTH]}, o),
                {signal, queue: q.name},
              )
            ).Attributes ?? {}
          const row: SqsQueueRaw = {
            queue: q.name,
            url: q.url,
            visible: Number(a.ApproximateNumberOfMessages ?? 0),
            inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
            delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
            oldestAgeMs: null,
          }
          const arn = a.RedrivePolicy
            ? (JSON.parse(a.RedrivePolicy) as {deadLetterTargetArn?: string}).deadLetterTargetArn
            : undefined
          if (arn) {
            const dlqName = arn.replace(/^.*:/, '')
            const u = await dlqUrl(q.scope, arn, signal)
            if (u === null)
              row.dlq = {
                queue: dlqName,
                visible: null,
                note: 'the DLQ named by the redrive policy does not exist',
              }
            else {
              const d =
                (
                  await deps.call(
                    'GetQueueAttributes',
                    (o) =>
                      deps.sqs.getQueueAttributes(
                        {QueueUrl: u, AttributeNames: ['ApproximateNumberOfMessages']},
                        o,
                      ),
                    {signal, queue: dlqName},
                  )
                ).Attributes ?? {}
              row.dlq = {queue: dlqName, visible: Number(d.ApproximateNumberOfMessages ?? 0)}
            }
          }
          return row
        },
        {concurrency: CONCURRENCY, signal},
      )
      const reading = await ages
      for (const row of out) {
        const age = reading?.values.get(row.queue)
        if (age !== undefined) row.oldestAgeMs = age
        else row.oldestAgeNote = reading ? (reading.unavailable ?? reading.missing) : noMetrics
      }
      return {kind: 'sqs', at, queues: out}
    },
    close: async () => {},
  }
}
