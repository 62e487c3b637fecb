import {Args, Flags} from '@oclif/core'
import {isDeadLetterAware} from '../../adapters/types.js'
import {BaseCommand} from '../../base-command.js'
import {exitCodeHelp, UnsupportedError} from '../../errors.js'
import {decodeFlags} from '../../flags.js'
import type {DlqEntry, DlqListReport} from '../../services/dlq.js'

/**
 * tail's schema flags, parsed here only to be refused (exit 6) rather than rejected as unknown:
 * hidden, and without their environment twins — an exported EVTCTL_SCHEMA_REGISTRY must not
 * make every dlq list fail.
 */
const refusedSchemaFlags = Object.fromEntries(
  Object.entries(decodeFlags).map(([name, flag]) => [name, {...flag, env: undefined, hidden: true}]),
) as typeof decodeFlags

export default class DlqList extends BaseCommand {
  static override summary =
    'Find dead-letter queues: how deep, where their messages came from, why they failed.'
  static override description =
    `TARGET is a broker — kafka://HOST:PORT, sqs://REGION (or the context's endpoint), pubsub://PROJECT, file://DIR — or one queue, topic or subscription (just that DLQ). Without TARGET: the current context's broker (with no config, the embedded file broker).

Not decoded: --scan reports failure reasons and sources from the headers dead-letter writers leave (and the broker's metadata), counts and timestamps — no message values — so --decode, --registry and the schema flags would change nothing and are refused (exit 6); read dead letters decoded with tail.

Read-only: lists and describes; never receives without releasing, acks, commits or creates. --scan N reads up to N messages of each DLQ with tail's safe reads (SQS: only a DLQ without a redrive policy of its own, every message released; Pub/Sub: a snapshot of a subscription of the dead-letter topic) and groups them by failure reason and source.

What each broker can tell: SQS — DLQs from the redrive policies of all queues, approximate depth (and in flight, delayed), maxReceiveCount, a running move task. Kafka — topics named as Spring (<topic>.DLT, -dlt) or Kafka Connect (dlq-…, …-dlq, dead-letter…) name them; exact depth (an upper bound when compacted), first and last timestamps. Pub/Sub — dead-letter topics of subscriptions' dead-letter policies; depth is the largest backlog of the dead-letter topic's subscriptions from Cloud Monitoring (num_undelivered_messages; needs monitoring.timeSeries.list), else unknown (null, with the reason; always on the emulator) unless --scan reads to the end; a dead-letter topic without a subscription loses messages and is flagged. File — NAME.dlq.jsonl beside NAME.jsonl; exact.

${exitCodeHelp([0, 1, 2, 3, 4, 5, 6, 130])}`

  static override examples = [
    {description: 'Every DLQ of the current context', command: '<%= config.bin %> <%= command.id %>'},
    {
      description: 'All SQS DLQs of a region, with the top failure reasons',
      command: '<%= config.bin %> <%= command.id %> sqs://us-east-1 --scan 100',
    },
    {
      description: 'Kafka DLT topics as JSON',
      command: `<%= config.bin %> <%= command.id %> kafka://127.0.0.1:9092 --json | jq '.dlqs[] | {target, depth}'`,
    },
  ]

  static override enableJsonFlag = true

  static override args = {
    target: Args.string({
      description: 'A broker, or one queue/topic/subscription (see above).',
      required: false,
    }),
  }

  static override flags = {
    ...refusedSchemaFlags,
    profile: Flags.string({summary: "SQS: the AWS profile to use (else the context's, else AWS_PROFILE)."}),
    scan: Flags.integer({
      summary: 'Read up to N messages of each DLQ (read-only) and group them by failure reason and source.',
      min: 1,
      max: 100_000,
    }),
  }

  async run(): Promise<DlqListReport> {
    const {args, flags} = await this.parse(DlqList)
    refuseDecoding(flags)
    const scope = await this.resolveScope(args.target, flags.context)
    this.refuseUnsupportedFlags(scope, flags)
    const adapter = await this.open(
      scope,
      ['deadLetters'],
      flags.profile !== undefined ? {profile: flags.profile} : {},
    )
    if (!isDeadLetterAware(adapter))
      throw new Error(`the ${scope.kind} adapter claims deadLetters but lists none`)
    const {listDlqs} = await import('../../services/dlq.js')
    const report = await listDlqs(adapter, scope, {
      signal: this.signal,
      ...(flags.scan !== undefined ? {scan: flags.scan} : {}),
    })
    this.throwIfInterrupted()
    if (!this.jsonEnabled()) await this.print(report.dlqs, scope.url, flags.scan !== undefined)
    return report
  }

  private async print(dlqs: DlqEntry[], where: string, scanned: boolean): Promise<void> {
    if (dlqs.length === 0) {
      this.stderr(`No dead-letter queues found in ${where}.`)
      return
    }
    const [{renderTable}, {default: ms}, {safeText}] = await Promise.all([
      import('../../output/table.js'),
      import('ms'),
      import('../../output/safe-text.js'),
    ])
    const terminal = Boolean(process.stdout.isTTY)
    const show = (s: string) => (terminal ? safeText(s, true) : s)
    const age = (iso?: string) => (iso ? `${ms(Math.max(0, Date.now() - Date.parse(iso)))} ago` : '')
    const head = ['DLQ', 'DEPTH', 'SOURCES', 'OLDEST', 'NEWEST', ...(scanned ? ['TOP REASONS'] : [])]
    const rows = dlqs.map((d) => [
      show(d.target),
      depthText(d),
      d.sources.length === 0
        ? d.sourcesSeen?.length
          ? d.sourcesSeen.map((x) => `${show(shortName(x.source))} (seen ${x.count})`).join(', ')
          : '-'
        : d.sources
            .map(
              (s) =>
                `${show(shortName(s.target))}${s.maxReceiveCount ? ` (${s.maxReceiveCount}×)` : ''}${s.maxDeliveryAttempts ? ` (${s.maxDeliveryAttempts}×)` : ''}`,
            )
            .join(', '),
      age(d.oldest),
      age(d.newest),
      ...(scanned
        ? [
            d.reasons?.length
              ? `${d.depth !== null && d.scanned !== undefined && d.scanned < d.depth ? `(${d.scanned} read) ` : ''}${d.reasons
                  .slice(0, 3)
                  .map((r) => `${r.count}× ${show(r.reason)}`)
                  .join('; ')}`
              : d.scanned === undefined
                ? 'not scanned'
                : '-',
          ]
        : []),
    ])
    process.stdout.write(renderTable(head, rows))
    for (const d of dlqs) for (const w of d.warnings) this.stderr(`Warning: ${d.target}: ${w.message}`)
  }
}

/**
 * Every decoding flag is refused, before anything is read: nothing dlq list prints — reasons and
 * sources (headers, broker metadata), depth, counts, timestamps — comes from a message's value,
 * and --json shows no sample messages, so a schema has nothing to change. Said, not ignored.
 */
function refuseDecoding(flags: Record<string, unknown>): void {
  const given = Object.keys(decodeFlags).filter((name) => {
    const v = flags[name]
    return v !== undefined && !(Array.isArray(v) && v.length === 0)
  })
  if (given.length === 0) return
  throw new UnsupportedError(
    `dlq list does not decode messages (${given.map((n) => (flags[n] === false ? `--no-${n}` : `--${n}`)).join(', ')}): --scan groups dead letters by the reason and source headers their writers left and by the broker's metadata, and shows no message values, so a schema would change nothing.`,
    'Drop the flag; to read the dead letters decoded: evtctl tail DLQ --from beginning --until end --registry URL.',
  )
}

/** "12", "~12" (SQS counts are approximate), "≤12" (compacted), "?" (unknown), and what is in flight. */
function depthText(d: DlqEntry): string {
  if (d.depth === null) return '?'
  const n = d.depthExact ? String(d.depth) : d.broker === 'kafka' ? `≤${d.depth}` : `~${d.depth}`
  const extra = [d.inFlight ? `${d.inFlight} in flight` : '', d.delayed ? `${d.delayed} delayed` : ''].filter(
    Boolean,
  )
  return extra.length ? `${n} (+${extra.join(', ')})` : n
}

/** The last path part of a URL or ARN: the queue, topic or subscription name. */
function shortName(target: string): string {
  return target.replace(/^.*[/:]/, '')
}
