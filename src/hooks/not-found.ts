import type {Hook} from '@oclif/core'
import {ExitCode} from '../errors.js'

/**
 * `evtctl tial orders`: say which command was meant instead of oclif's "command tial:orders not
 * found". Exit 2 (usage), nothing run.
 */
export const notFound: Hook.CommandNotFound = async (opts) => {
  const ids = opts.config.commandIDs
  const typed = opts.id.split(':')
  // oclif joins every word it was given ("tial:orders"); the command is in the first one or two.
  const candidates = [typed.slice(0, 2), typed.slice(0, 1)]
  let best: {id: string; distance: number; words: number} | undefined
  for (const tried of candidates) {
    for (const id of ids) {
      const d = distance(tried.join(':'), id)
      if (!best || d < best.distance) best = {id, distance: d, words: tried.length}
    }
  }
  const name = typed.slice(0, best?.words ?? 1).join(' ')
  const rest = [...typed.slice(best?.words ?? 1), ...(opts.argv ?? [])].join(' ')
  const shown = (id: string) => id.replaceAll(':', ' ')
  const suggestion =
    best && best.distance <= Math.max(2, Math.floor(best.id.length / 3)) ? best.id : undefined
  process.stderr.write(
    `Error: "${name}" is not an evtctl command.\n` +
      (suggestion
        ? `${`Try: evtctl ${shown(suggestion)} ${rest}`.trimEnd()}\n`
        : `Try: evtctl --help lists the commands (${ids.map(shown).join(', ')}).\n`),
  )
  process.exit(ExitCode.Usage)
}

/** Levenshtein distance (small strings: command names). */
function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length]!
}
