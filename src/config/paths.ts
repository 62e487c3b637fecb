import {homedir} from 'node:os'
import {join} from 'node:path'

/** $XDG_CONFIG_HOME/evtctl (default ~/.config/evtctl). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'evtctl')
}

/** $XDG_DATA_HOME/evtctl (default ~/.local/share/evtctl): where the embedded file broker keeps topics. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'evtctl')
}

export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'config.yaml')
}

/** $XDG_STATE_HOME/evtctl (default ~/.local/state/evtctl): replay journals. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'evtctl')
}
