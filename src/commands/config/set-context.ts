import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import type {Context} from '../../config/config.js'
import {exitCodeHelp, UsageError} from '../../errors.js'

export type ConfigSetContextResult = {name: string; context: Context; current: boolean}

export default class ConfigSetContext extends BaseCommand {
  static override summary = 'Create or update a context.'
  static override description =
    `A context names one broker and how to reach it. Flags given replace those fields; others stay. The file is written with mode 0600.\n\n${exitCodeHelp([0, 2, 3])}`
  static override examples = [
    {
      description: 'Local Kafka',
      command: '<%= config.bin %> <%= command.id %> local --broker kafka --brokers 127.0.0.1:9092 --use',
    },
    {
      description: 'ElasticMQ',
      command:
        '<%= config.bin %> <%= command.id %> sqs-local --broker sqs --region us-east-1 --endpoint http://127.0.0.1:9324',
    },
    {
      description: 'Pub/Sub emulator',
      command:
        '<%= config.bin %> <%= command.id %> ps --broker pubsub --project demo --emulator-host 127.0.0.1:8085',
    },
    {
      description: 'Production: destructive commands ask first',
      command: '<%= config.bin %> <%= command.id %> prod --broker kafka --brokers kafka-1:9093 --production',
    },
  ]
  static override enableJsonFlag = true
  static override args = {name: Args.string({description: 'Context name.', required: true})}
  static override flags = {
    broker: Flags.option({
      options: ['kafka', 'sqs', 'pubsub', 'file'] as const,
      summary: 'Broker kind (required for a new context).',
    })(),
    brokers: Flags.string({summary: 'Kafka bootstrap servers, comma-separated.'}),
    dir: Flags.string({summary: 'File broker: directory of topic files.'}),
    'emulator-host': Flags.string({summary: 'Pub/Sub emulator host:port.'}),
    endpoint: Flags.string({summary: 'SQS endpoint URL (ElasticMQ, LocalStack).'}),
    production: Flags.boolean({
      allowNo: true,
      summary: 'Mark as production: destructive commands need confirmation.',
    }),
    profile: Flags.string({summary: 'AWS profile.'}),
    project: Flags.string({summary: 'GCP project id.'}),
    region: Flags.string({summary: 'AWS region.'}),
    use: Flags.boolean({summary: 'Also make it the current context.'}),
  }

  async run(): Promise<ConfigSetContextResult> {
    const {args, flags} = await this.parse(ConfigSetContext)
    const {redact, saveConfig} = await import('../../config/config.js')
    const config = await this.loadConfig()
    const existing = config.contexts[args.name]
    const broker = flags.broker ?? existing?.broker
    if (!broker) {
      throw new UsageError(
        `Context "${args.name}" is new, so it needs --broker.`,
        `Example: evtctl config set-context ${args.name} --broker kafka --brokers 127.0.0.1:9092`,
      )
    }
    // Each broker's own settings; a context moved to another broker keeps none of the old one's.
    const own: Record<Context['broker'], readonly string[]> = {
      kafka: ['brokers'],
      sqs: ['region', 'endpoint', 'profile'],
      pubsub: ['project', 'emulator-host'],
      file: ['dir'],
    }
    for (const [other, names] of Object.entries(own)) {
      if (other === broker) continue
      const given = names.filter((n) => flags[n as keyof typeof flags] !== undefined)
      if (given.length > 0) {
        throw new UsageError(
          `--${given.join(', --')} is a setting of the ${other} broker, not of ${broker}.`,
          `Drop it, or give --broker ${other}.`,
          'FLAG_NOT_FOR_BROKER',
        )
      }
    }
    const switched = existing !== undefined && existing.broker !== broker
    const base = switched
      ? {...(existing.production !== undefined ? {production: existing.production} : {})}
      : existing
    if (switched) {
      const dropped = Object.keys(existing).filter((k) => k !== 'broker' && k !== 'production')
      if (dropped.length > 0) {
        this.stderr(
          `Context "${args.name}" moves from ${existing.broker} to ${broker}: its ${existing.broker} settings (${dropped.join(', ')}) were removed.`,
        )
      }
    }
    const context: Context = {
      ...base,
      broker,
      ...(flags.brokers !== undefined
        ? {
            brokers: flags.brokers
              .split(',')
              .map((b) => b.trim())
              .filter(Boolean),
          }
        : {}),
      ...(flags.dir !== undefined ? {dir: flags.dir} : {}),
      ...(flags['emulator-host'] !== undefined ? {'emulator-host': flags['emulator-host']} : {}),
      ...(flags.endpoint !== undefined ? {endpoint: flags.endpoint} : {}),
      ...(flags.production !== undefined ? {production: flags.production} : {}),
      ...(flags.profile !== undefined ? {profile: flags.profile} : {}),
      ...(flags.project !== undefined ? {project: flags.project} : {}),
      ...(flags.region !== undefined ? {region: flags.region} : {}),
    }
    // A context that could not be used is refused now, not at its first use.
    if (broker === 'kafka') {
      const {isBootstrapServer} = await import('../../config/targets.js')
      const bad = (context.brokers ?? []).filter((b) => !isBootstrapServer(b))
      if (!context.brokers?.length || bad.length > 0) {
        throw new UsageError(
          bad.length
            ? `--brokers ${bad.join(',')}: each bootstrap server is HOST:PORT with a port from 1 to 65535.`
            : `A Kafka context needs --brokers.`,
          `Example: evtctl config set-context ${args.name} --broker kafka --brokers 127.0.0.1:9092 (several: h1:9092,h2:9092).`,
        )
      }
    }
    if (broker === 'pubsub' && !context.project) {
      throw new UsageError(
        'A Pub/Sub context needs --project.',
        `Example: evtctl config set-context ${args.name} --broker pubsub --project my-project`,
      )
    }
    config.contexts[args.name] = context
    if (flags.use) config['current-context'] = args.name
    await saveConfig(config)
    this.stderr(
      `${existing ? 'Updated' : 'Created'} context "${args.name}"${flags.use ? ' and made it current' : ''}.`,
    )
    return {name: args.name, context: redact(context), current: config['current-context'] === args.name}
  }
}
