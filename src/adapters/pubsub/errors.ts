import {
  AuthError,
  EvtctlError,
  isEvtctlError,
  NotFoundError,
  UnreachableError,
  UsageError,
} from '../../errors.js'

/** gRPC status codes → ours (duck-typed on `code`; the original kept as `cause`). */
export function mapPubsubError(
  err: unknown,
  where: {what: string; project: string; endpoint: string},
): EvtctlError {
  if (isEvtctlError(err)) return err
  const e = (err ?? {}) as {code?: number; message?: string; details?: string}
  const message = briefMessage(err)
  if (/default credentials|Could not refresh access token|invalid_grant/i.test(message)) {
    return credentialsError(err)
  }
  switch (e.code) {
    case 3:
      return new UsageError(
        `Pub/Sub refused the request: ${message}.`,
        'Check the name: 3 to 255 characters, starting with a letter; letters, digits and - _ . ~ + % only.',
        'PUBSUB_INVALID_ARGUMENT',
        {cause: err},
      )
    case 5:
      return new NotFoundError(
        `${where.what} does not exist in project "${where.project}".`,
        'Check the name (gcloud pubsub topics list / subscriptions list). evtctl never creates topics or subscriptions of yours.',
        {cause: err},
      )
    case 7:
    case 16:
      return new AuthError(
        `Pub/Sub (${where.endpoint}) refused: ${message}.`,
        'Check Application Default Credentials (gcloud auth application-default login) and IAM roles (pubsub.editor is needed for the temporary subscription).',
        {cause: err},
      )
    case 4:
    case 14:
      return new UnreachableError(
        `Cannot reach Pub/Sub at ${where.endpoint}: ${message}.`,
        'Check the endpoint (emulator host) and network.',
        'BROKER_UNREACHABLE',
        {
          cause: err,
        },
      )
    default:
      return new EvtctlError(
        `Pub/Sub error: ${message}${e.code !== undefined ? ` (gRPC ${e.code})` : ''}.`,
        'PUBSUB_ERROR',
        1,
        undefined,
        {cause: err},
      )
  }
}

/** What to do when Google credentials are missing or unusable. */
export const CREDENTIALS_HINT =
  'Set up Application Default Credentials: run "gcloud auth application-default login", or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file. For the emulator, set PUBSUB_EMULATOR_HOST=host:port or use a context made with --emulator-host.'

/** google-auth found no credentials, or could not use the ones it found: exit 3 with the fix. */
export function credentialsError(err: unknown): AuthError {
  const message = (err instanceof Error ? err.message : String(err))
    .split('\n')[0]!
    // google-auth sends the reader to a web page; the hint says what to do.
    .replace(/\s*Browse to https?:\S+ for more information\.?/, '')
    .trim()
  return new AuthError(`No usable Google credentials for Pub/Sub: ${message}`, CREDENTIALS_HINT, {cause: err})
}

/**
 * The part of a gRPC/gax error message a reader needs. gax wraps retried failures ("Total timeout
 * of API … exceeded 8000 milliseconds retrying error Error: 14 UNAVAILABLE: No connection
 * established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: …") and
 * appends every attempt (" : Previous errors [...]"); this keeps "connect ECONNREFUSED 127.0.0.1:1".
 */
export function briefMessage(err: unknown): string {
  const e = (err ?? {}) as {message?: string; details?: string}
  let m = (e.details || e.message || String(err)).split(' : Previous errors')[0]!.split('\n')[0]!.trim()
  m = /retrying error (?:Error: )?(.+)$/.exec(m)?.[1] ?? m
  m = /Last error: (?:Error: )?(.+?)(?:\.\s*Resolution note:.*)?$/.exec(m)?.[1] ?? m
  return m
    .replace(/^\d+ [A-Z_]+: /, '')
    .replace(/\.$/, '')
    .trim()
}
