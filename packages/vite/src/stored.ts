/**
 * A hook's result as a cache entry, and back.
 *
 * Storing keeps what Vite, Rollup and Rolldown read from a `transform` (or
 * `load`) result: the code, the source map, and every other field that is
 * plain data (`meta`, `moduleSideEffects`, `syntheticNamedExports`,
 * `attributes`, Rolldown's `moduleType`, ...). A field that is not plain data
 * (an `ast`, a `MagicString` as `code`, `meta` holding a function) makes the
 * result uncacheable, named by the field.
 *
 * Restoring treats the entry as untrusted input: whoever can write the cache
 * directory or an unsigned shared namespace chooses what `get` returns. An
 * entry is read only if it has exactly the shape `toStored` writes, and it is
 * rebuilt into fresh objects, property by property, so that nothing of it can
 * reach a prototype: a key `__proto__`, `constructor` or `prototype` anywhere
 * makes the entry invalid (and such a result is never stored, so a valid entry
 * never holds one). An invalid entry is a miss, never an exception.
 */
import { copyPlainData, FORBIDDEN_KEYS, type MemoContext, PLAIN_COPY_DEPTH } from "@sitecache/core"
import type { RecordedLog } from "./context.js"

/** What a hook may return. */
export type HookResult = string | null | undefined | Readonly<Record<string, unknown>>

/** What an entry keeps of one hook call. */
export interface StoredResult {
  /** Project root when stored: absolute paths in the output are moved to a new root on a hit. */
  readonly root: string
  /** The hook returned a plain string (`code`). */
  readonly string?: true
  readonly code?: string | null
  readonly map?: unknown
  /** Every other field of the result, by name. */
  readonly fields?: Readonly<Record<string, unknown>>
  readonly logs?: readonly RecordedLog[]
}

/** Property names that lead to a prototype when written: never stored, never restored. */
const LOG_LEVELS = new Set(["warn", "info", "debug"])
const ENTRY_KEYS = new Set(["root", "string", "code", "map", "fields", "logs"])

/** A hook that returned nothing: not stored, not counted. */
export const NO_OUTPUT = "no output"

/** Plain data: primitives, arrays and plain objects, no forbidden key, at most `PLAIN_COPY_DEPTH` deep. */
export function isPlainData(value: unknown, depth = 0): boolean {
  if (depth > PLAIN_COPY_DEPTH) return false
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
    case "undefined":
      return true
    case "object": {
      if (value === null) return true
      if (Array.isArray(value)) return value.every((item) => isPlainData(item, depth + 1))
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return false
      if (Object.getOwnPropertySymbols(value).length > 0) return false
      for (const name of Object.getOwnPropertyNames(value)) {
        if (FORBIDDEN_KEYS.has(name)) return false
        const descriptor = Object.getOwnPropertyDescriptor(value, name) as PropertyDescriptor
        if (!("value" in descriptor) || !isPlainData(descriptor.value, depth + 1)) return false
      }
      return true
    }
    default:
      return false
  }
}

/** A source map as plain data (a `SourceMap` class instance loses its methods, which bundlers do not need). */
function plainMap(map: unknown): unknown {
  if (map === null || map === undefined || typeof map === "string") return map
  if (typeof map !== "object") return undefined
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(map)) if (typeof value !== "function") out[name] = value
  return isPlainData(out) ? out : undefined
}

/** The entry for `value`; a part that cannot be stored is reported to `memo` as the reason not to store it. */
export function toStored(value: HookResult, logs: readonly RecordedLog[], memo: MemoContext, root: string): StoredResult {
  const withLogs = logs.length > 0 ? { logs } : {}
  if (value === null || value === undefined) {
    memo.uncacheable(NO_OUTPUT)
    return { root }
  }
  if (typeof value === "string") return { root, string: true, code: value, ...withLogs }
  let code: string | null | undefined
  let map: unknown
  const fields: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(value)) {
    if (field === undefined) continue
    if (name === "code") {
      if (typeof field === "string" || field === null) code = field
      else memo.uncacheable("code")
    } else if (name === "map") {
      map = plainMap(field)
      if (map === undefined) memo.uncacheable("map")
    } else if (name !== "ast" && !FORBIDDEN_KEYS.has(name) && isPlainData(field)) {
      fields[name] = field
    } else {
      memo.uncacheable(name)
    }
  }
  return {
    root,
    ...(code === undefined ? {} : { code }),
    ...(map === undefined ? {} : { map }),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
    ...withLogs,
  }
}

/** Thrown inside `readStored` only. */
class InvalidEntry extends Error {}

function invalid(why: string): never {
  throw new InvalidEntry(why)
}

/** A fresh copy of plain data from an entry: own data properties into new objects, nothing else. */
function copyData(value: unknown, at: string): unknown {
  return copyPlainData(value, at, { invalid })
}

function readLogs(value: unknown): RecordedLog[] {
  if (!Array.isArray(value)) return invalid("`logs` is not a list")
  return value.map((item, i) => {
    const log = copyData(item, `logs[${i}]`) as Record<string, unknown>
    if (log === null || typeof log !== "object" || Array.isArray(log)) invalid(`\`logs[${i}]\` is not a log`)
    const { level, log: message, position } = log
    if (typeof level !== "string" || !LOG_LEVELS.has(level)) invalid(`\`logs[${i}].level\` is not a log level`)
    if (typeof message !== "string" && (message === null || typeof message !== "object" || Array.isArray(message)))
      invalid(`\`logs[${i}].log\` is not a log`)
    if (position !== undefined && typeof position !== "number") {
      const { line, column } = (position ?? {}) as { line?: unknown; column?: unknown }
      if (typeof line !== "number" || typeof column !== "number") invalid(`\`logs[${i}].position\` is not a position`)
    }
    return log as unknown as RecordedLog
  })
}

/**
 * The entry `value` as a `StoredResult` in fresh objects, or the reason it is
 * not one (a damaged or forged entry).
 */
export function readStored(value: unknown): { stored: StoredResult } | { invalid: string } {
  try {
    if (value === null || typeof value !== "object" || Array.isArray(value)) invalid("the entry is not an object")
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) invalid("the entry is not a plain object")
    const entry = value as Record<string, unknown>
    for (const name of Object.getOwnPropertyNames(entry)) if (!ENTRY_KEYS.has(name)) invalid(`unknown field \`${name}\``)
    const { root, string, code, map, fields, logs } = entry
    if (typeof root !== "string") invalid("`root` is not a string")
    if (string !== undefined && (string !== true || typeof code !== "string")) invalid("`string` without a string `code`")
    if (code !== undefined && code !== null && typeof code !== "string") invalid("`code` is not a string")
    const stored: { -readonly [K in keyof StoredResult]: StoredResult[K] } = { root }
    if (string === true) stored.string = true
    if (code !== undefined) stored.code = code as string | null
    if (map !== undefined) {
      if (map !== null && typeof map !== "string" && (typeof map !== "object" || Array.isArray(map)))
        invalid("`map` is not a source map")
      stored.map = copyData(map, "map")
    }
    if (fields !== undefined) {
      const copy = copyData(fields, "fields")
      if (copy === null || typeof copy !== "object" || Array.isArray(copy)) invalid("`fields` is not an object")
      stored.fields = copy as Record<string, unknown>
    }
    if (logs !== undefined) stored.logs = readLogs(logs)
    return { stored }
  } catch (error) {
    if (error instanceof InvalidEntry) return { invalid: error.message }
    throw error
  }
}

/** Paths under the root `from` (followed by a separator) moved under `to`. */
function relocate(text: string, from: string, to: string): string {
  let out = text
  for (const separator of ["/", "\\\\", "\\"]) {
    const prefix = from + separator
    if (out.includes(prefix)) out = out.split(prefix).join(to + separator)
  }
  return out
}

/** Strings of plain data with paths under `from` moved under `to` (a fresh copy). */
function relocateData(value: unknown, from: string, to: string): unknown {
  if (typeof value === "string") return relocate(value, from, to)
  if (value === null || typeof value !== "object") return value
  if (Array.isArray(value)) return value.map((item) => relocateData(item, from, to))
  const out: Record<string, unknown> = {}
  for (const [name, item] of Object.entries(value)) {
    Object.defineProperty(out, name, {
      value: relocateData(item, from, to),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return out
}

/**
 * The hook's result rebuilt from a `readStored` entry (whose objects are
 * already fresh), with paths under the old root moved to `root`.
 */
export function fromStored(stored: StoredResult, root: string): HookResult {
  const moved = stored.root !== root
  const code = moved && typeof stored.code === "string" ? relocate(stored.code, stored.root, root) : stored.code
  if (stored.string) return code
  const result: Record<string, unknown> = {}
  if (code !== undefined) result.code = code
  if (stored.map !== undefined) result.map = moved ? relocateData(stored.map, stored.root, root) : stored.map
  for (const [name, value] of Object.entries(stored.fields ?? {})) {
    Object.defineProperty(result, name, { value, enumerable: true, writable: true, configurable: true })
  }
  return result
}
