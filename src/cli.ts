/**
 * The CLI entry that esbuild bundles (with @oclif/core) into dist/cli.js, so a cold start reads one
 * file instead of hundreds. Commands are registered explicitly (oclif's "explicit" strategy); each
 * loads its heavy dependencies (broker SDKs, zod, JSONata) only when it runs.
 */
import Completion from './commands/completion.js'
import ConfigDeleteContext from './commands/config/delete-context.js'
import ConfigGetContexts from './commands/config/get-contexts.js'
import ConfigSetContext from './commands/config/set-context.js'
import ConfigUseContext from './commands/config/use-context.js'
import ConfigView from './commands/config/view.js'
import DiffSchema from './commands/diff-schema.js'
import DlqList from './commands/dlq/list.js'
import Lag from './commands/lag.js'
import Publish from './commands/publish.js'
import Replay from './commands/replay.js'
import Tail from './commands/tail.js'

export {execute} from '@oclif/core'
export {notFound as NOT_FOUND} from './hooks/not-found.js'

export const COMMANDS = {
  completion: Completion,
  'config:delete-context': ConfigDeleteContext,
  'config:get-contexts': ConfigGetContexts,
  'config:set-context': ConfigSetContext,
  'config:use-context': ConfigUseContext,
  'config:view': ConfigView,
  'diff-schema': DiffSchema,
  'dlq:list': DlqList,
  lag: Lag,
  publish: Publish,
  replay: Replay,
  tail: Tail,
}
