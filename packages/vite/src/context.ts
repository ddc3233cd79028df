/**
 * The hook context a wrapped `transform` sees: the real one, with the calls
 * that matter to a cache recorded on the way through.
 *
 * - `this.addWatchFile(file)`: a dependency of the entry (a change to the
 *   file is a miss), and still forwarded;
 * - `this.warn`, `this.info`, `this.debug`: forwarded, and kept to replay on
 *   a hit;
 * - calls whose effect a cached result cannot reproduce or whose result is
 *   not part of the key (`emitFile`, `setAssetSource`, `load`, `resolve`,
 *   `getCombinedSourcemap`): forwarded, and the result is not cached; the
 *   reason is counted in the build summary.
 */
import type { MemoContext } from "@sitecache/core"

export type LogLevel = "warn" | "info" | "debug"

/** A log call as kept in an entry: plain data, replayable on a hit. */
export interface RecordedLog {
  readonly level: LogLevel
  readonly log: string | Readonly<Record<string, unknown>>
  readonly position?: number | { readonly column: number; readonly line: number }
}

/** Context methods whose use keeps a result out of the cache, and why. */
export const UNCACHEABLE_CALLS: Readonly<Record<string, string>> = {
  emitFile: "this.emitFile",
  setAssetSource: "this.setAssetSource",
  load: "this.load",
  resolve: "this.resolve",
  getCombinedSourcemap: "this.getCombinedSourcemap",
}

const LOG_LEVELS = new Set<string>(["warn", "info", "debug"])

/** The fields of a `RollupLog` worth keeping: plain values only. */
function plainLog(log: unknown): RecordedLog["log"] {
  if (typeof log === "string") return log
  if (log === null || typeof log !== "object") return String(log)
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(log)) {
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) out[name] = value
    else if (name === "loc" && typeof value === "object") out[name] = JSON.parse(JSON.stringify(value)) as unknown // { file?, line, column }
  }
  if (typeof (log as { message?: unknown }).message === "string") out.message = (log as { message: string }).message
  return out
}

function plainPosition(position: unknown): RecordedLog["position"] {
  if (typeof position === "number") return position
  if (position !== null && typeof position === "object") {
    const { column, line } = position as { column?: unknown; line?: unknown }
    if (typeof column === "number" && typeof line === "number") return { column, line }
  }
  return undefined
}

export interface Recording {
  readonly logs: RecordedLog[]
}

/**
 * A proxy of `context` that records into `recording` and `memo`. Every other
 * property reads through to the real context (methods bound to it).
 */
export function recordingContext<T extends object>(context: T, recording: Recording, memo: MemoContext): T {
  return new Proxy(context, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown
      if (typeof property !== "string" || typeof value !== "function") {
        return typeof value === "function" ? value.bind(target) : value
      }
      const method = value as (...args: unknown[]) => unknown
      if (property === "addWatchFile") {
        return (file: unknown) => {
          if (typeof file === "string") memo.dependOn(file)
          return method.call(target, file)
        }
      }
      if (LOG_LEVELS.has(property)) {
        return (log: unknown, position?: unknown) => {
          const materialized = typeof log === "function" ? (log as () => unknown)() : log
          const where = plainPosition(position)
          recording.logs.push({
            level: property as LogLevel,
            log: plainLog(materialized),
            ...(where === undefined ? {} : { position: where }),
          })
          return position === undefined ? method.call(target, materialized) : method.call(target, materialized, position)
        }
      }
      const reason = UNCACHEABLE_CALLS[property]
      if (reason !== undefined) {
        return (...args: unknown[]) => {
          memo.uncacheable(reason)
          return method.apply(target, args)
        }
      }
      return method.bind(target)
    },
  })
}

/** Replay recorded log calls on the real context (a hit). */
export function replayLogs(context: object, logs: readonly RecordedLog[]): void {
  for (const { level, log, position } of logs) {
    const method = (context as Record<string, unknown>)[level]
    if (typeof method !== "function") continue
    if (position === undefined) method.call(context, log)
    else method.call(context, log, position)
  }
}
