import {BaseCommand} from '../../base-command.js'
import type {Config} from '../../config/config.js'
import {configFile} from '../../config/paths.js'
import {exitCodeHelp} from '../../errors.js'

export type ConfigViewResult = Config

export default class ConfigView extends BaseCommand {
  static override summary = 'Show the configuration, with secrets redacted.'
  static override description =
    `Reads ${'$'}XDG_CONFIG_HOME/evtctl/config.yaml. Passwords, tokens and secrets are shown as <redacted>.\n\n${exitCodeHelp([0, 3])}`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json | jq .contexts',
  ]
  static override enableJsonFlag = true

  async run(): Promise<ConfigViewResult> {
    await this.parse(ConfigView)
    const {formatConfig, redact} = await import('../../config/config.js')
    const config = redact(await this.loadConfig())
    if (!this.jsonEnabled()) {
      this.stderr(`# ${configFile()}`)
      process.stdout.write(formatConfig(config))
    }
    return config
  }
}
