import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {exitCodeHelp} from '../../errors.js'

export type ConfigUseContextResult = {current: string}

export default class ConfigUseContext extends BaseCommand {
  static override summary = 'Make a context the current one.'
  static override description =
    `Bare names then resolve through it. EVTCTL_CONTEXT and --context override it per run.\n\n${exitCodeHelp([0, 2, 3])}`
  static override examples = ['<%= config.bin %> <%= command.id %> local']
  static override enableJsonFlag = true
  static override args = {name: Args.string({description: 'Context name.', required: true})}

  async run(): Promise<ConfigUseContextResult> {
    const {args} = await this.parse(ConfigUseContext)
    const {currentContext, saveConfig} = await import('../../config/config.js')
    const config = await this.loadConfig()
    currentContext(config, args.name) // exit 3 with the known names when it does not exist
    config['current-context'] = args.name
    await saveConfig(config)
    this.stderr(`Switched to context "${args.name}".`)
    return {current: args.name}
  }
}
