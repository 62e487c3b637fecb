import {createHash, randomBytes} from 'node:crypto'
import {type FileHandle, mkdir, open, readdir, readFile, stat, unlink} from 'node:fs/promises'
import {join} from 'node:path'

/**
 * The replay journal: one JSONL file per run (0600), appended and fsynced at each batch boundary
 * before the next step of that batch. What it records per source message — selected, then sent
 * (with the destination's id or offset), then removed from the source — is what a rerun of the
 * same command resumes from.
 */
export type JournalRecord =
  | {
      t: 'start'
      run: string
      key: string
      source: string
      destination: string
      mode: 'move' | 'copy'
      /** SQS move: how long received messages stay hidden (what a resumed run waits out). */
      holdSeconds?: number
      at: string
    }
  /** About to be sent (before the publish call): a crash after this may have sent them. */
  | {t: 'selected'; ids: string[]}
  | {t: 'sent'; ids: string[]; as?: Array<string | undefined>}
  | {t: 'failed'; id: string; error: string}
  | {t: 'skipped'; id: string; reason: string}
  | {t: 'removed'; ids: string[]}
  /** Copy from a log (Kafka, file): everything below `next` in this partition is done. */
  | {t: 'progress'; partition: number; next: string}
  | {t: 'done'; at: string}

/** What a journal says of an unfinished run. Memory: outstanding messages, not the whole run. */
export interface JournalState {
  run: string
  path: string
  /** Sent, not yet removed from the source (a move): remove, never send again. */
  sentNotRemoved: Set<string>
  /** Selected, no outcome recorded: may have been sent. */
  maybeSent: Set<string>
  /** Copy from a queue: sent already (skip). */
  sent: Set<string>
  /** Refused by the destination or skipped, and not sent since: a log copy's progress passed them. */
  notCopied: Set<string>
  /** Copy from a log: per partition, the offset below which all is done. */
  progress: Map<number, bigint>
  done: boolean
  /** SQS move: the interrupted run's hold. */
  holdSeconds?: number
  /** When the journal was last written (ms): the interrupted run was alive until about then. */
  lastWrite: number
}

export function journalKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16)
}

export class Journal {
  private constructor(
    readonly path: string,
    readonly run: string,
    private readonly fh: FileHandle,
  ) {}

  private pending: string[] = []

  /** A new journal for run `run` of `key`; the start record is written and synced. */
  static async create(
    dir: string,
    key: string,
    start: Omit<Extract<JournalRecord, {t: 'start'}>, 't' | 'run' | 'key' | 'at'>,
  ): Promise<Journal> {
    await mkdir(dir, {recursive: true, mode: 0o700})
    const run = `${key}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
    const path = join(dir, `${run}.jsonl`)
    const fh = await open(path, 'a', 0o600)
    const j = new Journal(path, run, fh)
    j.add({t: 'start', run, key, at: new Date().toISOString(), ...start})
    await j.sync()
    return j
  }

  /** Appends the record that marks a run finished to its (closed) journal, and syncs it. */
  static async markDone(path: string, run: string): Promise<void> {
    const j = new Journal(path, run, await open(path, 'a', 0o600))
    j.add({t: 'done', at: new Date().toISOString()})
    try {
      await j.sync()
    } finally {
      await j.close()
    }
  }

  /** Reopens an unfinished run's journal to append to it. */
  static async reopen(state: JournalState): Promise<Journal> {
    return new Journal(state.path, state.run, await open(state.path, 'a', 0o600))
  }

  add(record: JournalRecord): void {
    this.pending.push(JSON.stringify(record))
  }

  /** The write and fsync under way: syncs run one after another, each taking all that was added. */
  private flushing: Promise<void> = Promise.resolve()

  /**
   * Writes what was added and waits until it is on disk (fsync). Syncs asked for while one runs
   * share the next write (a batch removing while the next one sends: one fsync for both).
   */
  sync(): Promise<void> {
    const run = this.flushing.then(() => this.flush())
    this.flushing = run.catch((err) => {
      this.broken ??= err
    })
    return run
  }

  /** A write or fsync that failed: what it held is not on disk, so no later sync succeeds. */
  private broken: unknown

  private async flush(): Promise<void> {
    if (this.broken !== undefined) throw this.broken
    if (this.pending.length === 0) return
    const text = `${this.pending.join('\n')}\n`
    this.pending = []
    await this.fh.appendFile(text) // all of it: a single write() may take only part
    await this.fh.datasync()
  }

  async close(): Promise<void> {
    await this.sync().catch(() => {})
    await this.fh.close().catch(() => {})
  }

  /** Closes and deletes the journal: the run did nothing a rerun would need to know. */
  async discard(): Promise<void> {
    this.pending = []
    await this.fh.close().catch(() => {})
    await unlink(this.path).catch(() => {})
  }
}

/** The newest unfinished journal of `key` in `dir`, read back; undefined when there is none. */
export async function findUnfinished(dir: string, key: string): Promise<JournalState | undefined> {
  for (const name of await runsOf(dir, key)) {
    const state = await load(join(dir, name))
    if (!state.done) return state
  }
  return undefined
}

/** The newest finished run of `key`: its id and when it finished. */
export async function lastFinished(dir: string, key: string): Promise<{run: string; at: string} | undefined> {
  for (const name of await runsOf(dir, key)) {
    const text = await readFile(join(dir, name), 'utf8')
    const done = /\{"t":"done","at":"([^"]+)"\}\s*$/.exec(text)
    if (done) return {run: name.replace(/\.jsonl$/, ''), at: done[1]!}
  }
  return undefined
}

/** The journal files of `key`'s runs, newest first (run ids sort by their start time). */
async function runsOf(dir: string, key: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[])
  return names
    .filter((n) => n.startsWith(`${key}-`) && n.endsWith('.jsonl'))
    .sort()
    .reverse()
}

export async function load(path: string): Promise<JournalState> {
  const state: JournalState = {
    run: '',
    path,
    sentNotRemoved: new Set(),
    maybeSent: new Set(),
    sent: new Set(),
    notCopied: new Set(),
    progress: new Map(),
    done: false,
    lastWrite: (await stat(path)).mtimeMs,
  }
  const text = await readFile(path, 'utf8')
  for (const line of text.split('\n')) {
    if (!line) continue
    let r: JournalRecord
    try {
      r = JSON.parse(line) as JournalRecord
    } catch {
      continue // a line cut by a crash: its batch was not synced, so nothing relied on it
    }
    switch (r.t) {
      case 'start':
        state.run = r.run
        if (r.holdSeconds !== undefined) state.holdSeconds = r.holdSeconds
        break
      case 'selected':
        for (const id of r.ids) state.maybeSent.add(id)
        break
      case 'sent':
        for (const id of r.ids) {
          state.maybeSent.delete(id)
          state.sentNotRemoved.add(id)
          state.sent.add(id)
          state.notCopied.delete(id)
        }
        break
      case 'failed':
      case 'skipped':
        state.maybeSent.delete(r.id)
        state.notCopied.add(r.id)
        break
      case 'removed':
        for (const id of r.ids) state.sentNotRemoved.delete(id)
        break
      case 'progress':
        state.progress.set(r.partition, BigInt(r.next))
        break
      case 'done':
        state.done = true
        break
    }
  }
  return state
}
