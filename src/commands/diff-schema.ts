import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {EvtctlError, ExitCode, exitCodeHelp, UsageError} from '../errors.js'
import {durationFlag} from '../flags.js'
import type {DiffSchemaReport} from '../schema-diff/service.js'
import {type Format, MODES} from '../schema-diff/types.js'

export type DiffSchemaResult = DiffSchemaReport

export default class DiffSchema extends BaseCommand {
  static override summary =
    'Check event schemas for breaking changes, offline (JSON Schema, Avro, Protobuf, AsyncAPI).'
  static override description =
    `Compares OLD with NEW (or versions V1 … VN, oldest first) under a compatibility mode as Confluent Schema Registry defines it: BACKWARD (default: readers on NEW read data written with OLD), FORWARD (readers on OLD read data written with NEW), FULL (both), each also _TRANSITIVE (against every older version), and NONE.

With --against GIT_REF, each PATH (a file or a directory) is compared with its content at that ref, read with git (no checkout, no network). A file new since the ref is reported as added; a removed file is breaking unless --allow-removed.

The format comes from the extension (.json JSON Schema, .avsc Avro, .proto Protobuf; AsyncAPI by its "asyncapi" key) or --format. JSON Schema and Protobuf changes use Confluent's difference type names and paths. Remote $refs are never fetched; local refs and imports must stay inside the repository root. Each pair of schemas has a time budget (--timeout).

${exitCodeHelp([0, 1, 2, 10])}`

  static override examples = [
    {
      description: 'Is the new schema backward compatible with the old one?',
      command: '<%= config.bin %> <%= command.id %> old/order.json new/order.json',
    },
    {
      description: 'Every version in order, the newest last, against all older ones',
      command: '<%= config.bin %> <%= command.id %> v1.avsc v2.avsc v3.avsc --compatibility FULL_TRANSITIVE',
    },
    {
      description: 'Every schema in a folder against the main branch, as GitHub annotations',
      command: '<%= config.bin %> <%= command.id %> schemas/ --against origin/main --output-format github',
    },
    {
      description: 'Breaking change types only, for a script',
      command: `<%= config.bin %> <%= command.id %> old.proto new.proto --json | jq -r '.changes[] | select(.breaking) | .type'`,
    },
  ]

  static override enableJsonFlag = true
  static override strict = false

  static override args = {
    paths: Args.string({
      description: 'OLD NEW, or V1 … VN (oldest first), or with --against the files and folders to check.',
      required: true,
    }),
  }

  static override flags = {
    against: Flags.string({summary: 'Compare each PATH with itself at this git ref (commit, branch, tag).'}),
    'allow-removed': Flags.boolean({
      summary: 'With --against: a schema file removed since the ref is not breaking.',
    }),
    compatibility: Flags.option({
      default: 'BACKWARD',
      env: 'EVTCTL_COMPATIBILITY',
      options: MODES,
      summary: 'Compatibility mode, as in Confluent Schema Registry.',
    })(),
    format: Flags.option({
      default: 'auto',
      options: ['auto', 'json-schema', 'avro', 'protobuf', 'asyncapi'] as const,
      summary: 'Schema format (auto: from the extension or the "asyncapi" key).',
    })(),
    'json-schema-policy': Flags.option({
      default: 'strict',
      env: 'EVTCTL_JSON_SCHEMA_POLICY',
      options: ['strict', 'lenient'] as const,
      summary: "JSON Schema: Confluent's STRICT (default) or LENIENT compatibility policy.",
    })(),
    'output-format': Flags.option({
      env: 'EVTCTL_OUTPUT_FORMAT',
      options: ['text', 'json', 'github', 'junit', 'sarif'] as const,
      summary: 'How to print the report on stdout (default text; json is the --json document).',
    })(),
    'proto-path': Flags.string({
      multiple: true,
      multipleNonGreedy: true,
      summary: "Protobuf: another directory to resolve imports from (after the file's own; repeatable).",
    }),
    timeout: durationFlag({
      summary:
        'Time budget per pair of schemas (default 10s); a schema that needs longer is unusable input (exit 2).',
    }),
  }

  async run(): Promise<DiffSchemaResult> {
    const {argv, flags} = await this.parse(DiffSchema)
    const paths = argv as string[]
    const output = this.jsonEnabled() ? 'json' : (flags['output-format'] ?? 'text')
    if (!flags.against && paths.length < 2) {
      throw new UsageError(
        'Give OLD and NEW (or more versions, oldest first), or PATH… with --against GIT_REF.',
        'evtctl diff-schema old.json new.json',
      )
    }
    if (flags['allow-removed'] && !flags.against) {
      throw new UsageError(
        '--allow-removed is for --against.',
        'Drop --allow-removed, or add --against GIT_REF.',
      )
    }
    const [service, {render}, {SchemaInputError}] = await Promise.all([
      import('../schema-diff/service.js'),
      import('../schema-diff/render.js'),
      import('../schema-diff/types.js'),
    ])
    const cwd = process.cwd()
    const opts = {
      mode: flags.compatibility,
      format: flags.format as Format | 'auto',
      jsonSchemaPolicy: flags['json-schema-policy'],
      protoPaths: (flags['proto-path'] ?? []).map((p) => (p.startsWith('/') ? p : `${cwd}/${p}`)),
      root: await service.repositoryRoot(cwd),
      budgetMs: flags.timeout ?? 10_000,
      cwd,
    }
    let report: DiffSchemaReport
    try {
      report = flags.against
        ? await service.diffAgainst(paths, flags.against, {...opts, allowRemoved: flags['allow-removed']})
        : await service.diffFiles(paths, opts)
    } catch (err) {
      if (err instanceof SchemaInputError) {
        // In a GitHub workflow the unusable file is annotated too, where it can be placed.
        if (output === 'github' && err.file && !err.file.includes(':')) {
          const {ghData, ghProp} = await import('../schema-diff/render.js')
          const where = [
            `file=${ghProp(err.file)}`,
            ...(err.line ? [`line=${err.line}`] : []),
            ...(err.column ? [`col=${err.column}`] : []),
          ]
          process.stdout.write(
            `::error ${where.join(',')},title=${ghProp(err.code)}::${ghData(err.message)}\n`,
          )
        }
        throw new EvtctlError(
          err.located,
          err.code,
          ExitCode.Usage,
          err.code === 'SCHEMA_TOO_COMPLEX'
            ? 'Simplify the schema, or raise --timeout if it is legitimately large.'
            : 'Fix the schema file (or the flag) named above.',
        )
      }
      throw err
    }
    if (!report.compatible) process.exitCode = ExitCode.BreakingChange
    if (output !== 'json') process.stdout.write(render(report, output))
    else if (!this.jsonEnabled()) process.stdout.write(render(report, 'json'))
    if (output !== 'text' && output !== 'json') {
      const breaking = report.changes.filter((c) => c.breaking).length
      this.stderr(`${report.changes.length} change(s), ${breaking} breaking under ${report.compatibility}.`)
    }
    return report
  }
}
