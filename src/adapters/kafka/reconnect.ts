import pRetry from 'p-retry'
import {UnreachableError} from '../../errors.js'
import {type Emit, info, warning} from '../../events.js'
import type {KafkaContext} from './context.js'
import {mapKafkaError} from './errors.js'
import type {KafkaFetchedPartition, KafkaFetcherPort} from './port.js'

/**
 * Fetch sizes for tail. Measured (1M × 200 B, 3 partitions, one broker): 128 KiB per partition /
 * 384 KiB per fetch keeps peak RSS ~135 MB; 256 KiB / 1 MiB was ~4% faster at ~148 MB; 4–32 MB
 * fetches were no faster and used twice the memory. A fetch waits at most 100 ms for new data, so
 * a follow shows a new message within ~0.1 s and notices Ctrl-C as fast.
 */
export const FETCH = {maxWaitMs: 100, maxBytes: 384 * 1024, maxBytesPerPartition: 128 * 1024}

type Positions = Array<{topic: string; partition: number; offset: string}>

/**
 * A fetch for a read that rides out lost connections. When the connection is lost (a broker
 * restarts, a leader moves), reconnects with backoff (p-retry: 0.25 s doubling to 5 s) and fetches
 * again from the same positions, so nothing is skipped or repeated; after `ctx.reconnectMs`
 * without success, exit 4.
 */
export function ridingFetch(
  ctx: KafkaContext,
  fetcher: KafkaFetcherPort,
  topics: string[],
  signal: AbortSignal,
  emit: Emit,
): (positions: Positions) => Promise<KafkaFetchedPartition[]> {
  const {reconnectMs, where} = ctx
  const brokerList = ctx.target.brokers.join(',')
  /** A connection error, time-out or a retriable Kafka error (leader not available, …). */
  const connectionLost = (err: unknown) =>
    (err as {retriable?: boolean}).retriable === true ||
    mapKafkaError(err, where()) instanceof UnreachableError
  /** What went wrong, without the "Cannot reach Kafka at …:" that the notice says already. */
  const reason = (err: unknown) =>
    mapKafkaError(err, where())
      .message.replace(`Cannot reach Kafka at ${brokerList}: `, '')
      .replace(/\.$/, '')

  return async (positions) => {
    let lostAt: number | undefined
    let last: unknown
    try {
      const fetched = await pRetry(
        async () => {
          if (lostAt !== undefined) {
            await fetcher.disconnect().catch(() => {})
            await fetcher.connect(topics)
          }
          return await fetcher.fetch(positions, FETCH)
        },
        {
          retries: Number.POSITIVE_INFINITY,
          factor: 2,
          minTimeout: 250,
          maxTimeout: 5_000,
          maxRetryTime: reconnectMs,
          signal,
          shouldRetry: ({error}) => !signal.aborted && reconnectMs > 0 && connectionLost(error),
          onFailedAttempt: ({error}) => {
            last = error
            if (lostAt !== undefined || signal.aborted || reconnectMs === 0 || !connectionLost(error)) return
            lostAt = Date.now()
            emit(
              warning(
                'CONNECTION_LOST',
                `Kafka connection lost (${reason(error)}); retrying for up to ${seconds(reconnectMs)}…`,
              ),
            )
          },
        },
      )
      if (lostAt !== undefined)
        emit(
          info(
            'RECONNECTED',
            `Kafka reconnected after ${seconds(Date.now() - lostAt)}; reading on where it stopped.`,
          ),
        )
      return fetched
    } catch (err) {
      if (lostAt === undefined || signal.aborted) throw err
      throw new UnreachableError(
        `Lost the connection to Kafka at ${brokerList} and could not reconnect within ${seconds(reconnectMs)}: ${reason(last ?? err)}.`,
        'Check that the brokers are up; reconnect-timeout-ms in the context sets how long a read waits (see "Kafka" in the README).',
        'BROKER_UNREACHABLE',
        {cause: err},
      )
    }
  }
}

/** 60000 → "60 s", 1234 → "1.2 s". */
function seconds(ms: number): string {
  return `${ms >= 10_000 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10} s`
}
