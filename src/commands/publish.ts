import {createReadStream} from 'node:fs'
import {access, stat} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import type {Envelope, Header} from '../envelope/envelope.js'
import type {Decoration} from '../envelope/input.js'
import {ExitCode, exitCodeHelp, InterruptedError, UnsupportedError, UsageError} from '../errors.js'
import {decodeFlags, durationFlag, headerFlag} from '../flags.js'
import {dataWriter} from '../output/stdout.js'
import type {PublishEventsReport} from '../services/publish.js'

export type PublishResult = PublishEventsReport

export default class Publish extends BaseCommand {
  static override summary = 'Publish messages: one from VALUE, or many from stdin or a file.'
  static override description =
    `Without VALUE, reads stdin (or --file): one message per line (--input lines), envelopes as written by "tail -o jsonl" (--input jsonl, lossless: keys, headers, binary values), or everything as one message (--input raw, binary-safe).

JSONL input is validated in full before the first message is sent: a bad line is exit 2 with nothing sent.

--encode avro|protobuf|json-schema writes each value (JSON: Avro's JSON encoding, where a union value is {"type": value}; the Protobuf JSON mapping; plain JSON for JSON Schema) with a schema: from the registry (--subject S, latest or --schema-version N; or --schema-id N), framed with its id as Confluent's serializers do; or a local one (--value-schema, --proto-path with --value-type), unframed unless --schema-id is given. Every value is checked first: one that does not fit is exit 2 naming its line and field, with nothing sent.
Values that are JSON are stored as JSON; other text as text; anything else as bytes (base64 in envelopes).

${exitCodeHelp([0, 1, 2, 3, 4, 5, 6, 7, 130])}`

  static override examples = [
    {
      description: 'One JSON message to the embedded file broker',
      command: `<%= config.bin %> <%= command.id %> orders '{"id":1}'`,
    },
    {
      description: 'One message per line from stdin, with a key and a header',
      command: `printf 'a\\nb\\n' | <%= config.bin %> <%= command.id %> orders --key k1 --header source=cli`,
    },
    {
      description: 'Re-publish a capture losslessly, 50 per second',
      command:
        '<%= config.bin %> <%= command.id %> kafka://127.0.0.1:9092/orders --input jsonl --file capture.jsonl --rate 50',
    },
    {
      description: 'JSON lines written as Avro with the latest schema of a subject',
      command: `printf '{"id":1,"total":42.5,"note":{"string":"gift"}}\\n' | <%= config.bin %> <%= command.id %> orders --encode avro --subject orders-value --registry http://127.0.0.1:8081`,
    },
    {
      description: 'A binary file as one message',
      command: '<%= config.bin %> <%= command.id %> blobs --input raw --file image.png',
    },
    {
      description: 'Check a capture without sending',
      command:
        '<%= config.bin %> <%= command.id %> orders --input jsonl --file capture.jsonl --dry-run --json | jq .wouldSend',
    },
  ]

  static override enableJsonFlag = true

  static override args = {
    target: Args.string({
      description: 'Topic, queue or URL to publish to (see "Targets" in the README).',
      required: true,
    }),
    value: Args.string({
      description: 'The message value. Without it, messages are read from stdin or --file.',
      ignoreStdin: true,
    }),
  }

  static override flags = {
    encode: Flags.option({
      options: ['avro', 'protobuf', 'json-schema'] as const,
      summary:
        'Write each JSON value in this format with a schema (--subject, --schema-id or a local schema).',
    })(),
    subject: Flags.string({
      summary: 'With --encode: the registry subject whose schema writes the values.',
      dependsOn: ['encode'],
    }),
    'schema-version': Flags.integer({
      min: 1,
      summary: 'With --subject: this version [default: latest].',
      dependsOn: ['subject'],
    }),
    'schema-id': Flags.integer({
      min: 0,
      summary: 'With --encode: the registry schema with this id (with a local schema: the id to frame with).',
      dependsOn: ['encode'],
    }),
    registry: decodeFlags.registry,
    'value-schema': decodeFlags['value-schema'],
    'proto-path': decodeFlags['proto-path'],
    'value-type': decodeFlags['value-type'],
    // No defaults on broker-specific flags: a flag given is checked against the broker (exit 6).
    acks: Flags.option({
      options: ['all', '1', '0'] as const,
      summary: 'Kafka: acknowledgements to wait for (all = every in-sync replica).',
    })(),
    compression: Flags.option({
      options: ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const,
      summary: "Kafka: compress batches (zstd needs Node 22.15+: Node's zlib has it from there on).",
    })(),
    'dedup-id': Flags.string({
      summary:
        'SQS FIFO: deduplication id (else kept from envelopes); several messages get ID-1, ID-2, … in input order.',
    }),
    delay: durationFlag({summary: 'SQS: delay delivery by this long (up to 15m).'}),
    'allow-empty': Flags.boolean({
      summary: 'With --input raw: publish an empty input as one empty message (refused otherwise).',
    }),
    'dry-run': Flags.boolean({
      summary: 'Validate and print what would be sent (as JSONL on stdout); send nothing.',
    }),
    file: Flags.string({char: 'f', summary: 'Read messages from this file instead of stdin.'}),
    header: headerFlag({
      char: 'H',
      multiple: true,
      // `-H a=b VALUE`: one value per flag, so the argument after it stays an argument.
      multipleNonGreedy: true,
      summary: 'Add a header name=value to every message (repeatable).',
    }),
    input: Flags.option({
      default: 'lines',
      env: 'EVTCTL_INPUT',
      options: ['lines', 'jsonl', 'raw'] as const,
      summary: 'How to read stdin or --file.',
    })(),
    'group-id': Flags.string({
      summary: 'SQS FIFO: message group id for every message (else kept from envelopes).',
    }),
    idempotent: Flags.boolean({
      summary: 'Kafka: idempotent producer (no duplicates from retries; needs acks=all).',
    }),
    'keep-partitions': Flags.boolean({
      summary:
        'Kafka: send each envelope to its own partition (replay a capture as it was); default is by key.',
      exclusive: ['partition'],
    }),
    key: Flags.string({char: 'k', summary: 'Key for every message (replaces keys from envelopes).'}),
    'ordering-key': Flags.string({
      summary: 'Pub/Sub: ordering key for every message (else kept from envelopes).',
    }),
    partition: Flags.integer({min: 0, summary: 'Kafka: send every message to this partition.'}),
    profile: Flags.string({
      summary: "SQS: the AWS profile to use (else the context's profile, else AWS_PROFILE).",
    }),
    rate: Flags.integer({env: 'EVTCTL_RATE', min: 1, summary: 'At most this many messages per second.'}),
    // No env twin on purpose: a stray variable must never approve a write to production.
    yes: Flags.boolean({char: 'y', summary: 'Confirm publishing to a context marked production.'}),
  }

  async run(): Promise<PublishResult> {
    const {args, flags} = await this.parse(Publish)
    if (args.value !== undefined && flags.file) {
      throw new UsageError(
        'Give either VALUE or --file, not both.',
        'Drop VALUE to read the file, or drop --file.',
      )
    }
    if (args.value === undefined && !flags.file && process.stdin.isTTY) {
      throw new UsageError(
        'No VALUE, no --file, and stdin is a terminal: nothing to publish.',
        `Give a value (evtctl publish ${args.target} '{"id":1}'), pipe messages in, or use --file.`,
      )
    }
    if (flags.idempotent && flags.acks !== undefined && flags.acks !== 'all') {
      throw new UsageError('--idempotent needs --acks all.', 'Drop --acks, or drop --idempotent.')
    }
    if (flags.delay !== undefined && flags.delay > 900_000) {
      throw new UsageError('--delay is at most 15m on SQS.', 'Use a shorter delay.')
    }
    // Flags that only mean something with another input are refused, never ignored.
    if (flags['allow-empty'] && flags.input !== 'raw') {
      throw new UsageError('--allow-empty is for --input raw.', 'Drop --allow-empty, or add --input raw.')
    }
    if (flags['keep-partitions'] && (flags.input !== 'jsonl' || args.value !== undefined)) {
      throw new UsageError(
        '--keep-partitions sends each envelope to its own partition, so it needs envelopes: --input jsonl.',
        'Add --input jsonl (a capture written by tail -o jsonl), or drop --keep-partitions.',
      )
    }
    // Loaded only when asked for: node:zlib stays out of every other start-up.
    if (flags.compression === 'zstd' && !(await import('../util/zstd.js')).zlibZstd) {
      throw new UnsupportedError(
        `--compression zstd needs Node 22.15 or newer (zstd is in its zlib); this is Node ${process.version}.`,
        'Use --compression lz4 (or gzip, snappy), or run evtctl on Node 22 or 24.',
      )
    }
    if (flags.file) await assertReadable(flags.file)
    // Loaded here, not at the top, so --help and --version stay fast.
    const [
      {envelopeOf, InputLines, jsonlInput, linesInput, rawInput, spool, untilAborted},
      {payloadFromString},
      {jsonlRenderer},
      {publishEvents},
    ] = await Promise.all([
      import('../envelope/input.js'),
      import('../envelope/payload.js'),
      import('../output/render.js'),
      import('../services/publish.js'),
    ])
    const target = await this.resolveTarget(args.target, flags.context)
    // --compression on a file, --delay on Kafka…: refused (exit 6), also in a dry run.
    this.refuseUnsupportedFlags(target, flags)
    // When stdin carries the data it is not a terminal, so a production context then needs --yes.
    if (!flags['dry-run']) await this.confirmProduction(target, 'Publish to', flags.yes, {dryRun: true})
    const decoration: Decoration = {
      classify: flags['dry-run'] || target.kind === 'file',
      ...(flags.key !== undefined ? {key: payloadFromString(flags.key)} : {}),
      headers: (flags.header ?? []).map((h): Header => [h.name, payloadFromString(h.value, {json: false})]),
    }

    let cleanup: (() => Promise<void>) | undefined
    // Input line of each message (lines and jsonl input), for the resume point after a Ctrl-C.
    const lines = args.value === undefined && flags.input !== 'raw' ? new InputLines() : undefined
    try {
      let events: AsyncIterable<Envelope>
      if (args.value !== undefined) {
        events = single(envelopeOf(Buffer.from(args.value, 'utf8'), decoration))
      } else if (flags.input === 'jsonl') {
        let path: string
        if (flags.file) path = flags.file
        else {
          const spooled = await spool(process.stdin, this.signal).catch((err) => {
            this.throwIfInterrupted()
            throw err
          })
          path = spooled.path
          cleanup = spooled.cleanup
        }
        const input = await jsonlInput(path, flags.file ?? 'stdin', decoration)
        events = input.events(lines)
      } else {
        // Ctrl-C ends the input at once, also while stdin is open with nothing coming.
        const chunks = untilAborted<Buffer | string>(
          flags.file ? createReadStream(flags.file) : process.stdin,
          this.signal,
        )
        if (flags.input === 'raw') {
          // Read before connecting: empty input is refused with nothing done (no topic file made).
          const all: Envelope[] = []
          for await (const env of rawInput(chunks, decoration, {allowEmpty: flags['allow-empty']}))
            all.push(env)
          this.throwIfInterrupted()
          events = single(all[0]!)
        } else events = linesInput(chunks, decoration, lines)
      }

      if (flags.encode) events = await this.encoded(events, flags, target, lines)
      const adapter = flags['dry-run']
        ? undefined
        : await this.open(target, [], flags.profile !== undefined ? {profile: flags.profile} : {})
      const out = dataWriter(process.stdout, this.controller)
      const report = await publishEvents(adapter, target, events, {
        dryRun: flags['dry-run'],
        broker: {
          ...(flags.acks !== undefined ? {acks: flags.acks === 'all' ? -1 : flags.acks === '1' ? 1 : 0} : {}),
          ...(flags.compression !== undefined ? {compression: flags.compression} : {}),
          ...(flags['group-id'] !== undefined ? {groupId: flags['group-id']} : {}),
          ...(flags['ordering-key'] !== undefined ? {orderingKey: flags['ordering-key']} : {}),
          ...(flags['dedup-id'] !== undefined ? {dedupId: flags['dedup-id']} : {}),
          ...(flags.delay !== undefined ? {delaySeconds: Math.round(flags.delay / 1000)} : {}),
          idempotent: flags.idempotent,
          keepPartitions: flags['keep-partitions'],
          partition: flags.partition,
          emit: this.emit,
        },
        rate: flags.rate,
        signal: this.signal,
        onDryRun: this.jsonEnabled() ? undefined : (env) => out.write(jsonlRenderer(env)),
      })
      await out.end()
      // A Ctrl-C that killed the producer of stdin arrives with its end of input: give a
      // pending signal its turn before calling the input complete.
      await new Promise((resolve) => setImmediate(resolve))
      if (this.interrupted()) throw interruptedReport(report, lines)
      const failed = report.failed.length
      if (report.dryRun)
        this.stderr(`Dry run: would publish ${report.wouldSend} message(s) to ${report.target}.`)
      else
        this.stderr(
          `Published ${report.sent} message(s) to ${report.target} in ${report.durationMs} ms${failed ? `; ${failed} failed` : ''}.`,
        )
      for (const f of report.failed.slice(0, 20)) this.stderr(`  message ${f.index + 1}: ${f.error}`)
      if (failed) process.exitCode = ExitCode.PartialFailure
      return report
    } finally {
      await cleanup?.()
    }
  }

  /**
   * --encode: every value read, checked and written with the schema before anything is sent (a
   * value that does not fit is exit 2 naming its line and field). Holds the encoded messages in
   * memory.
   */
  private async encoded(
    events: AsyncIterable<Envelope>,
    flags: {
      encode?: 'avro' | 'protobuf' | 'json-schema'
      subject?: string
      'schema-version'?: number
      'schema-id'?: number
      registry?: string
      'value-schema'?: string
      'proto-path'?: string[]
      'value-type'?: string
    },
    target: import('../config/targets.js').Target,
    lines: {lineOf(index: number): number} | undefined,
  ): Promise<AsyncIterable<Envelope>> {
    const [{encoderFor}, {registrySettings}, {toPayload}, {jsonOf, NOT_JSON}] = await Promise.all([
      import('../codecs/schema/encode.js'),
      import('../codecs/schema/setup.js'),
      import('../envelope/payload.js'),
      import('../codecs/json.js'),
    ])
    const ctx = target.context as (Record<string, unknown> & {name?: string}) | undefined
    const settings = await registrySettings(flags.registry, ctx, {emit: this.emit})
    const encoder = await encoderFor(
      {
        format: flags.encode!,
        ...(flags.subject !== undefined ? {subject: flags.subject} : {}),
        ...(flags['schema-version'] !== undefined ? {version: flags['schema-version']} : {}),
        ...(flags['schema-id'] !== undefined ? {schemaId: flags['schema-id']} : {}),
        ...(flags['value-type'] !== undefined ? {messageType: flags['value-type']} : {}),
        ...(flags['value-schema'] !== undefined ? {valueSchema: flags['value-schema']} : {}),
        ...(flags['proto-path'] !== undefined ? {protoPath: flags['proto-path']} : {}),
      },
      settings,
    )
    const out: Envelope[] = []
    let i = 0
    for await (const env of events) {
      const where = lines ? `Line ${lines.lineOf(i)}` : 'VALUE'
      i++
      if (env.value === null) {
        out.push(env)
        continue
      }
      const value = jsonOf(env.value)
      if (value === NOT_JSON) {
        throw new UsageError(
          `${where} is not JSON, so --encode ${flags.encode} cannot write it.`,
          'Nothing was sent. Each value must be one JSON document.',
          'INVALID_VALUE',
        )
      }
      const bytes = encoder.encode(value, where)
      // The bytes as written; the decoded fields of a capture no longer apply.
      const {schema: _s, decoded: _d, decodeError: _e, ...rest} = env
      out.push({...rest, value: toPayload(bytes, {keepBytes: true, json: false})})
    }
    this.stderr(`Encoded ${out.length} value(s) with ${encoder.label}.`)
    return (async function* () {
      yield* out
    })()
  }
}

/**
 * What a retry relies on after Ctrl-C/SIGTERM: what was sent and failed, and where to resume.
 * Adapters settle what they sent before returning, and stop pulling input on abort, so the first
 * sent + failed messages are settled and none after them was sent.
 */
function interruptedReport(report: PublishEventsReport, lines?: {lineOf(index: number): number}) {
  // Every adapter reports outcomes per message (onSettled); sent + failed is the fallback.
  const settled = report.settled ?? report.sent + report.failed.length + (report.deduplicated?.length ?? 0)
  const resumeLine = lines?.lineOf(settled)
  const failed = report.failed.length ? `, ${report.failed.length} failed (listed with --json)` : ''
  return new InterruptedError(
    `Interrupted: ${report.sent} message(s) published to ${report.target}${failed}; nothing after message ${settled} was sent.`,
    resumeLine !== undefined
      ? `To resume, publish the input from line ${resumeLine} on (e.g. tail -n +${resumeLine} FILE | evtctl publish …).`
      : undefined,
    {...report, interrupted: true, settled, ...(resumeLine !== undefined ? {resumeLine} : {})},
  )
}

async function* single(env: Envelope): AsyncGenerator<Envelope> {
  yield env
}

async function assertReadable(path: string): Promise<void> {
  let isDir: boolean
  try {
    await access(path)
    isDir = (await stat(path)).isDirectory()
  } catch {
    throw new UsageError(`Cannot read --file ${path}: no such file.`, 'Check the path.', 'BAD_INPUT')
  }
  if (isDir) throw new UsageError(`--file ${path} is a directory.`, 'Give the path of a file.', 'BAD_INPUT')
}
