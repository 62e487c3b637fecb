import {spawn} from 'node:child_process'
import {kafkaToolArgs} from '../../scripts/brokers.mjs'

export interface PeerResult {
  code: number | null
  stdout: string
  /** stdout as bytes, for binary output. */
  stdoutBytes: Buffer
  stderr: string
}

function runProcess(cmd: string, args: string[], input?: string | Buffer): Promise<PeerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {stdio: ['pipe', 'pipe', 'pipe']})
    const out: Buffer[] = []
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => {
      out.push(b)
    })
    child.stderr.on('data', (b) => {
      stderr += b
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(out)
      resolve({code, stdout: stdoutBytes.toString(), stdoutBytes, stderr})
    })
    child.stdin.end(input)
  })
}

/** Runs one of Kafka's own tools (TopicCommand, ConsoleConsumer, ConsumerGroupCommand, …). */
export function kafkaTool(tool: string, args: string[], input?: string): Promise<PeerResult> {
  return runProcess('java', kafkaToolArgs(tool, args), input)
}

/** Runs kcat, the librdkafka CLI (installed from Debian by the harness). */
export function kcat(args: string[], input?: string | Buffer): Promise<PeerResult> {
  return runProcess('kcat', args, input)
}

/** What `kcatProduce` passes to kcat -P. */
export interface KcatProduceOptions {
  /** -p: this partition (else kcat's partitioner). */
  partition?: number
  /** -K: split each line into key and value at this delimiter. */
  keyDelimiter?: string
  /** -Z: an empty value is sent as NULL (a tombstone). */
  emptyIsNull?: boolean
  /** -k: this key for every message. */
  key?: string
  /** -H name=value, in this order (repeats allowed). */
  headers?: string[]
  /** -z: compression codec. */
  compression?: string
  /** Produce this file as one message (else lines from `input`). */
  file?: string
}

/** Produces with kcat (librdkafka), as a peer writes them: lines from `input`, or one file. */
export function kcatProduce(
  brokers: string,
  topic: string,
  opts: KcatProduceOptions,
  input?: string,
): Promise<PeerResult> {
  const args = ['-b', brokers, '-t', topic, '-P']
  if (opts.partition !== undefined) args.push('-p', String(opts.partition))
  if (opts.keyDelimiter !== undefined) args.push('-K', opts.keyDelimiter)
  if (opts.emptyIsNull) args.push('-Z')
  if (opts.key !== undefined) args.push('-k', opts.key)
  for (const h of opts.headers ?? []) args.push('-H', h)
  if (opts.compression !== undefined) args.push('-z', opts.compression)
  if (opts.file !== undefined) args.push(opts.file)
  return kcat(args, input)
}

/** A message as `kcat -C -J` prints it. */
export interface KcatMessage {
  key: string | null
  payload: string | null
  partition: number
  offset: number
  /** Milliseconds since the epoch. */
  ts: number
  /** name, value, name, value, … */
  headers?: string[]
}

/** Everything in `topic`, from the beginning, as kcat (librdkafka, an independent client) reads it. */
export async function kcatReadAll(brokers: string, topic: string): Promise<KcatMessage[]> {
  const r = await kcat(['-b', brokers, '-t', topic, '-C', '-e', '-q', '-J', '-o', 'beginning'])
  if (r.code !== 0) throw new Error(`kcat -C ${topic} exited ${r.code}: ${r.stderr}`)
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as KcatMessage)
}
