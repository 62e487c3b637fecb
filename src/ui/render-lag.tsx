import {setFlagsFromString} from 'node:v8'
import {render} from 'ink'
import type {LagReader} from '../adapters/lag-source.js'
import {installPlainOutput} from './ink-output.js'
import {LagApp, type QuitHow} from './LagApp.js'

/** The terminal's alternate screen: the dashboard leaves the shell's screen as it was on exit. */
const ENTER_ALT = '\x1b[?1049h'
const LEAVE_ALT = '\x1b[?1049l'

/**
 * From here on, V8 compiles this process's code no further than its baseline tier (Sparkplug):
 * no optimizing compiler (TurboFan; Maglev on Node 22+). The dashboard does a few milliseconds
 * of work a second, so its functions grow hot slowly and V8 kept optimizing (and re-optimizing)
 * React, Ink and the poll for minutes: measured with --log-function-events, 0.7 s of TurboFan
 * compiling in the 30 s after an 8 s warm-up, still 0.33 s 70–100 s in; more CPU than the
 * optimized code saved (bench/lag-tui.sh). Code optimized before this point stays optimized.
 */
function baselineCodeOnly(): void {
  setFlagsFromString('--max-opt=1')
}

/**
 * Runs the dashboard on a terminal until q, Ctrl-C or `signal`; resolves with how it ended, or
 * rejects with the first poll's error. Imported lazily by `lag`, only on a terminal: Ink and
 * React stay out of every other command's start-up.
 */
export async function renderLag(opts: {
  reader: LagReader
  intervalMs: number
  source: string
  signal: AbortSignal
  stdin?: NodeJS.ReadStream
  stdout?: NodeJS.WriteStream
}): Promise<QuitHow> {
  const stdout = opts.stdout ?? process.stdout
  const stdin = opts.stdin ?? process.stdin
  let how: QuitHow = 'q'
  // Ink's frame-to-text step made cheaper (ink-output.ts), on the Ink release it was checked on.
  await installPlainOutput()
  baselineCodeOnly()
  stdout.write(ENTER_ALT)
  const app = render(
    <LagApp
      reader={opts.reader}
      intervalMs={opts.intervalMs}
      source={opts.source}
      signal={opts.signal}
      clearOnResize
      onQuit={(h) => {
        how = h
      }}
    />,
    {
      stdout,
      stdin,
      // Ctrl-C is a key in raw mode: LagApp handles it (and says so), then Ink restores the terminal.
      exitOnCtrlC: false,
      patchConsole: false,
      // Not incrementalRendering: in Ink 6.8.0 it moves the cursor up one line too few when the
      // frame ends with a newline (every frame shorter than the terminal), so each frame lands a
      // line lower than the last. The standard renderer erases our lines and writes the frame
      // (inside a synchronized update where the terminal supports it), and writes nothing when
      // the frame did not change. It never clears the screen while frames stay below its height.
      incrementalRendering: false,
    },
  )
  try {
    await app.waitUntilExit()
  } finally {
    app.unmount()
    stdout.write(LEAVE_ALT)
  }
  return how
}
