import type {MultiBar, SingleBar} from 'cli-progress'

/** A progress bar on stderr (a terminal only): count, rate, and with a known total a bar and ETA. */
export interface Progress {
  update(done: number, extra?: {total?: number; sent?: number}): void
  /** A line above the bar (warnings while it runs). */
  log(line: string): void
  stop(): void
}

/**
 * Starts a bar (cli-progress, loaded here and only here). `total` undefined: the broker cannot say
 * how many there are (Pub/Sub), so only the count and rate are shown.
 */
export async function startProgress(label: string, total: number | undefined): Promise<Progress> {
  const {default: cli} = await import('cli-progress')
  const known = total !== undefined && total > 0
  const multi: MultiBar = new cli.MultiBar(
    {
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
      etaBuffer: 50,
      format: known
        ? '{label} [{bar}] {value}/{total} read · {sent} sent · {rate}/s · ETA {eta_formatted}'
        : '{label} {value} read · {sent} sent · {rate}/s',
    },
    cli.Presets.shades_classic,
  )
  const bar: SingleBar = multi.create(known ? total : 0, 0, {label, sent: 0, rate: 0})
  const t0 = Date.now()
  return {
    update: (done, extra = {}) => {
      if (extra.total !== undefined && extra.total > 0) bar.setTotal(extra.total)
      bar.update(done, {
        sent: extra.sent ?? done,
        rate: Math.round((done * 1000) / Math.max(1, Date.now() - t0)),
      })
    },
    log: (line) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
  }
}
