/**
 * YAML (and JSON) with positions: parse errors name line and column, and a change's path finds
 * its line. Loaded lazily: the `yaml` package stays out of start-up.
 */
import {isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode} from 'yaml'
import {SchemaInputError} from './types.js'

export function parseYaml(text: string, name: string): unknown {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, uniqueKeys: false})
  const err = doc.errors[0]
  if (err) {
    const pos = err.linePos?.[0]
    throw new SchemaInputError(
      `not valid YAML: ${err.message.split('\n')[0]}`,
      name,
      pos?.line,
      pos?.col,
      'SCHEMA_PARSE',
    )
  }
  return doc.toJS({maxAliasCount: 100})
}

/**
 * The 1-based line of the node at `path` (segments of a JSON pointer) in a JSON or YAML text; the
 * nearest ancestor that exists when the node does not (a removed property: its parent).
 */
export function lineOf(text: string, path: readonly string[]): number | undefined {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, uniqueKeys: false})
  if (doc.errors.length) return undefined
  let node: unknown = doc.contents
  let line = node ? lineCounter.linePos((node as YamlNode).range?.[0] ?? 0).line : undefined
  for (const segment of path) {
    let next: unknown
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as {value?: unknown})?.value ?? p.key) === segment)
      if (!pair) break
      const keyNode = pair.key as YamlNode
      if (keyNode?.range) line = lineCounter.linePos(keyNode.range[0]).line
      next = pair.value
    } else if (isSeq(node) && /^\d+$/.test(segment)) {
      next = node.items[Number(segment)]
      if (next && (next as YamlNode).range) line = lineCounter.linePos((next as YamlNode).range![0]).line
    } else break
    if (next === undefined || next === null) break
    node = next
  }
  return line
}
