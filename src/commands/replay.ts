import {Args, Flags, type Interfaces} from '@oclif/core'
import {capabilitiesOf} from '../adapters/registry.js'
import {
  type Capability,
  isDeadLetterAware,
  isNativeRedriveAware,
  type NativeMoveResult,
} from '../adapters/types.js'
import {BaseCommand} from '../base-command.js'
import type {Target} from '../config/targets.js'
import {ExitCode, exitCodeHelp, UnsupportedError, UsageError} from '../errors.js'
import {warning} from '../events.js'
import {decodeFlags, fromFlag, headerFlag, holdFlag, schemaFlagsOf, untilFlag} from '../flags.js'
import type {ReplayReport} from '../services/replay/replay.js'
import type {Progress} from '../ui/progress.js'

/** What --native reports (stderr, and with --json on stdout). */
export type NativeReport = NativeMoveResult & {
  source: string
  destination: string
  mode: 'move'
  native: true
}

export default class Replay extends BaseCommand {
  static override summary = 'Put dead-lettered or captured events back, losing nothing.'
  static override description =
    `SOURCE is a DLQ, any topic/queue/subscription, or a capture file (file://capture.jsonl as written by tail -o jsonl). Each message goes to --to, or back where it came from when the message says so (SQS DeadLetterQueueSourceArn, Kafka kafka_dlt-original-topic / __connect.errors.topic, Pub/Sub CloudPubSubDeadLetterSourceSubscription → its topic, the file broker's X.dlq.jsonl → X.jsonl).

--move removes each source message only after the destination confirmed its copy (default for SQS queues and Pub/Sub subscriptions); --copy leaves the source untouched (the only mode for Kafka and file topics: a log cannot delete). Running a finished replay again replays again (a warning says so). --dry-run shows the plan and changes nothing.

Every run keeps a journal (under $XDG_STATE_HOME/evtctl/replays/, 0600): rerunning the same command resumes an interrupted run — what was sent but not yet removed is removed and not sent again; what may have been sent is listed in possibleDuplicates (at most one batch: 100 messages from a queue, 1,000 from a log). An interrupted SQS move's messages come back after its --hold; the rerun waits for them. --fresh starts over.

Copies keep key, headers/attributes, FIFO group and ordering key, and the original timestamp (--new-timestamps: the replay's time); --mark adds evtctl-replay-run and evtctl-replayed-from headers; --keep-partitions sends each to its source partition (Kafka). --rate N sends at most N per second. A dry run also checks that each destination exists.

--native (SQS): SQS's own StartMessageMoveTask moves the whole DLQ (to --to, or back to each message's source queue) at up to 500 messages/s, with progress; Ctrl-C cancels the task, and what it moved stays moved. It cannot filter, preview, copy or resume, so those flags are refused with it.

${exitCodeHelp([0, 1, 2, 3, 4, 5, 6, 7, 130])}`

  static override examples = [
    {
      description: 'See the plan first',
      command: '<%= config.bin %> <%= command.id %> sqs://us-east-1/orders-dlq --dry-run',
    },
    {
      description: 'Move dead letters back to their source queue',
      command: '<%= config.bin %> <%= command.id %> sqs://us-east-1/orders-dlq',
    },
    {
      description: 'Copy a Kafka DLT back to its topic, only one customer',
      command: `<%= config.bin %> <%= command.id %> kafka://127.0.0.1:9092/orders.DLT --key 'customer-9*'`,
    },
    {
      description: 'Let SQS move the whole DLQ back (StartMessageMoveTask), 100 per second',
      command: '<%= config.bin %> <%= command.id %> sqs://us-east-1/orders-dlq --native --rate 100',
    },
    {
      description: 'Replay a capture into another topic',
      command:
        '<%= config.bin %> <%= command.id %> file://capture.jsonl --to kafka://127.0.0.1:9092/orders-copy',
    },
  ]

  static override enableJsonFlag = true

  static override args = {
    source: Args.string({
      description: 'DLQ, topic, queue, subscription or capture file to replay.',
      required: true,
    }),
  }

  static override flags = {
    to: Flags.string({summary: 'Destination for every message (default: where each came from).'}),
    move: Flags.boolean({
      summary: 'Remove each source message once its copy is confirmed.',
      exclusive: ['copy'],
    }),
    copy: Flags.boolean({summary: 'Leave the source untouched.', exclusive: ['move']}),
    'dry-run': Flags.boolean({summary: 'Show what would be replayed where; change nothing.'}),
    from: fromFlag({
      summary: 'Start: beginning (default where the source has positions), an offset, -N, a time.',
    }),
    until: untilFlag({summary: 'Stop: end (default: the end as it was at start), a time, a duration.'}),
    key: Flags.string({summary: 'Only messages whose key matches this glob.'}),
    header: headerFlag({
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Only messages with a header name=<glob> (repeatable).',
    }),
    where: Flags.string({
      summary: 'JSONata expression; replay messages where it is true (on decoded values with a schema).',
    }),
    // Decoding serves --where only: copies are the source's bytes, never re-encoded.
    ...(({'strict-decode': _, ...rest}) => rest)(decodeFlags),
    max: Flags.integer({min: 1, summary: 'Replay at most this many messages.'}),
    hold: holdFlag({
      summary:
        "SQS --move: seconds each received message stays hidden while it is replayed [default: 30]; an interrupted run's messages come back after it.",
    }),
    profile: Flags.string({summary: "SQS: the AWS profile to use (else the context's, else AWS_PROFILE)."}),
    fresh: Flags.boolean({
      summary: 'Start a new run even if an interrupted run of this command can be resumed.',
    }),
    rate: Flags.integer({min: 1, summary: 'At most this many messages per second.'}),
    mark: Flags.boolean({
      summary: 'Add provenance headers to each copy: evtctl-replay-run, evtctl-replayed-from.',
    }),
    'keep-partitions': Flags.boolean({
      summary: 'Kafka destination: each copy to the partition its original was in.',
    }),
    'new-timestamps': Flags.boolean({
      summary: "Copies get the replay's time, not the original's timestamp (Kafka, file).",
    }),
    'commit-group': Flags.string({
      summary:
        "Kafka source: start where this consumer group's commits say, and commit what was replayed for it (after the copies are confirmed).",
      description:
        'For teams that track replays with a consumer group. The group must have no running consumers (Kafka takes commits only then). Its offsets never pass a message that failed or was skipped: a rerun starts there.',
    }),
    native: Flags.boolean({
      summary:
        'SQS: let SQS move the whole DLQ (StartMessageMoveTask; no filters, no dry run, at most 500/s). Ctrl-C cancels it.',
    }),
    yes: Flags.boolean({char: 'y', summary: 'Confirm on a context marked production.'}),
  }

  async run(): Promise<ReplayReport | NativeReport> {
    const {args, flags} = await this.parse(Replay)
    const [{buildFilter}, {replay}, {stateDir}] = await Promise.all([
      import('../services/filter.js'),
      import('../services/replay/replay.js'),
      import('../config/paths.js'),
    ])
    const filterSpec = {
      key: flags.key,
      headers: (flags.header ?? []).map((h): [string, string] => [h.name, h.value]),
      where: flags.where,
    }
    const filter = buildFilter(filterSpec)
    const source = await this.resolveTarget(args.source, flags.context)
    const schemaGiven = Object.values(schemaFlagsOf(flags)).some((v) => v !== undefined)
    if (schemaGiven && !flags.where && !flags.native)
      throw new UsageError(
        "In replay, --decode, --registry and the schema flags only serve --where: copies are the source's bytes, never decoded or re-encoded.",
        'Add --where on the decoded value, or drop the schema flags.',
        'FLAG_NOT_APPLICABLE',
      )
    const to = flags.to ? await this.resolveTarget(flags.to, flags.context) : undefined
    if (flags['commit-group'] !== undefined && flags['commit-group'].trim() === '')
      throw new UsageError('--commit-group needs a consumer group name.', 'Give --commit-group NAME.')
    if (flags['commit-group'] !== undefined && source.kind !== 'kafka')
      throw new UnsupportedError(
        `--commit-group commits a Kafka consumer group's offsets; ${source.url} is not a Kafka topic.`,
        'Drop --commit-group.',
      )
    if (flags.native) return this.runNative(source, to, flags, schemaGiven)
    const decoding = flags.where ? await this.schemaDecoding(schemaFlagsOf(flags), source) : undefined
    if (flags['keep-partitions'] && to && to.kind !== 'kafka' && to.kind !== 'file')
      throw new UnsupportedError(
        `--keep-partitions keeps Kafka partitions; ${to.url} has none.`,
        'Drop --keep-partitions.',
      )
    const can = capabilitiesOf(source)
    // Queues and subscriptions are moved by default; logs (Kafka, file topics) keep their messages,
    // so they can only be copied (Kafka's consuming read records progress, it deletes nothing).
    const log = source.kind === 'kafka' || source.kind === 'file'
    const mode: 'move' | 'copy' = flags.move
      ? 'move'
      : flags.copy
        ? 'copy'
        : can.consume && !log
          ? 'move'
          : 'copy'
    if (mode === 'move' && (log || !can.consume)) {
      throw new UnsupportedError(
        `${source.url} cannot be replayed with --move: ${log ? 'a log keeps its messages (nothing can be deleted from it)' : 'a Pub/Sub topic holds nothing to take (its subscriptions do)'}.`,
        log ? 'Use --copy (the default here).' : 'Replay one of its subscriptions, or use --copy.',
      )
    }
    if (flags.hold !== undefined && mode !== 'move') {
      throw new UsageError(
        '--hold applies to an SQS --move (how long received messages stay hidden); a copy only browses.',
        'Drop --hold, or use --move.',
        'FLAG_NOT_APPLICABLE',
      )
    }
    if (to && to.url === source.url)
      throw new UsageError('--to is the source itself.', 'Give another destination.', 'SAME_TARGET')
    const needs: Capability[] = []
    if (flags.from && flags.from.kind !== 'time') needs.push('seekOffset')
    if (flags.from?.kind === 'time') needs.push('seekTime')
    this.refuseUnsupportedFlags(source, flags)
    if (!flags['dry-run']) {
      await this.confirmProduction(
        source,
        mode === 'move' ? 'Move messages out of' : 'Copy messages from',
        flags.yes,
        {dryRun: true},
      )
      if (to) await this.confirmProduction(to, 'Publish messages to', flags.yes, {dryRun: true})
    }
    // Logs are read from the beginning unless told otherwise; queues from what they hold.
    const from = flags.from ?? (can.seekOffset ? {kind: 'beginning' as const} : {kind: 'end' as const})
    let opened = false
    if (process.stderr.isTTY && !flags['dry-run']) this.progress = await this.startBar(source, flags.profile)
    const {report, finish} = await replay({
      source,
      ...(to ? {to} : {}),
      mode,
      dryRun: flags['dry-run'] === true,
      read: {from, ...(flags.until ? {until: flags.until} : {})},
      ...(filter ? {filter} : {}),
      ...(flags.max !== undefined ? {max: flags.max} : {}),
      fresh: flags.fresh === true,
      ...(flags.hold !== undefined ? {holdSeconds: flags.hold} : {}),
      journalDir: `${stateDir()}/replays`,
      filterSpec,
      ...(decoding ? {decoding} : {}),
      ...(flags.rate !== undefined ? {rate: flags.rate} : {}),
      ...(flags.mark ? {mark: true} : {}),
      ...(flags['keep-partitions'] ? {keepPartitions: true} : {}),
      ...(flags['new-timestamps'] ? {newTimestamps: true} : {}),
      ...(flags['commit-group'] !== undefined ? {commitGroup: flags['commit-group']} : {}),
      ...(this.progress ? {onProgress: ({read, sent}) => this.progress?.update(read, {sent})} : {}),
      open: async (t) => {
        const a = await this.open(
          t,
          opened ? [] : needs,
          flags.profile !== undefined ? {profile: flags.profile} : {},
        )
        opened = true
        return a
      },
      signal: this.signal,
      emit: this.emit,
      ...(process.env.EVTCTL_REPLAY_FAULT ? {fault: process.env.EVTCTL_REPLAY_FAULT} : {}),
      ...(Number(process.env.EVTCTL_REPLAY_BATCH) > 0
        ? {batchSize: Number(process.env.EVTCTL_REPLAY_BATCH)}
        : {}),
    })
    this.stopBar()
    this.finishJournal = finish
    this.printReport(report)
    if (report.failed.length > 0 || (report.committed?.notCommitted ?? 0) > 0)
      process.exitCode = ExitCode.PartialFailure
    if (this.signal.aborted && !report.dryRun)
      this.stderr(
        `Interrupted: the batch under way was finished and journaled. Run the same command again to go on (run ${report.run}).`,
      )
    this.exitIfInterrupted()
    return report
  }

  /** The bar's total: the source's depth where the broker can say (Pub/Sub cannot). */
  private async startBar(source: Target, profile: string | undefined): Promise<Progress> {
    const {startProgress} = await import('../ui/progress.js')
    let total: number | undefined
    try {
      const a = await this.open(source, [], profile !== undefined ? {profile} : {})
      if (isDeadLetterAware(a)) {
        const [q] = await a.listDeadLetters(source, this.signal)
        total = q?.depth ?? undefined
      }
    } catch {
      // No total: the bar shows the count and rate only.
    }
    return startProgress('Replaying', total)
  }

  private stopBar(): void {
    this.progress?.stop()
    this.progress = undefined
  }

  override async finally(err: Error | undefined): Promise<void> {
    this.stopBar()
    return super.finally(err)
  }

  /** Marks the journal of a run that went to its end finished: see finishJournal. */
  private finishJournal?: () => Promise<void>

  /**
   * The run's journal is marked finished only after its report is out (oclif prints --json after
   * finally()): a replay killed before its report was given is resumed by a rerun — which finds
   * nothing left to do — instead of starting over and copying everything a second time.
   */
  protected override async _run<T>(): Promise<T> {
    const result = await super._run<T>()
    if (this.finishJournal && !this.signal.aborted)
      await this.finishJournal().catch((err: unknown) =>
        this.emit(
          warning(
            'JOURNAL_NOT_FINISHED',
            `the run is done, but its journal could not be marked finished (${err instanceof Error ? err.message : String(err)}); running the same command again resumes it and finds nothing left to do.`,
          ),
        ),
      )
    return result
  }

  /**
   * --native: SQS moves the DLQ by itself (StartMessageMoveTask). It moves everything, so every
   * flag that chooses, previews or changes messages is refused with the reason.
   */
  private async runNative(
    source: Target,
    to: Target | undefined,
    flags: Interfaces.InferredFlags<typeof Replay.flags>,
    schemaGiven: boolean,
  ): Promise<NativeReport> {
    if (source.kind !== 'sqs')
      throw new UnsupportedError(
        `--native is SQS's own redrive (StartMessageMoveTask); ${source.url} is not an SQS queue and its broker has no such thing.`,
        "Drop --native: evtctl's replay works on every broker.",
      )
    const cannot: Array<[boolean, string]> = [
      [flags['dry-run'] === true, 'preview (--dry-run)'],
      [flags.copy === true, 'copy (--copy): a move task always moves'],
      [
        flags.key !== undefined || (flags.header?.length ?? 0) > 0 || flags.where !== undefined,
        'filter (--key, --header, --where)',
      ],
      [flags.max !== undefined, 'stop after N (--max)'],
      [flags.from !== undefined || flags.until !== undefined, 'choose a time window (--from, --until)'],
      [flags.hold !== undefined, 'take --hold (SQS holds nothing for it)'],
      [
        flags.mark === true || flags['new-timestamps'] === true || flags['keep-partitions'] === true,
        'change the copies (--mark, --new-timestamps, --keep-partitions)',
      ],
      [flags.fresh === true, 'resume or start afresh (--fresh): it keeps no journal'],
      [schemaGiven, 'decode (--decode, --registry, schema flags)'],
    ]
    const refused = cannot.filter(([given]) => given).map(([, what]) => what)
    if (refused.length > 0)
      throw new UnsupportedError(
        `--native hands the move to SQS (StartMessageMoveTask), which moves every message of the DLQ as it is: it cannot ${refused.join('; nor ')}.`,
        "Drop --native: evtctl's own replay can, with a journal that makes it resumable.",
      )
    if (to && to.kind !== 'sqs')
      throw new UnsupportedError(
        `--native moves between SQS queues only; ${to.url} is not one.`,
        "Drop --native: evtctl's own replay can send an SQS DLQ to any broker.",
      )
    await this.confirmProduction(source, 'Move every message out of', flags.yes, {dryRun: true})
    if (to) await this.confirmProduction(to, 'Move messages to', flags.yes)
    const adapter = await this.open(
      source,
      ['nativeRedrive'],
      flags.profile !== undefined ? {profile: flags.profile} : {},
    )
    if (!isNativeRedriveAware(adapter))
      throw new UnsupportedError(`${source.url} cannot be moved natively.`, 'Drop --native.')
    if (process.stderr.isTTY) {
      const {startProgress} = await import('../ui/progress.js')
      this.progress = await startProgress('Moving (SQS task)', undefined)
    }
    const result = await adapter.nativeMove(source, to, {
      ...(flags.rate !== undefined ? {rate: flags.rate} : {}),
      signal: this.signal,
      onProgress: ({moved, toMove}) =>
        this.progress?.update(moved, {sent: moved, ...(toMove !== undefined ? {total: moved + toMove} : {})}),
    })
    this.stopBar()
    const report: NativeReport = {
      source: source.url,
      destination: to?.url ?? '(each message back to its source queue)',
      mode: 'move',
      native: true,
      ...result,
    }
    const where = to ? to.url : 'the queues they came from'
    if (result.status === 'COMPLETED')
      this.stderr(
        `SQS moved ~${result.moved} message(s) from ${source.url} to ${where} in ${result.durationMs} ms (task ${result.task}).`,
      )
    else if (result.status === 'CANCELLED')
      this.stderr(
        `Cancelled the SQS move task ${result.task}: ~${result.moved} message(s) were moved to ${where} and stay moved; the rest stay in ${source.url}.`,
      )
    else {
      this.stderr(
        `The SQS move task ${result.task} failed after ~${result.moved} message(s): ${result.failureReason ?? 'no reason given'}.`,
      )
      process.exitCode = ExitCode.PartialFailure
    }
    this.exitIfInterrupted()
    return report
  }

  private printReport(r: ReplayReport): void {
    const dests = r.destinations.map((d) => `${d.target} (${d.count})`).join(', ') || 'nowhere'
    if (r.dryRun) {
      this.stderr(`Dry run (${r.mode}): would replay ${r.selected} message(s) from ${r.source} to ${dests}.`)
      if (r.mode === 'move' && r.selected > 0)
        this.stderr('Each would be removed from the source once its copy is confirmed.')
    } else {
      this.stderr(
        `Replayed ${r.sent} of ${r.selected} selected message(s) from ${r.source} to ${dests} in ${r.durationMs} ms (${r.mode}${r.mode === 'move' ? `; removed ${r.removedFromSource} from the source` : ''}).`,
      )
      if (r.completedFromJournal)
        this.stderr(
          `Finished ${r.completedFromJournal} that the interrupted run had sent (removed, not sent again).`,
        )
    }
    if (r.committed && !r.dryRun) {
      const c = r.committed
      this.stderr(
        `Committed ${c.messages} message(s) for consumer group "${c.group}".${c.notCommitted ? ` ${c.notCommitted} handled message(s) were not committed: the group's offsets stop before the first message not replayed (failed or skipped), or a commit failed (see the warnings above); a rerun with --commit-group starts there.` : ''}`,
      )
    }
    for (const f of r.failed.slice(0, 20)) this.stderr(`  failed ${f.id}: ${f.error}`)
    for (const s of r.skipped.slice(0, 20)) this.stderr(`  skipped ${s.id}: ${s.reason}`)
    for (const d of r.possibleDuplicates.slice(0, 20)) this.stderr(`  possible duplicate ${d.id}: ${d.why}`)
  }
}
