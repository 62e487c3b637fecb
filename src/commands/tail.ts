import {Args, Flags} from '@oclif/core'
import type {Capability} from '../adapters/types.js'
import {BaseCommand} from '../base-command.js'
import {ExitCode, exitCodeHelp, UsageError} from '../errors.js'
import {warning} from '../events.js'
import {decodeFlags, fromFlag, headerFlag, holdFlag, schemaFlagsOf, untilFlag} from '../flags.js'
import type {Renderer} from '../output/render.js'
import {dataWriter} from '../output/stdout.js'

export default class Tail extends BaseCommand {
  static override summary = 'Print messages from a topic, subscription or queue, live or over a window.'
  static override description =
    `Never commits offsets, acks or deletes (unless --consume: SQS queues, Pub/Sub subscriptions, Kafka with --group). Kafka: fetches partitions directly and joins no consumer group. Pub/Sub: a temporary subscription (a subscription is peeked through a snapshot). SQS has no side-effect-free read: every receive counts toward maxReceiveCount, so a queue with a redrive policy needs --allow-receive-count, and each message is hidden while listed, then released.

Where it starts: --from (default end, i.e. only new messages). Where it stops: --until end stops at the end as it was when tail started; --until <time>/<duration> stops then; --max N stops after N printed messages. Without --until, tail follows live until Ctrl-C or --max.

Filters combine with AND: --key <glob>, --header name=<glob> (repeatable), --where <JSONata expression> over {key, value, schema, headers, timestamp, partition, offset, meta}.

Schemas: with a schema registry (--registry URL, or schema-registry in the context), registry-framed Avro, Protobuf and JSON Schema data (magic byte 0 + schema id) is decoded; each schema is fetched once per run, and kept on disk by id for later runs ($XDG_CACHE_HOME/evtctl/schemas; --no-schema-cache turns that off). Without one, --value-schema FILE.avsc / --proto-path DIR --value-type pkg.Msg (and --key-…) read data with local schemas. The envelope keeps the bytes and adds "schema" and "decoded"; -o pretty, --format and --where see the decoded value. Data that does not decode is printed as bytes with "decodeError", a warning counts them, and --strict-decode makes that exit 7.

Output: -o pretty (default on a terminal), -o jsonl (the lossless envelope; default when piped), -o raw (value bytes only, newline after each), or --format '{offset} {key} {value.id}'.

${exitCodeHelp([0, 1, 2, 3, 4, 5, 6, 7, 130])}`

  static override examples = [
    {
      description: 'Everything so far, then stop',
      command: '<%= config.bin %> <%= command.id %> orders --from beginning --until end',
    },
    {
      description: 'Follow new messages live',
      command: '<%= config.bin %> <%= command.id %> kafka://127.0.0.1:9092/orders',
    },
    {
      description: 'The last 15 minutes, paid orders over 40 only',
      command: `<%= config.bin %> <%= command.id %> orders --from -15m --until end --where 'value.status = "paid" and value.total > 40'`,
    },
    {
      description: 'Capture to a file (lossless), replay it later',
      command:
        '<%= config.bin %> <%= command.id %> orders --from beginning --until end -o jsonl > capture.jsonl',
    },
    {
      description: 'Decode Avro/Protobuf/JSON Schema data through a schema registry, filter on a field',
      command: `<%= config.bin %> <%= command.id %> orders --from beginning --until end --registry http://127.0.0.1:8081 --where 'value.total > 40'`,
    },
    {
      description: 'Read Protobuf data with local .proto files (no registry)',
      command:
        '<%= config.bin %> <%= command.id %> orders --from beginning --proto-path ./proto --value-type acme.orders.v1.Order',
    },
    {
      description: 'Just the ids, for a script',
      command: `<%= config.bin %> <%= command.id %> orders --from beginning --until end -o jsonl | jq -r '.value.json.id'`,
    },
  ]

  static override args = {
    target: Args.string({
      description: 'Topic, subscription, queue or URL to read (see "Targets" in the README).',
      required: true,
    }),
  }

  static override flags = {
    ...decodeFlags,
    'allow-receive-count': Flags.boolean({
      summary:
        'SQS: browse a queue that has a redrive policy although each receive counts toward maxReceiveCount.',
    }),
    consume: Flags.boolean({
      summary:
        'Take each message once printed: SQS deletes it, a Pub/Sub subscription acks it, Kafka commits it for --group (off by default).',
    }),
    group: Flags.string({
      summary: 'Kafka --consume: the consumer group that records what was taken (starts at its commits).',
      dependsOn: ['consume'],
    }),
    format: Flags.string({
      summary: 'Template per message, e.g. "{offset} {key} {value.id} {headers.trace-id}".',
      exclusive: ['output'],
    }),
    from: fromFlag({
      summary:
        'Start: beginning, end, an offset, -N (last N), an ISO time, or -15m (time ago) [default: end].',
    }),
    header: headerFlag({
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Only messages with a header name=<glob> (repeatable).',
    }),
    hold: holdFlag({
      summary:
        'SQS: how long each message stays hidden while the queue is listed, 1s to 12h [default: 60s; FIFO 30s].',
    }),
    key: Flags.string({summary: 'Only messages whose key matches this glob.'}),
    max: Flags.integer({env: 'EVTCTL_MAX', min: 1, summary: 'Stop after printing this many messages.'}),
    output: Flags.option({
      char: 'o',
      env: 'EVTCTL_OUTPUT',
      options: ['pretty', 'jsonl', 'raw'] as const,
      summary: 'Output format [default: pretty on a terminal, jsonl otherwise].',
    })(),
    profile: Flags.string({
      summary: "SQS: the AWS profile to use (else the context's profile, else AWS_PROFILE).",
    }),
    partition: Flags.integer({
      multiple: true,
      multipleNonGreedy: true,
      min: 0,
      summary: 'Read only this partition (repeatable).',
    }),
    until: untilFlag({
      summary: 'Stop: end (as it was at start), an ISO time, or a duration (30s). Default: follow.',
    }),
    where: Flags.string({
      summary: 'JSONata expression; keep messages where it is true, e.g. value.total > 40.',
    }),
    // No env twin on purpose: a stray variable must never approve deleting from production.
    yes: Flags.boolean({char: 'y', summary: 'Confirm --consume on a context marked production.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Tail)
    // Heavy modules (zod, JSONata, renderers) load only when the command runs, not for --help.
    const [{buildFilter}, render_, {tailEvents}] = await Promise.all([
      import('../services/filter.js'),
      import('../output/render.js'),
      import('../services/tail.js'),
    ])
    const filter = buildFilter({
      key: flags.key,
      headers: (flags.header ?? []).map((h): [string, string] => [h.name, h.value]),
      where: flags.where,
    })
    const target = await this.resolveTarget(args.target, flags.context)
    // Several topics (a list or a ^pattern): each pretty message names its own.
    const manySources =
      target.kind === 'kafka' && (target.topics.length > 1 || target.topics[0]!.startsWith('^'))
    const render = pickRenderer(render_, flags.format, flags.output, manySources)

    // An explicit --from needs a broker that can choose where to start; the default (end) does not.
    const needs: Capability[] = []
    if (flags.from && flags.from.kind !== 'time') needs.push('seekOffset')
    if (flags.from?.kind === 'time') needs.push('seekTime')
    if (flags.partition?.length) needs.push('partitions')
    if (!flags.until) needs.push('follow')
    // A window that ends before it starts reads nothing: say so instead of printing nothing.
    if (flags.from?.kind === 'time' && flags.until?.kind === 'time' && flags.until.time <= flags.from.time) {
      throw new UsageError(
        `--until ${flags.until.time.toISOString()} is not after --from ${flags.from.time.toISOString()}: the window is empty.`,
        'Give an --until later than --from (the window is [from, until)).',
        'EMPTY_WINDOW',
      )
    }
    // --consume, --hold, --profile…: refused (exit 6) where the broker cannot honour them.
    this.refuseUnsupportedFlags(target, flags)
    if (flags.consume && target.kind === 'kafka' && !flags.group) {
      throw new UsageError(
        'tail --consume on Kafka records what it took in a consumer group, and none was given.',
        'Add --group NAME (a group with no running consumers; it starts at its commits), or drop --consume.',
        'GROUP_REQUIRED',
      )
    }
    if (flags.consume)
      await this.confirmProduction(
        target,
        target.kind === 'pubsub'
          ? 'Acknowledge messages of'
          : target.kind === 'kafka'
            ? `Commit offsets of group "${flags.group}" on`
            : 'Delete messages from',
        flags.yes,
      )
    // Local schemas are read and a bad --decode refused before connecting.
    // Only filters, -o pretty and --format look at the decoded view; -o jsonl/raw do not: there,
    // no view is kept and Avro values go from their bytes to JSON text with no value built.
    const keepViews =
      filter !== undefined ||
      ![
        render_.jsonlRenderer,
        render_.jsonlTerminalRenderer,
        render_.rawRenderer,
        render_.rawTerminalRenderer,
      ].includes(render)
    const decoding = await this.schemaDecoding(schemaFlagsOf(flags), target, {jsonText: !keepViews})
    const adapter = await this.open(
      target,
      needs,
      flags.profile !== undefined ? {profile: flags.profile} : {},
    )
    let firstFailure = true

    const out = dataWriter(process.stdout, this.controller, {watchFd: 1})
    const report = await tailEvents(adapter, target, {
      read: {
        from: flags.from ?? {kind: 'end'},
        until: flags.until,
        partitions: flags.partition,
        allowReceiveCount: flags['allow-receive-count'],
        ...(flags.hold !== undefined ? {holdSeconds: flags.hold} : {}),
        ...(flags.group !== undefined ? {group: flags.group} : {}),
        emit: this.emit,
      },
      ackAfterWrite: flags.consume,
      max: flags.max,
      filter,
      ...(decoding ? {decoding} : {}),
      keepViews,
      onDecodeFailure: (env, error) => {
        // The first at once (a registry that is down shows now, not at the end); then a count.
        if (!firstFailure) return
        firstFailure = false
        this.emit(
          warning('DECODE_FAILED', `Message at offset ${env.offset ?? '?'} could not be decoded: ${error}`),
        )
      },
      signal: this.signal,
      write: (env) => out.write(render(env)),
      // --consume deletes a message only once its line left the process, and none after the
      // reader went away.
      flushed: () => out.flushed(),
    })
    await out.end()
    if (report.decodeFailed > 0) {
      this.emit(
        warning(
          'DECODE_FAILED',
          `${report.decodeFailed} of ${report.read} message(s) could not be decoded; they are shown as bytes with "decodeError".${flags['strict-decode'] ? '' : ' Add --strict-decode to make that exit 7.'}`,
        ),
      )
      if (flags['strict-decode']) process.exitCode = ExitCode.PartialFailure
    }
    this.throwIfInterrupted()
    // --consume: a message printed but not deleted (the broker refused) is a partial failure.
    if (report.notAcked > 0) process.exitCode = ExitCode.PartialFailure
  }
}

function pickRenderer(
  r: typeof import('../output/render.js'),
  format: string | undefined,
  output: 'pretty' | 'jsonl' | 'raw' | undefined,
  showSource: boolean,
): Renderer {
  // A terminal never gets control characters from message data; a pipe gets the bytes as they are.
  const terminal = Boolean(process.stdout.isTTY)
  if (format !== undefined) return r.templateRenderer(format, {terminal})
  const mode = output ?? (terminal ? 'pretty' : 'jsonl')
  if (mode === 'jsonl') return terminal ? r.jsonlTerminalRenderer : r.jsonlRenderer
  if (mode === 'raw') return terminal ? r.rawTerminalRenderer : r.rawRenderer
  return r.prettyRenderer({color: terminal && !process.env.NO_COLOR, showSource})
}
