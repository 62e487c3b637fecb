import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {exitCodeHelp} from '../../errors.js'

export type ConfigDeleteContextResult = {deleted: string}

export default class ConfigDeleteContext extends BaseCommand {
  static override summary = 'Delete a context.'
  static override description = exitCodeHelp([0, 2, 3])
  static override examples = ['<%= config.bin %> <%= command.id %> old-cluster']
  static override enableJsonFlag = true
  static override args = {name: Args.string({description: 'Context name.', required: true})}

  async run(): Promise<ConfigDeleteContextResult> {
    const {args} = await this.parse(ConfigDeleteContext)
    const {currentContext, saveConfig} = await import('../../config/config.js')
    const config = await this.loadConfig()
    currentContext(config, args.name)
    delete config.contexts[args.name]
    if (config['current-context'] === args.name) delete config['current-context']
    await saveConfig(config)
    this.stderr(`Deleted context "${args.name}".`)
    return {deleted: args.name}
  }
}
