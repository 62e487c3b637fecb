import {Args, Flags} from '@oclif/core'
import type {LagScopeOptions} from '../adapters/lag-source.js'
import {BaseCommand} from '../base-command.js'
import {exitCodeHelp, InterruptedError, UsageError} from '../errors.js'
import {durationFlag} from '../flags.js'
import type {LagDoc} from '../services/lag/view.js'

export type LagResult = LagDoc

export default class Lag extends BaseCommand {
  static override summary = 'Consumer lag: offsets and time behind, trend, time to drain, in plain words.'
  static override description =
    `TARGET: kafka://HOST:PORT (every group) or kafka://HOST:PORT/TOPIC (the groups on it); one or more SQS queues, or sqs://REGION with --prefix; a Pub/Sub subscription, topic or project; a file topic. Without TARGET: the current context's broker.

On a terminal: a live dashboard (q quits, ↑↓ move, enter expands partitions, / filters, s sorts, p pauses). Otherwise one table (or --json, one document), and with --watch one JSON line per interval.

Reads only: Kafka's committed offsets come from the admin API without joining any group (that would rebalance its consumers); SQS is asked GetQueueAttributes, nothing is received. Unknown numbers are null (? in tables) with the reason, never 0: time lag needs a readable message at the committed offset; SQS message age and Pub/Sub backlog live only in CloudWatch (needs cloudwatch:GetMetricData) and Cloud Monitoring (needs monitoring.timeSeries.list), read once per poll on AWS and Google Cloud only — never on ElasticMQ, other endpoints that are not AWS, or the Pub/Sub emulator.

${exitCodeHelp([0, 1, 2, 3, 4, 5, 6, 130])}`

  static override examples = [
    {
      description: 'Live dashboard of every group',
      command: '<%= config.bin %> <%= command.id %> kafka://127.0.0.1:9092',
    },
    {
      description: 'Groups behind, as JSON',
      command: `<%= config.bin %> <%= command.id %> kafka://127.0.0.1:9092/orders --json | jq '.groups[] | select(.lag > 0) | {group, lag, timeLagMs, status}'`,
    },
    {
      description: 'A JSON line every 10 s, for a log',
      command: '<%= config.bin %> <%= command.id %> sqs://us-east-1 --prefix orders --watch --interval 10s',
    },
  ]

  static override enableJsonFlag = true
  // Several SQS queues (or Kafka/Pub/Sub targets of one broker) may be named.
  static override strict = false

  static override args = {
    target: Args.string({
      description: 'A broker, topic, queue or subscription (see above).',
      required: false,
    }),
  }

  static override flags = {
    group: Flags.string({
      char: 'g',
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Kafka, file: only this consumer group (repeatable).',
    }),
    interval: durationFlag({
      default: 2000,
      defaultHelp: async () => '2s',
      env: 'EVTCTL_LAG_INTERVAL',
      summary: 'Time between polls of the dashboard and --watch.',
    }),
    prefix: Flags.string({summary: 'SQS, with sqs://REGION: only queues whose names start with this.'}),
    profile: Flags.string({summary: "SQS: the AWS profile to use (else the context's, else AWS_PROFILE)."}),
    topic: Flags.string({
      char: 't',
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Kafka: only groups on this topic (repeatable).',
    }),
    watch: Flags.boolean({summary: 'Print one JSON snapshot per line every --interval, until Ctrl-C.'}),
  }

  async run(): Promise<LagResult | undefined> {
    const {argv, flags} = await this.parse(Lag)
    const texts = (argv as string[]).length ? (argv as string[]) : [undefined]
    const scopes = await Promise.all(texts.map((t) => this.resolveScope(t, flags.context)))
    const scope = scopes[0]!
    if (scopes.some((s) => s.kind !== scope.kind))
      throw new UsageError('All targets of one lag view must be on one broker.', 'Run lag once per broker.')
    if (scopes.length > 1 && scope.kind !== 'sqs')
      throw new UsageError(
        'Several targets are taken for SQS queues only.',
        'Kafka: one broker with --topic/--group; Pub/Sub: the project (pubsub://PROJECT).',
      )
    if (flags.prefix !== undefined && scope.kind !== 'sqs')
      throw new UsageError('--prefix selects SQS queues.', 'Drop --prefix.')
    if ((flags.group?.length || flags.topic?.length) && scope.kind !== 'kafka' && scope.kind !== 'file')
      throw new UsageError('--group and --topic select Kafka consumer groups.', 'Drop them for this broker.')
    const adapter = await this.open(
      scope,
      ['lag'],
      flags.profile !== undefined ? {profile: flags.profile} : {},
    )
    const {isLagSourceAware} = await import('../adapters/lag-source.js')
    if (!isLagSourceAware(adapter))
      throw new Error(`the ${scope.kind} adapter claims lag but has no lag reader`)
    const opts: LagScopeOptions = {
      ...(flags.group?.length ? {groups: flags.group} : {}),
      ...(flags.topic?.length ? {topics: flags.topic} : {}),
      ...(flags.prefix !== undefined ? {prefix: flags.prefix} : {}),
      ...(scopes.length > 1 ? {more: scopes.slice(1)} : {}),
    }
    const reader = adapter.lagReader(scope, opts)
    try {
      const terminal =
        Boolean(process.stdout.isTTY && process.stdin.isTTY) &&
        !process.env.CI &&
        !this.jsonEnabled() &&
        !flags.watch
      if (terminal) {
        // React and its reconciler pick their development builds (slower, with extra checks)
        // unless NODE_ENV says production; a user who set it keeps theirs.
        process.env.NODE_ENV ??= 'production'
        // Ink and React load here only: no other command (and no pipe) pays for them.
        const {renderLag} = await import('../ui/render-lag.js')
        const how = await renderLag({
          reader,
          intervalMs: flags.interval,
          source: scope.url,
          signal: this.signal,
        })
        // q is the way out (exit 0); Ctrl-C and SIGTERM say the view was interrupted (130).
        if (how === 'ctrl-c') throw new InterruptedError('Interrupted.')
        this.throwIfInterrupted()
        return undefined
      }
      const lag = await import('../services/lag/lag.js')
      if (flags.watch) {
        await this.watch(lag, reader, flags.interval)
        return undefined
      }
      const view = await lag.sampleLag(reader, this.signal)
      this.throwIfInterrupted()
      if (!this.jsonEnabled()) {
        const [{renderLagTable}, {unknownReasons}] = await Promise.all([
          import('../output/lag-table.js'),
          import('../output/lag-format.js'),
        ])
        if (view.rows.length === 0) this.stderr(`No consumer lag to show in ${scope.url}.`)
        else process.stdout.write(renderLagTable(view, Boolean(process.stdout.isTTY)))
        for (const line of unknownReasons(view.rows)) this.stderr(line)
      }
      return view.doc
    } finally {
      await reader.close()
    }
  }

  /** --watch: one JSON line per poll; a failed poll is a line too, with the last good numbers. */
  private async watch(
    lag: typeof import('../services/lag/lag.js'),
    reader: import('../adapters/lag-source.js').LagReader,
    intervalMs: number,
  ): Promise<void> {
    const {dataWriter} = await import('../output/stdout.js')
    const out = dataWriter(process.stdout, this.controller, {watchFd: 1})
    try {
      for await (const frame of lag.watchLag(reader, {intervalMs, signal: this.signal})) {
        const line = frame.failed
          ? {...frame.view.doc, stale: true, pollFailed: frame.failed}
          : frame.view.doc
        await out.write(`${JSON.stringify(line)}\n`)
      }
    } finally {
      await out.end()
    }
    this.throwIfInterrupted()
  }
}
