import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {pathToFileURL} from 'node:url'

/** The Ink release this patch was written for and checked against (ink-output.test.ts). */
export const PATCHED_INK_VERSION = '6.8.0'

/** A cell as @alcalzone/ansi-tokenize gives it to Ink's Output. */
interface StyledChar {
  type: 'char'
  value: string
  fullWidth: boolean
  styles: ReadonlyArray<{code: string; endCode: string}>
}

type Transformer = (line: string, index: number) => string

type Operation =
  | {type: 'write'; x: number; y: number; text: string; transformers: Transformer[]}
  | {type: 'clip'; clip: unknown}
  | {type: 'unclip'}

/** Ink 6.8.0's Output (build/output.js), the part this patch reads. */
export interface InkOutput {
  width: number
  height: number
  operations: Operation[]
  caches: {getStyledChars(line: string): StyledChar[]; getStringWidth(text: string): number}
  write(x: number, y: number, text: string, options: {transformers: Transformer[]}): void
  clip(clip: {x1?: number; x2?: number; y1?: number; y2?: number}): void
  unclip(): void
  get(): {output: string; height: number}
}

export interface InkOutputClass {
  new (options: {width: number; height: number}): InkOutput
  prototype: InkOutput
}

/** Ink's own Output class and version, from the copy of Ink that `import 'ink'` loads. */
export async function loadInkOutput(): Promise<{version: string; Output: InkOutputClass}> {
  const build = dirname(createRequire(import.meta.url).resolve('ink'))
  const {version} = JSON.parse(readFileSync(join(build, '..', 'package.json'), 'utf8')) as {version: string}
  const mod = (await import(pathToFileURL(join(build, 'output.js')).href)) as {default: InkOutputClass}
  return {version, Output: mod.default}
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

const originals = new WeakMap<object, InkOutput['get']>()

/** Ink's own Output.get, whether or not plainGet is in its place. */
export function inkOwnGet(Output: InkOutputClass): InkOutput['get'] {
  return originals.get(Output.prototype) ?? Output.prototype.get
}

/**
 * Lines without escape sequences as Ink cuts them into characters, and characters' widths, kept
 * from frame to frame (Ink keeps them for one frame): the dashboard's sparklines and dashes
 * repeat. Emptied when they grow past LIMIT, so a long run does not keep every line it drew.
 */
const charsOfLine = new Map<string, StyledChar[]>()
const widthOfChar = new Map<string, number>()
const LIMIT = 4096

function charsOf(out: InkOutput, line: string): StyledChar[] {
  if (line.includes('\x1b') || line.includes('\x9b')) return out.caches.getStyledChars(line)
  let chars = charsOfLine.get(line)
  if (chars === undefined) {
    if (charsOfLine.size >= LIMIT) charsOfLine.clear()
    chars = out.caches.getStyledChars(line)
    charsOfLine.set(line, chars)
  }
  return chars
}

function widthOf(out: InkOutput, char: string): number {
  let width = widthOfChar.get(char)
  if (width === undefined) {
    if (widthOfChar.size >= LIMIT) widthOfChar.clear()
    width = out.caches.getStringWidth(char)
    widthOfChar.set(char, width)
  }
  return width
}

/**
 * Ink's Output.get(), the same screen for less work. Ink 6.8.0 turns every frame into a grid of
 * one object per cell (terminal width × frame height), runs each written line through
 * @alcalzone/ansi-tokenize (Intl.Segmenter, an object and a styles array per character), then
 * joins each row back with a style diff per cell (three Sets and several arrays each): ~10 ms a
 * frame for the dashboard's 160 × 38, more than the rest of the dashboard's drawing together.
 * Here a line of printable ASCII without escapes is copied into its row as it is, other lines
 * take Ink's own path (getStyledChars, getStringWidth), and a row joins its characters directly
 * unless one of them carries a style: such a row (the selected one, in inverse) and any frame
 * with clipping (overflow="hidden") are made by Ink's own get(). ink-output.test.ts compares the
 * two on many frames.
 */
export function plainGet(this: InkOutput): {output: string; height: number} {
  const original = inkOwnGet(this.constructor as InkOutputClass)
  if (this.operations.some((op) => op.type !== 'write')) return original.call(this)
  const rows: Array<Array<string | StyledChar>> = []
  // What was written to each row, as Ink's own get() would see it (after the transformers).
  const pieces: Array<Array<{x: number; line: string}>> = []
  const styled: boolean[] = []
  for (let y = 0; y < this.height; y++) {
    rows.push(new Array<string | StyledChar>(this.width).fill(' '))
    pieces.push([])
    styled.push(false)
  }
  for (const op of this.operations) {
    if (op.type !== 'write') continue
    const lines = op.text.split('\n')
    let offsetY = 0
    for (let index = 0; index < lines.length; index++) {
      const y = op.y + offsetY
      const row = rows[y]
      // As in Ink: a line outside the output is dropped, and so are the ones after it.
      if (!row) continue
      let line = lines[index] as string
      for (const transform of op.transformers) line = transform(line, index)
      pieces[y]?.push({x: op.x, line})
      let x = op.x
      if (PRINTABLE_ASCII.test(line)) {
        for (let i = 0; i < line.length; i++) row[x + i] = line[i] as string
      } else {
        // A transformer's newline is a character of this row to Ink's get(): left to it.
        if (line.includes('\n')) return original.call(this)
        for (const char of charsOf(this, line)) {
          if (char.styles.length > 0) styled[y] = true
          row[x] = char
          const width = Math.max(1, widthOf(this, char.value))
          for (let i = 1; i < width; i++)
            row[x + i] = {type: 'char', value: '', fullWidth: false, styles: char.styles}
          x += width
        }
      }
      offsetY++
    }
  }
  const Output = this.constructor as InkOutputClass
  const out: string[] = []
  for (let y = 0; y < rows.length; y++) {
    if (styled[y]) {
      const one = new Output({width: this.width, height: 1})
      for (const {x, line} of pieces[y] ?? []) one.write(x, 0, line, {transformers: []})
      out.push(original.call(one).output)
      continue
    }
    let text = ''
    for (const cell of rows[y] ?? []) {
      if (cell === undefined) continue
      text += typeof cell === 'string' ? cell : cell.value
    }
    out.push(text.trimEnd())
  }
  return {output: out.join('\n'), height: rows.length}
}

/**
 * Puts plainGet in place of Ink's Output.prototype.get, once, and only on the Ink release it was
 * checked against (another one keeps its own, slower get). Returns whether it is in place.
 */
export async function installPlainOutput(): Promise<boolean> {
  const {version, Output} = await loadInkOutput()
  if (version !== PATCHED_INK_VERSION || typeof Output.prototype.get !== 'function') return false
  if (!originals.has(Output.prototype)) {
    originals.set(Output.prototype, Output.prototype.get)
    Output.prototype.get = plainGet
  }
  return true
}
