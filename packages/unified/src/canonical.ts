/**
 * Plugin options as a key part: a canonical form of any value, so equal
 * options give one key on every machine and any change gives another.
 *
 * Plain objects are written with sorted property names by `key()`. Functions
 * become their source text (an option such as `filter: (node) => …` keys by
 * what it does), `Map` and `Set` their entries in order, class instances their
 * class name and own enumerable properties, symbols their description, and a
 * reference cycle a marker (so a self-referencing option cannot hang a build).
 */
import type { KeyPart } from "@sitecache/core"

export function canonical(value: unknown): KeyPart {
  return walk(value, [])
}

function walk(value: unknown, stack: object[]): KeyPart {
  switch (typeof value) {
    case "string":
    case "number":
    case "bigint":
    case "boolean":
    case "undefined":
      return value
    case "symbol":
      return { "(symbol)": value.description ?? "" }
    case "function":
      return { "(function)": Function.prototype.toString.call(value) }
  }
  if (value === null) return null
  const object = value as object
  if (stack.includes(object)) return { "(cycle)": stack.length - stack.indexOf(object) }
  if (object instanceof Uint8Array || object instanceof Date || object instanceof RegExp) return object as KeyPart
  if (ArrayBuffer.isView(object)) return new Uint8Array(object.buffer, object.byteOffset, object.byteLength)
  stack.push(object)
  try {
    if (Array.isArray(object)) return object.map((item) => walk(item, stack))
    if (object instanceof Map) return { "(Map)": [...object].map(([k, v]) => [walk(k, stack), walk(v, stack)]) }
    if (object instanceof Set) return { "(Set)": [...object].map((item) => walk(item, stack)) }
    const record: Record<string, KeyPart> = {}
    for (const name of Object.keys(object)) record[name] = walk((object as Record<string, unknown>)[name], stack)
    const proto = Object.getPrototypeOf(object)
    if (proto === Object.prototype || proto === null) return record
    const className = (proto?.constructor as { name?: string } | undefined)?.name ?? "anonymous"
    return { "(class)": className, properties: record }
  } finally {
    stack.pop()
  }
}
