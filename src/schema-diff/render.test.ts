import {describe, expect, test} from 'vitest'
import {renderGithub, renderJunit, renderText} from './render.js'
import type {DiffSchemaReport} from './service.js'

const report: DiffSchemaReport = {
  compatible: false,
  compatibility: 'BACKWARD',
  format: 'json-schema',
  changes: [
    {
      type: 'TYPE_CHANGED',
      path: '#/properties/a',
      breaking: true,
      message: 'a: 100% <broken>\nnext',
      direction: 'backward',
      file: 'dir,x/s:1.json',
      line: 3,
    },
    {
      type: 'DESCRIPTION_CHANGED',
      path: '#/',
      breaking: false,
      message: 'doc',
      direction: 'backward',
      file: 's.json',
    },
  ],
}

describe('renderers', () => {
  test('GitHub: data and properties escaped as the runner expects', () => {
    expect(renderGithub(report)).toBe(
      '::error file=dir%2Cx/s%3A1.json,line=3,title=TYPE_CHANGED #/properties/a::a: 100%25 <broken>%0Anext\n' +
        '::notice file=s.json,title=DESCRIPTION_CHANGED #/::doc\n',
    )
  })

  test('JUnit: XML-escaped, one failure per breaking change', () => {
    const x = renderJunit(report)
    expect(x).toContain('failures="1"')
    expect(x).toContain('message="a: 100% &lt;broken&gt;\nnext"')
    expect(x.match(/<testcase /g)).toHaveLength(2)
  })

  test('text ends with a verdict line', () => {
    expect(renderText(report).trim().split('\n').pop()).toBe(
      '2 change(s), 1 breaking under BACKWARD: NOT compatible.',
    )
    expect(renderText({...report, changes: [], compatible: true})).toBe(
      'No changes: compatible under BACKWARD.\n',
    )
  })
})
