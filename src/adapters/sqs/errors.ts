import {AuthError, EvtctlError, isEvtctlError, NotFoundError, UnreachableError} from '../../errors.js'

/** Maps AWS SDK errors to ours (duck-typed; the original kept as `cause`). */
export function mapSqsError(
  err: unknown,
  where: {queue: string; endpoint?: string; region?: string; profile?: string},
): EvtctlError {
  if (isEvtctlError(err)) return err
  const e = (err ?? {}) as {
    name?: string
    Code?: string
    code?: string
    message?: string
    $metadata?: {httpStatusCode?: number}
  }
  const name = e.name ?? ''
  const code = e.Code ?? e.code ?? ''
  const message = e.message ?? String(err)
  const at = where.endpoint ?? `SQS in ${where.region ?? 'the default region'}`
  if (/QueueDoesNotExist|NonExistentQueue/.test(name + code + message)) {
    return new NotFoundError(
      `Queue "${where.queue}" does not exist at ${at}.`,
      'Check the name and region (aws sqs list-queues). evtctl never creates queues.',
      {cause: err},
    )
  }
  // The SDK's chain found nothing to sign with (no request was sent), or a named profile is missing.
  if (
    /CredentialsProviderError/.test(name) ||
    /Could not load credentials|Could not resolve credentials|Unable to find .*credentials|profile.*not found|could not find profile/i.test(
      message,
    )
  ) {
    const profile = where.profile
    return new AuthError(
      `No usable AWS credentials were found for ${where.endpoint ? `SQS at ${at}` : at}${profile ? ` with profile "${profile}"` : ''}: ${message.replace(/\.$/, '')}.`,
      profile
        ? `Check that profile "${profile}" exists in ~/.aws/config or ~/.aws/credentials (aws configure --profile ${profile}; "aws sso login --profile ${profile}" for SSO), or name another with --profile NAME.`
        : 'Name a profile (--profile NAME or AWS_PROFILE, set up with "aws configure", or "aws sso login" for SSO), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
      {cause: err},
    )
  }
  if (
    /InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch|AccessDenied|ExpiredToken|InvalidSecurity|MissingAuthenticationToken/.test(
      name + code,
    ) ||
    /security token|credentials/i.test(message)
  ) {
    return new AuthError(
      `${where.endpoint ? `SQS at ${at}` : at} refused the credentials: ${message}.`,
      'Check the credentials in use: --profile NAME or AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run "aws sso login" if the session expired.',
      {cause: err},
    )
  }
  if (
    /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|socket hang up|TimeoutError|NetworkingError/.test(
      name + code + message,
    )
  ) {
    return new UnreachableError(
      `Cannot reach ${at}: ${message}.`,
      'Check the endpoint and region, and that the service is up.',
      'BROKER_UNREACHABLE',
      {
        cause: err,
      },
    )
  }
  return new EvtctlError(`SQS error: ${message}${name ? ` (${name})` : ''}.`, 'SQS_ERROR', 1, undefined, {
    cause: err,
  })
}
