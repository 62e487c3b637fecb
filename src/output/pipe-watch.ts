import {fstatSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'

/**
 * Notices that the reader of a pipe went away while nothing is being written.
 *
 * A process writing to a pipe learns that its reader exited only on its next write (EPIPE). A
 * `tail | head -n 1` on a quiet topic would wait for the next message to notice — on SQS
 * receiving (and raising receive counts) all along, on Pub/Sub keeping a temporary subscription.
 * Node offers no poll(2) on a write-only pipe (libuv refuses to read-watch it, and a zero-byte
 * write succeeds on a pipe without readers), so on Linux this looks in /proc for the processes
 * that hold the pipe's read end: found once, then checked every `intervalMs`; when none is left
 * (and a fresh look finds none either), `onGone` is called once.
 *
 * It never calls `onGone` when it cannot see the readers (not Linux, not a pipe, another user's
 * processes): then the next write's EPIPE ends the read, as before.
 */
export function watchPipeReaders(fd: number, onGone: () => void, intervalMs = 500): () => void {
  const inode = pipeInode(fd)
  if (inode === undefined) return () => {}
  const link = `pipe:[${inode}]`
  let readers = findReaders(link)
  // Nobody visible reads it: either another user's process, or it is gone already (EPIPE tells).
  if (readers.length === 0) return () => {}
  // Gone only after two full looks, an interval apart, found no reader: a reader handing the
  // pipe on (fork, exec, a new pid) is not mistaken for none.
  let emptyLooks = 0
  const timer = setInterval(() => {
    readers = readers.filter((r) => holds(r, link) !== 'no')
    if (readers.length > 0) {
      emptyLooks = 0
      return
    }
    readers = findReaders(link)
    if (readers.length > 0 || ++emptyLooks < 2) return
    clearInterval(timer)
    onGone()
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

interface Reader {
  pid: string
  fd: string
}

function pipeInode(fd: number): number | undefined {
  if (process.platform !== 'linux') return undefined
  try {
    const st = fstatSync(fd)
    return st.isFIFO() ? st.ino : undefined
  } catch {
    return undefined
  }
}

/** Every (pid, fd) that has `link` open for reading, other than this process. */
function findReaders(link: string): Reader[] {
  const found: Reader[] = []
  let pids: string[]
  try {
    // A pipeline's reader is usually a sibling started with it: look near our own pid first, so
    // a look on a busy host stops after a few processes instead of walking them all.
    const own = process.pid
    pids = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p) && p !== String(own))
      .sort((a, b) => Math.abs(Number(a) - own) - Math.abs(Number(b) - own))
  } catch {
    return found
  }
  for (const pid of pids) {
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue // gone, or not ours to look at
    }
    for (const fd of fds) {
      const r = {pid, fd}
      if (holds(r, link) === 'yes') found.push(r)
    }
    // One reader is enough to know the pipe is read; the next look checks it first.
    if (found.length > 0) return found
  }
  return found
}

/**
 * Does process `pid` still have `link` open at `fd`, for reading? 'unknown' when we may not look
 * (a reader that became setuid, or undumpable): it counts as still reading, never as gone.
 */
function holds({pid, fd}: Reader, link: string): 'yes' | 'no' | 'unknown' {
  try {
    if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== link) return 'no'
    const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))
    // O_ACCMODE: 0 read-only, 2 read-write; 1 is another writer (a subshell holding our stdout).
    return flags !== null && (Number.parseInt(flags[1]!, 8) & 3) !== 1 ? 'yes' : 'no'
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ESRCH' ? 'no' : 'unknown'
  }
}
