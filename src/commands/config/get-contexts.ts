import {BaseCommand} from '../../base-command.js'
import {configFile} from '../../config/paths.js'
import {exitCodeHelp} from '../../errors.js'

export type ConfigGetContextsResult = {
  current?: string
  contexts: Array<{name: string; current: boolean; broker: string; endpoint: string; production: boolean}>
}

export default class ConfigGetContexts extends BaseCommand {
  static override summary = 'List contexts.'
  static override description =
    `Without any context, bare names use the embedded file broker.\n\n${exitCodeHelp([0, 3])}`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    {
      description: 'Names only',
      command: `<%= config.bin %> <%= command.id %> --json | jq -r '.contexts[].name'`,
    },
  ]
  static override enableJsonFlag = true

  async run(): Promise<ConfigGetContextsResult> {
    await this.parse(ConfigGetContexts)
    const {redact} = await import('../../config/config.js')
    const config = redact(await this.loadConfig())
    const current = config['current-context']
    const contexts = Object.entries(config.contexts).map(([name, c]) => ({
      name,
      current: name === current,
      broker: c.broker,
      endpoint:
        c.brokers?.join(',') ?? c.endpoint ?? c['emulator-host'] ?? c.project ?? c.region ?? c.dir ?? '',
      production: c.production === true,
    }))
    if (!this.jsonEnabled()) {
      if (contexts.length === 0)
        this.stderr(`No contexts in ${configFile()}: bare names use the embedded file broker.`)
      else {
        const {renderTable} = await import('../../output/table.js')
        process.stdout.write(
          renderTable(
            ['CURRENT', 'NAME', 'BROKER', 'ENDPOINT', 'PRODUCTION'],
            contexts.map((c) => [
              c.current ? '*' : '',
              c.name,
              c.broker,
              c.endpoint,
              c.production ? 'yes' : '',
            ]),
          ),
        )
      }
    }
    return {...(current ? {current} : {}), contexts}
  }
}
