/**
 * Error classes with stable codes, hints and exit codes. Exit codes are a documented contract
 * (README, each command's help); the table below is the single source for both.
 */
export const ExitCode = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  Config: 3,
  Unreachable: 4,
  NotFound: 5,
  Unsupported: 6,
  PartialFailure: 7,
  BreakingChange: 10,
  Interrupted: 130,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export const EXIT_CODE_MEANINGS: Record<ExitCodeValue, string> = {
  0: 'success',
  1: 'internal error (a bug; rerun with --debug for a stack trace)',
  2: 'usage error: bad flags, arguments or input',
  3: 'configuration or authentication error',
  4: 'broker unreachable or timed out',
  5: 'target not found (topic, subscription, queue)',
  6: 'not supported by this broker',
  7: 'partial failure (some messages failed; the report lists them)',
  10: 'breaking schema change found',
  130: 'interrupted (Ctrl-C)',
}

/** The EXIT CODES block that ends each command's help, generated so it cannot drift. */
export function exitCodeHelp(codes: readonly ExitCodeValue[]): string {
  const lines = codes.map((c) => `  ${String(c).padStart(3)}  ${EXIT_CODE_MEANINGS[c]}`)
  return `EXIT CODES\n${lines.join('\n')}`
}

export class EvtctlError extends Error {
  /** oclif's handle() exits with err.oclif.exit, not err.exitCode: set both. */
  readonly oclif: {exit: number}
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: ExitCodeValue,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
    this.oclif = {exit: exitCode}
  }

  toJSON(): {code: string; message: string; exitCode: number; hint?: string} {
    return {
      code: this.code,
      message: this.message,
      exitCode: this.exitCode,
      ...(this.hint ? {hint: this.hint} : {}),
    }
  }
}

export class UsageError extends EvtctlError {
  constructor(message: string, hint?: string, code = 'USAGE', options?: ErrorOptions) {
    super(message, code, ExitCode.Usage, hint, options)
  }
}

export class ConfigError extends EvtctlError {
  constructor(message: string, hint?: string, code = 'CONFIG', options?: ErrorOptions) {
    super(message, code, ExitCode.Config, hint, options)
  }
}

export class AuthError extends EvtctlError {
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super(message, 'AUTH', ExitCode.Config, hint, options)
  }
}

export class UnreachableError extends EvtctlError {
  constructor(message: string, hint?: string, code = 'BROKER_UNREACHABLE', options?: ErrorOptions) {
    super(message, code, ExitCode.Unreachable, hint, options)
  }
}

export class NotFoundError extends EvtctlError {
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super(message, 'TARGET_NOT_FOUND', ExitCode.NotFound, hint, options)
  }
}

export class UnsupportedError extends EvtctlError {
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super(message, 'NOT_SUPPORTED', ExitCode.Unsupported, hint, options)
  }
}

/** A destructive acknowledgement (an SQS delete) the broker did not confirm: the message stays. */
export class NotAcknowledgedError extends EvtctlError {
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super(message, 'NOT_ACKNOWLEDGED', ExitCode.PartialFailure, hint, options)
  }
}

export class InterruptedError extends EvtctlError {
  /** What was done before the interruption (publish: its report), for --json and for a resume. */
  readonly report?: Record<string, unknown>
  constructor(message = 'Interrupted.', hint?: string, report?: Record<string, unknown>) {
    super(message, 'INTERRUPTED', ExitCode.Interrupted, hint)
    if (report) this.report = report
  }

  override toJSON() {
    return {...super.toJSON(), ...(this.report ? {report: this.report} : {})}
  }
}

/** Duck-typed: errors may cross module copies (bundles, tests), so no instanceof. */
export function isEvtctlError(err: unknown): err is EvtctlError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as EvtctlError).code === 'string' &&
    typeof (err as EvtctlError).exitCode === 'number' &&
    err instanceof Error
  )
}
