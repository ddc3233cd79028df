/**
 * Options of the SQLite backend, checked when a store is created: a bad value
 * throws `BadOptionError` naming the option (`sqlite.busyTimeout` through
 * `createCache`, `busyTimeout` through `createSqliteCache`).
 */
import { BadOptionError, type OptionSchema, optionChecks } from "@sitecache/core"

/** When `PRAGMA quick_check` runs at open. */
export type QuickCheck = "auto" | "always" | "never"

/** The database-specific options, as `createCache({ sqlite: { … } })` takes them. */
export interface SqliteOptions {
  /** Database file. Default `<dir>/cache.db`; a relative path is resolved against the project root. */
  readonly path?: string
  /**
   * Longest wait, in ms, for a lock another process holds while nobody
   * commits: a lock held and not used. While other processes commit, a
   * waiting operation keeps its place (up to 30 times this in all). Past the
   * wait a read is a miss and a write is dropped (counted as errors), and
   * after a stuck lock later operations stop waiting until it is gone.
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

/** The schema of `SqliteOptions` (see core's `checkOptions`): the `sqlite` object of `createCache`, and part of `createSqliteCache`'s. */
export const SQLITE_OPTIONS: OptionSchema = {
  path: optionChecks.string,
  busyTimeout: (value, option) => {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
      throw new BadOptionError(option, `expected a number of ms ≥ 0, got ${JSON.stringify(value)}`)
    return value
  },
  quickCheck: optionChecks.oneOf(QUICK_CHECKS),
}
