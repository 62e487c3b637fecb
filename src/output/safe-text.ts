/**
 * Control characters that a terminal would act on: C0 (but newline and tab where text may span
 * lines), DEL, C1 (U+009B is CSI on some terminals), and the bidirectional overrides and isolates
 * that reorder what is shown ("Trojan Source").
 */
const CONTROL_MULTILINE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const CONTROL_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** Text made safe for a terminal: each control character is shown escaped (\x1b, \u202e, \n). */
export function safeText(text: string, multiline = false): string {
  const re = multiline ? CONTROL_MULTILINE : CONTROL_LINE
  re.lastIndex = 0
  if (!re.test(text)) return text
  return text.replace(re, escapeControl)
}

function escapeControl(ch: string): string {
  const code = ch.charCodeAt(0)
  if (ch === '\n') return '\\n'
  if (ch === '\t') return '\\t'
  if (ch === '\r') return '\\r'
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`
}
