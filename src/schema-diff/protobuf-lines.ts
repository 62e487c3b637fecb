/** The line of a Protobuf change (`#/Message/3`, `#/Message`): the field's number, else the message. */
export function protoLineOf(text: string, path: string): number | undefined {
  const parts = path.replace(/^#\/?/, '').split('/').filter(Boolean)
  const lines = text.split('\n')
  let from = 0
  let found: number | undefined
  for (const part of parts) {
    const name = part.split('.').pop()!
    const re = /^\d+$/.test(name)
      ? new RegExp(`=\\s*${name}\\b`)
      : new RegExp(
          `\\b(message|enum|service|oneof)\\s+${name.replace(/[^\w]/g, '')}\\b|\\b${name.replace(/[^\w]/g, '')}\\s*=`,
        )
    let hit = -1
    for (let i = from; i < lines.length; i++) {
      if (re.test(lines[i]!)) {
        hit = i
        break
      }
    }
    if (hit < 0) break
    found = hit + 1
    from = hit
  }
  return found
}
