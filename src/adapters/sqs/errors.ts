import {AuthError, EvtctlError, isEvtctlError, NotFoundError, UnreachableError} from '../../errors.js'

/** Maps AWS SDK errors to ours (duck-typed; the original kept as `cause`). */
export function mapSqsError(
  err: unknown,
  where: {queue: string; endpoint?: string; region?: string},
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
  if (
    /CredentialsProviderError|InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch|AccessDenied|ExpiredToken|InvalidSecurity|MissingAuthenticationToken/.test(
      name + code,
    ) ||
    /Could not load credentials|credentials/i.test(message)
  ) {
    return new AuthError(
      `SQS at ${at} refused the credentials: ${message}.`,
      'Check AWS_PROFILE / --profile, AWS_ACCESS_KEY_ID, or run "aws sso login".',
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
