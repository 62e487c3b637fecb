import {join} from 'node:path'
import {Command, Flags} from '@oclif/core'
import type {Input, ParserOutput} from '@oclif/core/interfaces'
import {openAdapter, requireCapabilities, requireFlags} from './adapters/registry.js'
import type {AdapterOptions, BrokerAdapter, Capability} from './adapters/types.js'
import type {Config, NamedContext} from './config/config.js'
import {dataDir} from './config/paths.js'
import type {Target} from './config/targets.js'
import {ConfigError, EvtctlError, ExitCode, InterruptedError, isEvtctlError, UsageError} from './errors.js'
import {renderEvent, type UserEvent, warning, warningJson} from './events.js'
import {safeText} from './output/safe-text.js'
import {BrokenPipe} from './output/stdout.js'

/**
 * Shared plumbing: global flags, target resolution through contexts, capability checks before
 * connecting, one AbortController for Ctrl-C / --max / broken pipes, and error rendering.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    context: Flags.string({
      env: 'EVTCTL_CONTEXT',
      helpGroup: 'GLOBAL',
      summary: 'Context to use instead of the current one.',
    }),
    debug: Flags.boolean({helpGroup: 'GLOBAL', summary: 'Show stack traces of internal errors.'}),
    // No env twin on purpose: turning off certificate checks must be visible in the command line.
    insecure: Flags.boolean({
      helpGroup: 'GLOBAL',
      summary: 'Do not verify TLS certificates (prints a warning).',
    }),
  }

  protected readonly controller = new AbortController()
  private readonly adapters: BrokerAdapter[] = []
  private interrupts = 0
  private debugEnabled = false

  get signal(): AbortSignal {
    return this.controller.signal
  }

  private readonly onSignal = (): void => {
    this.interrupts++
    // A second Ctrl-C means "now": skip the clean-up.
    if (this.interrupts > 1) process.exit(ExitCode.Interrupted)
    this.controller.abort(new InterruptedError())
  }

  private insecure = false
  /** --context was on the command line (not only in EVTCTL_CONTEXT, which may be exported for good). */
  private contextFlag = false

  /** Parses once; the global flags are kept from here (not looked up in argv again). */
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Input<F, B, A>,
    argv?: string[],
  ): Promise<ParserOutput<F, B, A>> {
    const out = await super.parse(options, argv)
    const flags = out.flags as {debug?: boolean; insecure?: boolean}
    this.debugEnabled ||= flags.debug === true
    this.insecure = flags.insecure === true
    this.contextFlag = out.raw.some((t) => t.type === 'flag' && t.flag === 'context')
    return out
  }

  override async init(): Promise<void> {
    await super.init()
    // Before parsing succeeds (a parse error is rendered by catch), only the variable can ask.
    this.debugEnabled = Boolean(process.env.EVTCTL_DEBUG)
    process.on('SIGINT', this.onSignal)
    process.on('SIGTERM', this.onSignal)
  }

  protected async resolveTarget(text: string, contextName?: string): Promise<Target> {
    const {parseTarget} = await import('./config/targets.js')
    const found = await this.contextFor(contextName)
    if (!found) return parseTarget(text, undefined)
    const {config, ctx} = found
    refuseWithoutCurrentContext(config, ctx, text)
    // A URL gets the context's credentials when it names the context's own endpoints, or when
    // --context chose it for this run; an exported EVTCTL_CONTEXT does not send them anywhere.
    const target = parseTarget(text, ctx, process.env, {chosen: this.contextFlag})
    if (ctx && ctx.broker === target.kind && !target.context && hasCredentials(ctx)) {
      this.emit(
        warning(
          'CONTEXT_NOT_USED',
          `Context "${ctx.name}" is not used for ${target.url}: it names other hosts, and its credentials go only to its own. Add --context ${ctx.name} if this is the same service under another name.`,
        ),
      )
    }
    return target
  }

  /**
   * What `dlq list` looks at: a whole broker (kafka://HOST:PORT, sqs://REGION, pubsub://PROJECT,
   * file://DIR), one resource, or — with no text — the current context's broker (see parseScope).
   */
  protected async resolveScope(text: string | undefined, contextName?: string): Promise<Target> {
    const {parseScope} = await import('./config/scope.js')
    const found = await this.contextFor(contextName)
    if (!found) return parseScope(text, undefined)
    refuseWithoutCurrentContext(found.config, found.ctx, text)
    return parseScope(text, found.ctx, process.env, {chosen: this.contextFlag})
  }

  private contextRead?: Promise<{config: Config; ctx: NamedContext | undefined} | undefined>

  /**
   * The config and the context in use, read once per run (replay resolves a source and a
   * destination: one read, one set of config warnings). undefined with no config file and no
   * --context: nothing to read, so YAML and zod (~40 ms) stay unloaded.
   */
  private contextFor(
    contextName: string | undefined,
  ): Promise<{config: Config; ctx: NamedContext | undefined} | undefined> {
    this.contextRead ??= (async () => {
      const {configFile} = await import('./config/paths.js')
      if (!contextName && !(await exists(configFile()))) return undefined
      const {currentContext} = await import('./config/config.js')
      const config = await this.loadConfig()
      return {config, ctx: currentContext(config, contextName)}
    })()
    return this.contextRead
  }

  /** The config file, its warnings (0644, unknown settings) on stderr. */
  protected async loadConfig(): Promise<import('./config/config.js').Config> {
    const {loadConfig} = await import('./config/config.js')
    return loadConfig(undefined, this.emit)
  }

  /** Exit 6 for a broker-specific flag the target's broker cannot honour; nothing connected. */
  protected refuseUnsupportedFlags(target: Target, flags: Record<string, unknown>): void {
    requireFlags(target, flags)
  }

  /** Checks capabilities (exit 6, nothing loaded or connected), then loads the adapter. */
  protected async open(
    target: Target,
    needs: readonly Capability[] = [],
    extra: Pick<AdapterOptions, 'profile'> = {},
  ): Promise<BrokerAdapter> {
    requireCapabilities(target, needs)
    const adapter = await openAdapter(target, {
      ...extra,
      insecure: this.insecure,
      emit: this.emit,
    })
    this.adapters.push(adapter)
    return adapter
  }

  /**
   * A context marked `production: true` makes mutating commands ask first. --yes answers for
   * scripts; without a terminal to ask on, the command stops before doing anything.
   */
  protected async confirmProduction(
    target: Target,
    action: string,
    yes: boolean,
    opts: {dryRun?: boolean} = {},
  ): Promise<void> {
    const ctx = target.context
    if (!ctx?.production || yes) return
    const noTerminal = () =>
      new UsageError(
        `Context "${ctx.name}" is marked production and there is no terminal to confirm: ${action} ${target.url}.`,
        opts.dryRun
          ? 'Add --yes to confirm, or use --dry-run to see what would happen.'
          : 'Add --yes to confirm.',
        'CONFIRMATION_REQUIRED',
      )
    if (!process.stderr.isTTY) throw noTerminal()
    // Data piped into stdin (`cat x | evtctl publish …`) on a terminal: ask on the terminal itself.
    const input = process.stdin.isTTY ? process.stdin : await openTerminal()
    if (!input) throw noTerminal()
    const {createInterface} = await import('node:readline/promises')
    const rl = createInterface({input, output: process.stderr})
    let answer: string
    try {
      answer = await rl.question(`Context "${ctx.name}" is production. ${action} ${target.url}? [y/N] `)
    } catch (err) {
      // Ctrl-C at the prompt: readline has the terminal in raw mode, so it is no SIGINT but an
      // AbortError here. Nothing was done.
      if ((err as Error).name === 'AbortError') throw new InterruptedError('Not confirmed; nothing was done.')
      throw err
    } finally {
      rl.close()
      if (input !== process.stdin) input.destroy()
    }
    if (!/^y(es)?$/i.test(answer.trim())) {
      throw new UsageError(
        'Not confirmed; nothing was done.',
        'Answer y to go ahead, or pass --yes.',
        'NOT_CONFIRMED',
      )
    }
  }

  /**
   * Decoder chains for reading with schemas (--decode, --registry, local schemas, the context's
   * schema-registry), or undefined when nothing is to be decoded. The codecs load only here.
   */
  protected async schemaDecoding(
    flags: ReturnType<typeof import('./flags.js').schemaFlagsOf>,
    target: Target,
    opts: {jsonText?: boolean} = {},
  ): Promise<import('./codecs/schema/setup.js').Decoding | undefined> {
    if (flags.mode === 'none') return undefined
    const ctx = target.context as (Record<string, unknown> & {name?: string}) | undefined
    const wanted =
      flags.mode !== undefined ||
      flags.registry !== undefined ||
      ctx?.['schema-registry'] !== undefined ||
      [flags.valueSchema, flags.keySchema, flags.valueType, flags.keyType].some((f) => f !== undefined)
    if (!wanted) return undefined
    const [{decodingFor, registrySettings}, {schemaCacheDir}] = await Promise.all([
      import('./codecs/schema/setup.js'),
      import('./codecs/schema/disk-cache.js'),
    ])
    const settings = await registrySettings(flags.registry, ctx, {insecure: this.insecure, emit: this.emit})
    return decodingFor(flags, settings, {cacheDir: schemaCacheDir(process.env), ...opts})
  }

  /** Ctrl-C or SIGTERM stopped the work (a broken pipe is a clean end, not this). */
  protected interrupted(): boolean {
    return this.signal.aborted && !(this.signal.reason instanceof BrokenPipe)
  }

  /**
   * For commands whose report is still worth having after Ctrl-C (replay): exit 130 without
   * throwing, so the report (and --json document) still comes out.
   */
  protected exitIfInterrupted(): void {
    if (this.signal.aborted && !(this.signal.reason instanceof BrokenPipe))
      process.exitCode = ExitCode.Interrupted
  }

  /** Throws InterruptedError (exit 130) if Ctrl-C stopped the work; a broken pipe is a clean end. */

  protected throwIfInterrupted(): void {
    const reason: unknown = this.signal.reason
    if (this.signal.aborted && !(reason instanceof BrokenPipe)) {
      throw isEvtctlError(reason) ? reason : new InterruptedError()
    }
  }

  /** Warnings of this run: on stderr for people, and in the --json document as `warnings`. */
  private readonly warnings: UserEvent[] = []

  /**
   * The one place events for the user are rendered: on stderr at once, and warnings carried by
   * --json output (success or error) as {code, message}. Bound, so it can be handed on.
   */
  protected readonly emit = (event: UserEvent): void => {
    if (event.level === 'warning') this.warnings.push(event)
    this.stderr(renderEvent(event))
  }

  /** The warnings emitted so far, as --json and reports carry them. */
  protected warningsJson(): Array<{code: string; message: string}> {
    return this.warnings.map(warningJson)
  }

  protected override toSuccessJson(result: unknown): unknown {
    if (
      this.warnings.length === 0 ||
      typeof result !== 'object' ||
      result === null ||
      Array.isArray(result)
    ) {
      return result
    }
    return {...result, warnings: this.warningsJson()}
  }

  /**
   * A line for people. Messages can quote message data (a damaged line, a JSON parse error), so
   * on a terminal control characters are shown, not obeyed.
   */
  protected stderr(line: string): void {
    if (this.progress) this.progress.log(safeText(line, true))
    else process.stderr.write(`${process.stderr.isTTY ? safeText(line, true) : line}\n`)
  }

  /** A progress bar on the terminal while it runs: lines for people go above it. */
  protected progress?: import('./ui/progress.js').Progress

  override async finally(err: Error | undefined): Promise<void> {
    process.off('SIGINT', this.onSignal)
    process.off('SIGTERM', this.onSignal)
    // A signal that came as the work ended (Ctrl-C on `producer | evtctl publish` can reach
    // evtctl just after the producer's end of input): the work is done and reported, but the
    // exit code still says it was interrupted, so a script never takes it for a clean end.
    if (this.interrupts > 0 && !process.exitCode) {
      process.exitCode = ExitCode.Interrupted
      this.stderr('Interrupted as it finished: the report above is complete.')
    }
    await Promise.allSettled(this.adapters.map((a) => a.close()))
    await super.finally(err)
    // A read of stdin that was given up (Ctrl-C, or a publish stopped by a broker error while
    // stdin stayed open) must not keep the process alive: the command is done with it.
    if (process.stdin.readableFlowing !== null) process.stdin.destroy()
    // Interrupted with output still queued for a reader that does not read (`| (sleep 60; cat)`):
    // oclif would wait 10 s to flush it, then exit 1. The clean-up is done; Ctrl-C means now.
    if (this.interrupted() && process.stdout.writableLength > 0)
      process.exit(process.exitCode ?? ExitCode.Interrupted)
  }

  /** One place renders errors: stderr for people, {"error": …} on stdout under --json. */
  override async catch(err: Error & {oclif?: {exit?: number}; exitCode?: number}): Promise<void> {
    err.message = cleanMessage(err.message)
    const known = isEvtctlError(err) ? err : fromOclif(err)
    const exit = known?.exitCode ?? ExitCode.Internal
    process.exitCode = exit
    if (known && known.exitCode === ExitCode.Interrupted && !this.jsonEnabled()) {
      this.stderr(known.message)
      if (known.hint) this.stderr(known.hint)
      return
    }
    if (this.jsonEnabled()) {
      const body = known
        ? known.toJSON()
        : {code: 'INTERNAL', message: err.message, exitCode: ExitCode.Internal}
      const warnings = this.warnings.length ? {warnings: this.warningsJson()} : {}
      process.stdout.write(`${JSON.stringify({error: body, ...warnings}, null, 2)}\n`)
      return
    }
    if (known) {
      this.stderr(`Error: ${known.message}`)
      if (known.hint) this.stderr(`Try: ${known.hint}`)
      if (this.debugEnabled && known.cause) this.stderr(String((known.cause as Error).stack ?? known.cause))
      return
    }
    this.stderr(`Error: internal error: ${err.message}`)
    if (this.debugEnabled) this.stderr(String(err.stack))
    else this.stderr('Try: rerun with --debug and report the stack trace; this is a bug in evtctl.')
  }
}

/**
 * oclif's own parse errors (unknown flag, missing argument, bad option) are usage errors (exit 2);
 * our flag parsers throw EvtctlErrors that oclif re-words ("Parsing --from …").
 */
function cleanMessage(text: string): string {
  // Our repeatable flags take one value each (multipleNonGreedy), so oclif's advice to put
  // arguments first does not apply.
  const message = text
    .replace(/\n*Note: [^\n]* allow multiple values\.[\s\S]*?beginning of arguments\./, '')
    // The Try: line that follows says it (once).
    .replace(/\nSee more help with --help$/, '')
  const m = /^Parsing (--\S+) \s*\n\t([\s\S]*?)(\nSee more help with --help)?$/.exec(message)
  if (!m) return message
  const [, flag, rest] = m as unknown as [string, string, string]
  // Our own flag errors already name the flag; oclif's (integer ranges…) do not.
  return rest.includes(flag) ? rest.trim() : `${flag}: ${rest.trim()}`
}

// oclif's FlagOutput and ArgOutput, which it does not export.
// biome-ignore lint/suspicious/noExplicitAny: oclif's own definition
type FlagOutput = {[name: string]: any}
// biome-ignore lint/suspicious/noExplicitAny: oclif's own definition
type ArgOutput = {[name: string]: any}

/**
 * oclif's own errors carry their exit code (`oclif.exit`; its parse errors — unknown flag,
 * missing argument, bad option — are 2). Anything else is a bug, exit 1: never guessed from the
 * message text (a Node TypeError about an "argument" is not a usage error).
 */
export function fromOclif(err: Error & {oclif?: {exit?: number}}): EvtctlError | undefined {
  if (err.oclif?.exit === 2) {
    return new EvtctlError(
      err.message,
      'USAGE',
      ExitCode.Usage,
      'Run the command with --help to see its flags and examples.',
    )
  }
  return undefined
}

/**
 * Contexts exist but none is current (never chosen, or the current one was deleted): a bare name
 * — or no target at all — going quietly to the embedded file broker would publish or read
 * somewhere unexpected.
 */
function refuseWithoutCurrentContext(
  config: {contexts: Record<string, unknown>},
  ctx: unknown,
  text: string | undefined,
): void {
  const contexts = Object.keys(config.contexts)
  if (ctx || contexts.length === 0 || (text !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim())))
    return
  const what =
    text === undefined ? 'no target was given and it has no broker to look at' : `"${text}" names nothing`
  const url =
    text === undefined
      ? `file://${dataDir()}`
      : `file://${join(dataDir(), `${text.replace(/\.jsonl$/, '')}.jsonl`)}`
  throw new ConfigError(
    `No current context, so ${what}: contexts exist (${contexts.join(', ')}) but none is in use.`,
    `Choose one with "evtctl config use-context NAME" (or --context NAME), or give a URL such as ${url} (the embedded broker's data).`,
    'NO_CURRENT_CONTEXT',
  )
}

/** Whether a context holds credentials or client certificates (which it keeps to its own hosts). */
function hasCredentials(ctx: Record<string, unknown>): boolean {
  return ['sasl', 'tls', 'profile'].some((k) => ctx[k] !== undefined)
}

/** The controlling terminal for reading, when there is one (stdin may be a pipe). */
async function openTerminal(): Promise<import('node:tty').ReadStream | undefined> {
  const [{openSync}, {ReadStream}] = await Promise.all([import('node:fs'), import('node:tty')])
  try {
    return new ReadStream(openSync('/dev/tty', 'r'))
  } catch {
    return undefined
  }
}

async function exists(path: string): Promise<boolean> {
  const {access} = await import('node:fs/promises')
  return access(path).then(
    () => true,
    () => false,
  )
}
