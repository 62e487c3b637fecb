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
