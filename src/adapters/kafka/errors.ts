import {AuthError, EvtctlError, isEvtctlError, NotFoundError, UnreachableError} from '../../errors.js'

/**
 * Maps kafkajs errors to ours, with duck-typed guards (no instanceof across SDK copies) and the
 * original kept as `cause`. No raw kafkajs error leaves the adapter.
 */
interface KafkajsLike {
  name?: string
  code?: string
  apiId?: string
  type?: string
  message?: string
  retriable?: boolean
  originalError?: unknown
  cause?: unknown
}

function root(err: unknown): KafkajsLike {
  let e = err as KafkajsLike & {errors?: unknown[]}
  // @platformatic/kafka wraps failures in AggregateErrors (PLT_KFK_MULTIPLE).
  for (let i = 0; i < 5 && e?.errors?.length; i++) e = e.errors[0] as KafkajsLike & {errors?: unknown[]}
  // KafkaJSNumberOfRetriesExceeded wraps the real failure.
  for (
    let i = 0;
    i < 5 && e && (e.originalError || e.cause) && e.name === 'KafkaJSNumberOfRetriesExceeded';
    i++
  ) {
    e = (e.originalError ?? e.cause) as KafkajsLike
  }
  return e ?? {}
}

export function mapKafkaError(err: unknown, where: {brokers: string[]; topic?: string}): EvtctlError {
  if (isEvtctlError(err)) return err
  const e = root(err)
  const name = e.name ?? ''
  const type = e.type ?? e.apiId ?? ''
  const code = e.code ?? ''
  const message = e.message ?? String(err)
  const brokers = where.brokers.join(',')
  if (
    type === 'UNKNOWN_TOPIC_OR_PARTITION' ||
    /does not host this topic-partition|unknown topic/i.test(message)
  ) {
    return new NotFoundError(
      `Topic "${where.topic ?? '?'}" does not exist on ${brokers}.`,
      'Check the name (kafka-topics.sh --list). evtctl never creates topics: create it with your usual tool first.',
      {cause: err},
    )
  }
  if (
    name === 'KafkaJSSASLAuthenticationError' ||
    code === 'PLT_KFK_AUTHENTICATION' ||
    /SASL|authentication/i.test(type + message)
  ) {
    return new AuthError(
      `Kafka at ${brokers} rejected the credentials: ${message}.`,
      'Check the sasl settings of the context.',
      {
        cause: err,
      },
    )
  }
  // TLS: the broker's certificate failed our check, or the broker refused our client certificate.
  // Both are configuration (exit 3), not an unreachable broker.
  if (
    /unable to verify|self[- ]signed|certificate has expired|UNABLE_TO_GET_ISSUER|altnames|CERT_HAS_EXPIRED|DEPTH_ZERO/i.test(
      `${code} ${message}`,
    )
  ) {
    return new AuthError(
      `Kafka at ${brokers} presented a TLS certificate that could not be verified: ${message.replace(/^Connection error: /, '')}.`,
      'Set tls.ca-file in the context to the CA that signed it (and use the host name the certificate names); --insecure skips the check, for testing only.',
      {cause: err},
    )
  }
  if (/alert (bad certificate|certificate required|unknown ca|handshake failure)/i.test(message)) {
    return new AuthError(
      `Kafka at ${brokers} refused the TLS handshake (${/alert ([a-z ]+)/i.exec(message)?.[1] ?? 'handshake failure'}): it wants a client certificate it trusts.`,
      'Set tls.cert-file and tls.key-file in the context to a client certificate signed by a CA the broker trusts.',
      {cause: err},
    )
  }
  if (/AUTHORIZATION_FAILED/.test(type)) {
    return new AuthError(
      `Not authorized on Kafka at ${brokers}: ${type}.`,
      'Ask for Read and Describe ACLs on the topic (tail joins no group; lag needs Describe on the groups).',
      {
        cause: err,
      },
    )
  }
  if (
    name === 'KafkaJSConnectionError' ||
    name === 'KafkaJSRequestTimeoutError' ||
    name === 'KafkaJSBrokerNotFound' ||
    name === 'KafkaJSNumberOfRetriesExceeded' ||
    name === 'KafkaJSConnectionClosedError' ||
    code === 'PLT_KFK_NETWORK' ||
    code === 'PLT_KFK_TIMEOUT' ||
    /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection timeout|closed connection|Broker not connected|Request .*timed out|Cannot connect to any broker/i.test(
      message,
    )
  ) {
    return new UnreachableError(
      `Cannot reach Kafka at ${brokers}: ${message}.`,
      'Check the bootstrap servers and that the broker is up; behind TLS, check the tls settings of the context.',
      'BROKER_UNREACHABLE',
      {cause: err},
    )
  }
  return new EvtctlError(`Kafka error: ${message}${type ? ` (${type})` : ''}.`, 'KAFKA_ERROR', 1, undefined, {
    cause: err,
  })
}
