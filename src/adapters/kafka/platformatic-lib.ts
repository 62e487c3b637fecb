import {createRequire} from 'node:module'

type Lib = typeof import('@platformatic/kafka')
let loading: Promise<Lib> | undefined

/**
 * @platformatic/kafka, loaded once. Its modules compile ~40 ajv validators for client options as
 * they load: ~0.4 s of every `publish`, `replay` or `lag` to Kafka here (measured with
 * --cpu-prof). evtctl's clients run with `strict: false` (the library's default), under which the
 * library never calls them; so they are compiled on first call instead.
 */
export function loadPlatformatic(): Promise<Lib> {
  loading ??= (async () => {
    // Only the library's validators, made as it loads: evtctl's own JSON Schema checks (the same
    // Ajv class) still compile up front, where an unresolvable $ref fails before anything is sent.
    const restore = compileOnFirstUse()
    try {
      return await import('@platformatic/kafka')
    } finally {
      restore()
    }
  })()
  return loading
}

type Validate = ((...args: unknown[]) => boolean) & {errors?: unknown}
type Compile = (this: unknown, schema: unknown, meta?: boolean) => Validate

/**
 * Makes the library's Ajv class compile each schema when its validator is first called; returns
 * what puts the class back as it was.
 */
function compileOnFirstUse(): () => void {
  try {
    const fromLib = createRequire(createRequire(import.meta.url).resolve('@platformatic/kafka'))
    const {Ajv2020} = fromLib('ajv/dist/2020.js') as {Ajv2020: {prototype: {compile: Compile}}}
    const compile = Ajv2020.prototype.compile
    if ((compile as {lazy?: true}).lazy) return () => {}
    const lazyCompile: Compile = function (this: unknown, schema, meta) {
      const ajv = this
      let validate: Validate | undefined
      const lazy: Validate = function (this: unknown, ...args: unknown[]) {
        validate ??= compile.call(ajv, schema, meta)
        const ok = validate.apply(this, args)
        lazy.errors = validate.errors
        return ok
      }
      lazy.errors = null
      return lazy
    }
    Ajv2020.prototype.compile = Object.assign(lazyCompile, {lazy: true as const})
    return () => {
      Ajv2020.prototype.compile = compile
    }
  } catch {
    // Not laid out as expected: the library compiles as it always did.
    return () => {}
  }
}
