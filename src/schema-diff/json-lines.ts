/**
 * Lines of JSON pointers in JSON text, in one linear scan (the YAML parser is too slow for
 * multi-megabyte JSON). A pointer that is not there gets the line of its nearest ancestor.
 */
export function jsonLines(text: string, pointers: readonly string[][]): Array<number | undefined> {
  const wanted = new Map<string, number | undefined>()
  for (const p of pointers) for (let i = 0; i <= p.length; i++) wanted.set(p.slice(0, i).join('/'), undefined)
  const stack: Array<{path: string; array: boolean; index: number; key?: string}> = []
  let line = 1
  let keyLine = 1
  let i = 0
  const n = text.length
  /** A value starts here: record the line of the member it belongs to. */
  const onValue = () => {
    const top = stack[stack.length - 1]
    let path = ''
    if (top) {
      const seg = top.array ? String(top.index) : (top.key ?? '')
      path = top.path === '' ? seg : `${top.path}/${seg}`
    }
    if (wanted.has(path) && wanted.get(path) === undefined)
      wanted.set(path, top && !top.array ? keyLine : line)
    return path
  }
  let expectingKey = false
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 10) {
      line++
      i++
      continue
    }
    if (c === 32 || c === 9 || c === 13 || c === 44 /* , */) {
      if (c === 44) {
        const top = stack[stack.length - 1]
        if (top?.array) top.index++
        else expectingKey = true
      }
      i++
      continue
    }
    if (c === 58 /* : */) {
      i++
      continue
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      const path = onValue()
      stack.push({path, array: c === 91, index: 0})
      expectingKey = c === 123
      i++
      continue
    }
    if (c === 125 || c === 93) {
      stack.pop()
      expectingKey = false
      i++
      continue
    }
    if (c === 34 /* " */) {
      let j = i + 1
      let s = ''
      while (j < n && text.charCodeAt(j) !== 34) {
        if (text.charCodeAt(j) === 92) {
          s += text.slice(j, j + 2)
          j += 2
        } else {
          s += text[j]
          j++
        }
      }
      const top = stack[stack.length - 1]
      if (expectingKey && top && !top.array) {
        try {
          top.key = JSON.parse(`"${s}"`)
        } catch {
          top.key = s
        }
        keyLine = line
        expectingKey = false
      } else onValue()
      i = j + 1
      continue
    }
    // A number, true, false or null.
    onValue()
    while (i < n && !/[\s,\]}]/.test(text[i]!)) i++
  }
  return pointers.map((p) => {
    for (let k = p.length; k >= 0; k--) {
      const l = wanted.get(p.slice(0, k).join('/'))
      if (l !== undefined) return l
    }
    return undefined
  })
}
