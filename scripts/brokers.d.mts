export type BrokerName = 'kafka' | 'sqs' | 'pubsub' | 'registry'
export interface BrokerEnv {
  KAFKA_BROKERS?: string
  KAFKA_LIBS?: string
  /** The Kafka version running (4.4.0 unless EVTCTL_KAFKA_VERSION says otherwise). */
  KAFKA_VERSION?: string
  KAFKA_SASL_BROKERS?: string
  KAFKA_SASL_USERNAME?: string
  KAFKA_SASL_PASSWORD?: string
  /** An SSL listener that requires a client certificate. */
  KAFKA_TLS_BROKERS?: string
  /** ca.pem, client.pem and client.key for it. */
  KAFKA_TLS_DIR?: string
  SQS_ENDPOINT?: string
  SQS_REGION?: string
  PUBSUB_EMULATOR_HOST?: string
  PUBSUB_PROJECT_ID?: string
  /** Apicurio Registry's Confluent-compatible API (…/apis/ccompat/v7). */
  SCHEMA_REGISTRY_URL?: string
}
export const ALL: BrokerName[]
export const ROOT: string
export function registryUrl(port: number): string
export function up(names?: BrokerName[]): Promise<{
  env: BrokerEnv
  started: BrokerName[]
  /** Those of `started` that had died: part of a set started earlier, which others may be using. */
  restarted: BrokerName[]
  failed: Record<string, string>
}>
export function down(names?: BrokerName[]): Promise<void>
export function status(): Promise<
  Array<{name: BrokerName; running: boolean; port?: number; pid?: number; rssMb?: number; version?: string}>
>
export function ensureKcat(): boolean
export const KAFKA_TOOLS: Record<string, string>
export function kafkaToolArgs(tool: string, args: string[]): string[]
/** The Kafka version the harness runs: EVTCTL_KAFKA_VERSION, else 4.4.0. */
export const KAFKA_VERSION: string
export function kafkaMajor(version?: string): number
/** A random KRaft cluster id that the format tool accepts (never starting with "-"). */
export function kafkaClusterId(): string
export function kafkaLibs(version?: string): string
/** Writes a Kafka logging config (log4j 1 for 3.x, Log4j2 for 4.x) to `base`.properties; returns the JVM flag. */
export function kafkaLogging(
  base: string,
  opts?: {version?: string; root?: string; levels?: Record<string, string>; stderr?: boolean},
): string
