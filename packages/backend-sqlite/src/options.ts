/**
 * Options of the SQLite backend, checked when a store is created: a bad value
 * throws `BadOptionError` naming the option (`sqlite.busyTimeout` through
 * `createCache`, `busyTimeout` through `createSqliteCache`).
 */
import { BadOptionError, parseSize } from "@sitecache/core"

/** When `PRAGMA quick_check` runs at open. */
export type QuickCheck = "auto" | "always" | "never"

/** The database-specific options, as `createCache({ sqlite: { … } })` takes them. */
export interface SqliteOptions {
  /** Database file. Default `<dir>/cache.db`; a relative path is resolved against the project root. */
  readonly path?: string
  /**
   * Longest wait, in ms, for a database another process has locked, per
   * operation. Past it a read is a miss and a write is dropped (counted as
   * errors), and later operations stop waiting until the lock is gone.
   * Default 1000.
   */
  readonly busyTimeout?: number
  /**
   * `auto` (default): check the whole file with `PRAGMA quick_check` at open
   * when the last session did not close it cleanly (a `-wal` file is left
   * over); `always`: at every open (costs about 0.7 ms per MB); `never`.
   * Damage found later, by a read, is handled the same way.
   */
  readonly quickCheck?: QuickCheck
}

export const DEFAULT_BUSY_TIMEOUT = 1000
const QUICK_CHECKS: readonly QuickCheck[] = ["auto", "always", "never"]
const KNOWN = new Set(["path", "busyTimeout", "quickCheck"])

/** Check the values of `SqliteOptions` found in `raw`; `prefix` is how the user spelled their parent (`sqlite.`). */
export function checkSqliteOptions(raw: Readonly<Record<string, unknown>>, prefix: string, known = KNOWN): SqliteOptions {
  for (const name of Object.keys(raw)) {
    if (!known.has(name)) {
      throw new BadOptionError(
        `${prefix}${name}`,
        `unknown option; the SQLite backend knows ${[...KNOWN].map((k) => `\`${prefix}${k}\``).join(", ")}`,
      )
    }
  }
  const { path, busyTimeout, quickCheck } = raw
  if (path !== undefined && (typeof path !== "string" || path === "")) {
    throw new BadOptionError(`${prefix}path`, `expected a non-empty string, got ${JSON.stringify(path)}`)
  }
  if (busyTimeout !== undefined && (typeof busyTimeout !== "number" || !Number.isFinite(busyTimeout) || busyTimeout < 0)) {
    throw new BadOptionError(`${prefix}busyTimeout`, `expected a number of ms ≥ 0, got ${JSON.stringify(busyTimeout)}`)
  }
  if (quickCheck !== undefined && !QUICK_CHECKS.includes(quickCheck as QuickCheck)) {
    throw new BadOptionError(
      `${prefix}quickCheck`,
      `expected ${QUICK_CHECKS.map((q) => `"${q}"`).join(", ")}, got ${JSON.stringify(quickCheck)}`,
    )
  }
  return {
    ...(path === undefined ? {} : { path: path as string }),
    ...(busyTimeout === undefined ? {} : { busyTimeout: busyTimeout as number }),
    ...(quickCheck === undefined ? {} : { quickCheck: quickCheck as QuickCheck }),
  }
}

/** `maxSize` as bytes: a number, or a size such as `"500 MB"`. */
export function checkMaxSize(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== "number" && typeof value !== "string") {
    throw new BadOptionError(option, `expected a size such as "500 MB" or a number of bytes, got ${JSON.stringify(value)}`)
  }
  return parseSize(value, option)
}
