/**
 * Fingerprints of plugins and libraries: what goes into a key so that a
 * changed one (another installed version, edited source, other options) misses.
 */
import { readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import type { KeyPart } from "./key.js"

const MAX_DEPTH = 32

/**
 * A key part for any value: plain data as it is, functions by their source
 * text, class instances by their class name and own properties, `Map` and
 * `Set` by their entries, cycles and very deep nesting by a marker. Unlike
 * `key()` itself this never throws, since plugin options hold anything.
 */
export function fingerprint(value: unknown): KeyPart {
  return walk(value, new Set(), 0)
}

function walk(value: unknown, seen: Set<object>, depth: number): KeyPart {
  switch (typeof value) {
    case "string":
    case "number":
    case "bigint":
    case "boolean":
    case "undefined":
      return value
    case "symbol":
      return `Symbol(${value.description ?? ""})`
    case "function": {
      const fn = value as (...args: never[]) => unknown
      const props = Object.keys(fn)
      if (props.length === 0) return fn
      // A function's own properties can lead back to it (`fn.default = fn`, Eleventy's `HtmlBasePlugin`).
      if (seen.has(fn)) return "[cycle]"
      if (depth >= MAX_DEPTH) return "[deep]"
      seen.add(fn)
      try {
        return { function: fn, props: walkRecord(fn as unknown as Record<string, unknown>, props, seen, depth) }
      } finally {
        seen.delete(fn)
      }
    }
  }
  if (value === null) return null
  const object = value as object
  if (object instanceof Uint8Array || object instanceof Date || object instanceof RegExp) return object
  if (seen.has(object)) return "[cycle]"
  if (depth >= MAX_DEPTH) return "[deep]"
  seen.add(object)
  try {
    if (Array.isArray(object)) return object.map((item) => walk(item, seen, depth + 1))
    if (object instanceof Map) return { map: [...object].map(([k, v]) => [walk(k, seen, depth + 1), walk(v, seen, depth + 1)]) }
    if (object instanceof Set) return { set: [...object].map((item) => walk(item, seen, depth + 1)) }
    const record = walkRecord(object as Record<string, unknown>, Object.keys(object), seen, depth)
    const proto = Object.getPrototypeOf(object)
    if (proto === Object.prototype || proto === null) return record
    return { class: (proto.constructor as { name?: string } | undefined)?.name ?? "anonymous", props: record }
  } finally {
    seen.delete(object)
  }
}

function walkRecord(
  record: Record<string, unknown>,
  names: readonly string[],
  seen: Set<object>,
  depth: number,
): { [name: string]: KeyPart } {
  const out: { [name: string]: KeyPart } = {}
  for (const name of names) out[name] = walk(record[name], seen, depth + 1)
  return out
}

const versions = new Map<string, string | null>()

/**
 * The installed version of `packageName` as seen from `root`: the first
 * `node_modules/<name>/package.json` found walking up from `root` (works
 * for packages whose `exports` hide their `package.json`). `null` when none.
 */
export function installedVersion(packageName: string, root: string): string | null {
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(packageName)) return null
  const cacheKey = `${root}\0${packageName}`
  const known = versions.get(cacheKey)
  if (known !== undefined) return known
  let found: string | null = null
  for (let dir = resolve(root); ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "node_modules", packageName, "package.json"), "utf8")) as {
        version?: unknown
      }
      if (typeof manifest.version === "string") {
        found = manifest.version
        break
      }
    } catch {
      // not installed here: look further up
    }
    if (dirname(dir) === dir) break
  }
  versions.set(cacheKey, found)
  return found
}
