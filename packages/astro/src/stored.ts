/**
 * A module as a cache entry, and back.
 *
 * What Astro's markdown `load` and MDX's `transform` return is a module:
 * `{ code, map?, meta? }`. Its code names absolute paths (the file itself,
 * Astro's runtime, the project's components), so an entry keeps each of them
 * relative to an anchor (the project root, Astro's package directory) and a
 * hit puts back the anchors of this build: a cache restored in another
 * checkout, or after the packages moved, still gives modules that import the
 * right files. A result whose paths would not come back exactly is not stored.
 *
 * Restoring treats the entry as untrusted input: whoever can write the cache
 * chooses what `get` returns. An entry is used only if it has exactly the
 * shape `toStored` writes, rebuilt property by property into fresh objects; a
 * key `__proto__`, `constructor` or `prototype` anywhere makes it invalid.
 */
import { copyPlainData } from "@sitecache/core"

/** Where absolute paths are moved to and from: a marker per anchor directory. */
export interface Anchor {
  readonly marker: string
  readonly path: string
}

/** The module Vite gets from a hook. */
export interface ModuleResult {
  readonly code: string
  readonly map?: unknown
  readonly meta?: Readonly<Record<string, unknown>>
}

/** What an entry keeps of one module. */
export interface StoredModule {
  readonly code: string
  readonly map?: unknown
  readonly meta?: Readonly<Record<string, unknown>>
}

const MARK = "\u0000sitecache:"
const MODULE_KEYS = new Set(["code", "map", "meta"])

/** The anchors for a project: longest path first, so a package inside the root is moved as the package. */
export function anchors(paths: Readonly<Record<string, string | undefined>>): Anchor[] {
  const list: Anchor[] = []
  for (const [name, path] of Object.entries(paths)) {
    if (path === undefined || path.length < 2) continue
    // With its trailing slash: a sibling directory whose name starts the same is not moved.
    list.push({ marker: `${MARK}${name}\u0000`, path: `${path.replace(/\\/g, "/").replace(/\/+$/, "")}/` })
  }
  return list.sort((a, b) => b.path.length - a.path.length)
}

/** Thrown inside this module only. */
class Refused extends Error {}

function refuse(why: string): never {
  throw new Refused(why)
}

/** A fresh copy of plain data, each string passed through `text`; refuses anything else. */
function copyData(value: unknown, at: string, text: (s: string) => string): unknown {
  return copyPlainData(value, at, { text, dropUndefined: true, invalid: refuse })
}

/** A source map as plain data (a `SourceMap` instance loses its methods, which bundlers do not need). */
function plainMap(map: unknown): unknown {
  if (map === null || map === undefined || typeof map !== "object") return map
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(map)) if (typeof value !== "function") out[name] = value
  return out
}

function relocate(text: string, from: (a: Anchor) => string, to: (a: Anchor) => string, list: readonly Anchor[]): string {
  let out = text
  for (const anchor of list) {
    const find = from(anchor)
    if (out.includes(find)) out = out.split(find).join(to(anchor))
  }
  return out
}

/**
 * The entry for a hook's result, or why it cannot be stored: a result that is
 * not a module of plain data, or whose paths would not come back as they are.
 */
export function toStored(result: unknown, list: readonly Anchor[]): { stored: StoredModule } | { uncacheable: string } {
  if (result === null || typeof result !== "object" || Array.isArray(result)) return { uncacheable: "not a module" }
  const fields = Object.keys(result)
  const other = fields.find((name) => !MODULE_KEYS.has(name) && (result as Record<string, unknown>)[name] !== undefined)
  if (other !== undefined) return { uncacheable: `a module with \`${other}\`` }
  const { code, map, meta } = result as ModuleResult
  if (typeof code !== "string") return { uncacheable: "code that is not a string" }
  const moved = (s: string) => {
    if (s.includes(MARK)) refuse("the result holds sitecache's path marker")
    return relocate(
      s,
      (a) => a.path,
      (a) => a.marker,
      list,
    )
  }
  try {
    const stored = copyData({ code, map: plainMap(map), meta }, "result", moved) as StoredModule
    const back = fromStored(stored, list)
    const original = copyData({ code, map: plainMap(map), meta }, "result", (s) => s)
    if (JSON.stringify(back) !== JSON.stringify(original)) return { uncacheable: "its paths do not come back as they are" }
    return { stored }
  } catch (error) {
    if (error instanceof Refused) return { uncacheable: error.message }
    throw error
  }
}

/** The module of an entry `toStored` wrote, with this build's anchors. */
export function fromStored(stored: StoredModule, list: readonly Anchor[]): ModuleResult {
  const back = (s: string) =>
    relocate(
      s,
      (a) => a.marker,
      (a) => a.path,
      list,
    )
  return copyData(stored, "entry", back) as ModuleResult
}

/** Why a value read from the cache is not an entry `toStored` wrote, or `undefined`. */
export function invalidEntry(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "not a module entry"
  for (const name of Object.getOwnPropertyNames(value)) if (!MODULE_KEYS.has(name)) return `an entry with \`${name}\``
  const { code, meta } = value as Record<string, unknown>
  if (typeof code !== "string") return "`code` is not a string"
  if (meta !== undefined && (meta === null || typeof meta !== "object" || Array.isArray(meta))) return "`meta` is not a record"
  try {
    copyData(value, "entry", (s) => s)
    return undefined
  } catch (error) {
    if (error instanceof Refused) return error.message
    throw error
  }
}
