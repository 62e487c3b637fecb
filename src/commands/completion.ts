import {Args} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {completionScripts, SHELLS} from '../completion/scripts.js'
import {exitCodeHelp} from '../errors.js'

export default class Completion extends BaseCommand {
  static override summary = 'Print the shell completion script for bash, zsh or fish.'
  static override description =
    `Completes commands, flags, flag values (-o pretty|jsonl|raw, --compatibility modes…), context names, and the topic, queue and subscription names of the current context (or of --context NAME on the line). Names are asked of the broker with a short time-out (a completion never waits more than about 300 ms; what is not there in time comes from the last answer, refreshed in the background) and cached for a minute under ${'$'}XDG_CACHE_HOME/evtctl/completion.

Load it in your shell's start-up file:
  bash:  source <(evtctl completion bash)       (~/.bashrc)
  zsh:   source <(evtctl completion zsh)        (~/.zshrc, after compinit)
  fish:  evtctl completion fish | source        (~/.config/fish/config.fish)

${exitCodeHelp([0, 2])}`
  static override examples = [
    {
      description: 'Completion in bash, now and in every new shell',
      command:
        "source <(<%= config.bin %> <%= command.id %> bash) && echo 'source <(<%= config.bin %> <%= command.id %> bash)' >> ~/.bashrc",
    },
    {
      description: 'fish, saved where fish looks for it',
      command: '<%= config.bin %> <%= command.id %> fish > ~/.config/fish/completions/evtctl.fish',
    },
  ]
  static override args = {
    shell: Args.string({description: 'The shell.', options: [...SHELLS], required: true}),
  }

  async run(): Promise<void> {
    const {args} = await this.parse(Completion)
    process.stdout.write(completionScripts[args.shell as (typeof SHELLS)[number]])
  }
}
