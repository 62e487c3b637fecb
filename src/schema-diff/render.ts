/**
 * The diff-schema report as text (people), JSON (the --json document), GitHub workflow
 * annotations, JUnit XML and SARIF 2.1.0. Pure functions: report in, string out.
 */
import type {DiffSchemaReport} from './service.js'
import type {Change} from './types.js'

export const OUTPUT_FORMATS = ['text', 'json', 'github', 'junit', 'sarif'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

export function render(report: DiffSchemaReport, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`
    case 'github':
      return renderGithub(report)
    case 'junit':
      return renderJunit(report)
    case 'sarif':
      return `${JSON.stringify(renderSarif(report), null, 2)}\n`
    default:
      return renderText(report)
  }
}

const where = (c: Change) => (c.file ? `${c.file}${c.line ? `:${c.line}` : ''}` : '')

export function renderText(report: DiffSchemaReport): string {
  const out: string[] = []
  for (const f of report.files ?? []) {
    if (f.status === 'added') out.push(`added     ${f.file} (new since the ref: nothing to compare)`)
  }
  for (const c of report.changes) {
    const mark = c.breaking ? 'BREAKING ' : 'ok       '
    const dir = report.compatibility.startsWith('FULL') ? ` [${c.direction}]` : ''
    const vs = c.against ? ` (vs ${c.against})` : ''
    out.push(`${mark} ${c.type} ${c.path}${dir}${vs}  ${where(c)}`.trimEnd())
    out.push(`          ${c.message}`)
  }
  const breaking = report.changes.filter((c) => c.breaking).length
  out.push(
    report.changes.length === 0
      ? `No changes: compatible under ${report.compatibility}.`
      : `${report.changes.length} change(s), ${breaking} breaking under ${report.compatibility}: ${report.compatible ? 'compatible' : 'NOT compatible'}.`,
  )
  return `${out.join('\n')}\n`
}

/** GitHub's escaping for workflow command data and properties. */
export function ghData(s: string): string {
  return s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}
export function ghProp(s: string): string {
  return ghData(s).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

/** `::error file=…,line=…,title=…::message` for breaking changes, `::notice` for the others. */
export function renderGithub(report: DiffSchemaReport): string {
  const out: string[] = []
  for (const c of report.changes) {
    const props = [
      ...(c.file ? [`file=${ghProp(c.file)}`] : []),
      ...(c.line ? [`line=${c.line}`] : []),
      `title=${ghProp(`${c.type} ${c.path}`)}`,
    ]
    out.push(`::${c.breaking ? 'error' : 'notice'} ${props.join(',')}::${ghData(c.message)}`)
  }
  return out.length ? `${out.join('\n')}\n` : ''
}

function xml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
}

/** One test suite per file, one test case per change (failed when breaking). */
export function renderJunit(report: DiffSchemaReport): string {
  const byFile = new Map<string, Change[]>()
  for (const f of report.files ?? []) byFile.set(f.file, [])
  for (const c of report.changes) {
    const k = c.file ?? 'schema'
    byFile.set(k, [...(byFile.get(k) ?? []), c])
  }
  const failures = report.changes.filter((c) => c.breaking).length
  const suites = [...byFile.entries()].map(([file, changes]) => {
    const cases = changes.length
      ? changes.map((c) => {
          const name = xml(`${c.type} ${c.path}${c.direction === 'forward' ? ' (forward)' : ''}`)
          const body = c.breaking
            ? `<failure type="${xml(c.type)}" message="${xml(c.message)}">${xml(`${where(c)} ${c.message}`)}</failure>`
            : ''
          return `    <testcase classname="${xml(file)}" name="${name}"${c.line ? ` file="${xml(file)}" line="${c.line}"` : ''}>${body}</testcase>`
        })
      : [`    <testcase classname="${xml(file)}" name="compatible under ${report.compatibility}"></testcase>`]
    const f = changes.filter((c) => c.breaking).length
    return `  <testsuite name="${xml(file)}" tests="${Math.max(changes.length, 1)}" failures="${f}">\n${cases.join('\n')}\n  </testsuite>`
  })
  const tests = suites.length ? [...byFile.values()].reduce((n, l) => n + Math.max(l.length, 1), 0) : 0
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="evtctl diff-schema ${report.compatibility}" tests="${tests}" failures="${failures}">\n${suites.join('\n')}${suites.length ? '\n' : ''}</testsuites>\n`
}

export function renderSarif(report: DiffSchemaReport): unknown {
  const types = [...new Set(report.changes.map((c) => c.type))].sort()
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'evtctl diff-schema',
            rules: types.map((t) => ({
              id: t,
              shortDescription: {text: t.toLowerCase().replaceAll('_', ' ')},
            })),
          },
        },
        properties: {compatibility: report.compatibility, compatible: report.compatible},
        results: report.changes.map((c) => ({
          ruleId: c.type,
          level: c.breaking ? 'error' : 'note',
          message: {text: c.message},
          locations: c.file
            ? [
                {
                  physicalLocation: {
                    artifactLocation: {uri: c.file},
                    ...(c.line ? {region: {startLine: c.line}} : {}),
                  },
                  logicalLocations: [{fullyQualifiedName: c.path}],
                },
              ]
            : [],
          properties: {direction: c.direction, ...(c.against ? {against: c.against} : {})},
        })),
      },
    ],
  }
}
