/**
 * The SQLite backend's descriptor, what `createCache({ backend: "sqlite" })`
 * opens (see core's `Backend`), and `createSqliteCache(options)`, which opens
 * it from typed options.
 */
import { existsSync } from "node:fs"
import { join, resolve } from "node:path"
import {
  type Backend,
  type BackendContext,
  CacheNotFoundError,
  DEFAULT_MAX_SIZE,
  openBackend,
  type Store,
  type StoreCache,
  type StoreCacheOptions,
} from "@sitecache/core"
import { openSqliteStore } from "./open.js"
import { SQLITE_OPTIONS, type SqliteOptions } from "./options.js"

/** The database file: `sqlite.path` (relative to the project root), else `<dir>/cache.db`. */
function databaseFile(context: BackendContext): string {
  const path = context.options.path as string | undefined
  return path === undefined ? join(context.dir, "cache.db") : resolve(context.root, path)
}

/**
 * One database file, `<dir>/cache.db` unless `path` names another. With
 * `context.create` false, a missing file is `CacheNotFoundError` (before
 * `better-sqlite3` is loaded), and nothing is created.
 */
export const backend: Backend = {
  name: "sqlite",
  options: SQLITE_OPTIONS,
  defaultMaxSize: DEFAULT_MAX_SIZE,
  persistent: true,
  location: databaseFile,
  open(context: BackendContext): Promise<Store> {
    const own = context.options as SqliteOptions
    const path = databaseFile(context)
    if (!context.create && !existsSync(path)) throw new CacheNotFoundError("sqlite", path)
    return openSqliteStore({
      path,
      pathOption: own.path === undefined ? "dir" : `${context.scope}path`,
      readOnly: context.mode === "read-only",
      root: context.root,
      ...(context.maxSize === undefined ? {} : { maxSize: context.maxSize }),
      ...(own.busyTimeout === undefined ? {} : { busyTimeout: own.busyTimeout }),
      ...(own.quickCheck === undefined ? {} : { quickCheck: own.quickCheck }),
      ...(context.clock === undefined ? {} : { clock: context.clock }),
      ...(context.onWarning === undefined ? {} : { onWarning: context.onWarning }),
    })
  },
}

export interface SqliteCacheOptions extends StoreCacheOptions, SqliteOptions {
  /** Cache directory: the database is `<dir>/cache.db`. Default `node_modules/.cache/sitecache` under `root`. */
  readonly dir?: string
  /** Project root: a relative `dir` or `path` is relative to it. Default the current directory. */
  readonly root?: string
  /** Evict least recently used entries past this size: bytes, or `"500 MB"`. Default 1 GiB (`DEFAULT_MAX_SIZE`). */
  readonly maxSize?: number | string
}

/**
 * A cache on one SQLite database file. Every option, the cache's included,
 * is checked before the database is opened.
 *
 * @example
 * const cache = await createSqliteCache({ dir: "node_modules/.cache/sitecache", maxSize: "1 GB" })
 */
export function createSqliteCache(options: SqliteCacheOptions = {}): Promise<StoreCache> {
  return openBackend(backend, options)
}
