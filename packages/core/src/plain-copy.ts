/**
 * A fresh copy of plain data read from a cache entry, for adapters that
 * restore a stored result (docs/architecture.md, "Entry format"): a value
 * read from a cache is untrusted input, so it is copied, never merged, and
 * only what plain data can hold gets through.
 */

/** How deep an adapter's stored result may nest. */
export const PLAIN_COPY_DEPTH = 64

/** Keys that would reach a prototype when assigned: refused wherever they appear. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"])

export interface PlainCopyOptions {
  /** Each string passes through it (an adapter moving paths between checkouts). Default: as it is. */
  readonly text?: (text: string) => string
  /** Leave out properties whose value is `undefined` (default: such a value is refused, as `undefined` anywhere). */
  readonly dropUndefined?: boolean
  /** Called with the reason when the value is not plain data; must throw. */
  readonly invalid: (why: string) => never
}

/**
 * Copy `value` into new arrays and plain objects, own data properties only:
 * strings, numbers, booleans and null. Anything else calls `options.invalid`
 * with a reason naming where (from `at`): `undefined` (unless `dropUndefined`
 * leaves such a property out), a function, a symbol key, an accessor, a class
 * instance, a forbidden key, nesting past `PLAIN_COPY_DEPTH`.
 */
export function copyPlainData(value: unknown, at: string, options: PlainCopyOptions, depth = 0): unknown {
  const { invalid } = options
  if (depth > PLAIN_COPY_DEPTH) invalid(`\`${at}\` is nested too deep`)
  switch (typeof value) {
    case "string":
      return options.text === undefined ? value : options.text(value)
    case "number":
    case "boolean":
      return value
    case "object":
      break
    default:
      return invalid(`\`${at}\` holds a ${typeof value}`)
  }
  if (value === null) return null
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (let i = 0; i < value.length; i++) out.push(copyPlainData(value[i], `${at}[${i}]`, options, depth + 1))
    return out
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) invalid(`\`${at}\` is not a plain object`)
  if (Object.getOwnPropertySymbols(value).length > 0) invalid(`\`${at}\` has symbol keys`)
  const out: Record<string, unknown> = {}
  for (const name of Object.getOwnPropertyNames(value)) {
    if (FORBIDDEN_KEYS.has(name)) invalid(`\`${at}\` has a key \`${name}\``)
    const descriptor = Object.getOwnPropertyDescriptor(value, name) as PropertyDescriptor
    if (!("value" in descriptor)) invalid(`\`${at}.${name}\` is an accessor`)
    if (descriptor.value === undefined && options.dropUndefined === true) continue
    // A new own property: `out` is fresh and `name` is none of the forbidden keys.
    Object.defineProperty(out, name, {
      value: copyPlainData(descriptor.value, `${at}.${name}`, options, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}
