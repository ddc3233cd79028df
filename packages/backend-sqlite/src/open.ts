/**
 * Opening a SQLite store on one database file (see backend.ts for the
 * backend's descriptor and `createSqliteCache`).
 */
import type { EntryId, PruneResult, Store, StoredEntry, StoreStats } from "@sitecache/core"
import { isBusyError, type NotUsed, notUsedMessage, type OpenedDatabase, openDatabase } from "./database.js"
import { loadBetterSqlite3 } from "./load.js"
import { DEFAULT_BUSY_TIMEOUT, type QuickCheck } from "./options.js"
import { SqliteStore } from "./store.js"

export interface OpenSqliteStoreOptions {
  /** The database file. */
  readonly path: string
  /** The option that named the file, for errors. Default `path`. */
  readonly pathOption?: string
  readonly maxSize?: number
  readonly busyTimeout?: number
  readonly quickCheck?: QuickCheck
  /** Never write (the cache's `read-only` mode). */
  readonly readOnly?: boolean
  /** Where `better-sqlite3` may also be found (a project root). */
  readonly root?: string
  readonly clock?: () => number
  /** Where warnings go (a database moved aside). Default `process.emitWarning`. */
  readonly onWarning?: (message: string, cause: unknown) => void
}

function defaultWarning(message: string): void {
  process.emitWarning(message, { type: "SitecacheWarning" })
}

/** Open (creating when missing) a SQLite store at `options.path`. */
export async function openSqliteStore(options: OpenSqliteStoreOptions): Promise<Store> {
  const Database = await loadBetterSqlite3(options.root)
  const busyTimeout = options.busyTimeout ?? DEFAULT_BUSY_TIMEOUT
  const warn = options.onWarning ?? defaultWarning
  const where = { path: options.path, pathOption: options.pathOption ?? "path" }
  const open = () =>
    openDatabase(Database, {
      ...where,
      readOnly: options.readOnly === true,
      quickCheck: options.quickCheck ?? "auto",
      lockWait: busyTimeout,
      warn,
    })
  let opened: OpenedDatabase | NotUsed
  try {
    opened = await openWaiting(open, busyTimeout)
  } catch (error) {
    // Locked by another process past the bound: this build goes on without the cache.
    if (isBusyError(error)) return new UnavailableStore(`sqlite (${options.path})`, error)
    throw error
  }
  if ("notUsed" in opened) {
    warn(notUsedMessage(where, opened.notUsed, opened.file), opened.cause)
    return new NotUsedStore(`sqlite (${options.path}, not used)`)
  }
  return new SqliteStore(opened, {
    path: options.path,
    busyTimeout,
    readOnly: options.readOnly === true,
    reopen: () => {
      const again = open()
      if ("notUsed" in again) throw new Error(notUsedMessage(where, again.notUsed, again.file))
      return again
    },
    warn,
    ...(options.maxSize === undefined ? {} : { maxSize: options.maxSize }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  })
}

/** Tries at opening a database that another process holds locked (each waits up to `busyTimeout`). */
const OPEN_TRIES = 3

/**
 * Open, trying again when another process holds the lock the open needs:
 * the last connection to close holds the whole file while it checkpoints and
 * removes the WAL, and the first to open holds the WAL index while it
 * rebuilds it. Each try waits up to `busyTimeout` inside SQLite (an open is
 * once per build).
 */
async function openWaiting<T>(open: () => T, busyTimeout: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return open()
    } catch (error) {
      if (!isBusyError(error) || attempt >= OPEN_TRIES) throw error
      await new Promise((resolve) => setTimeout(resolve, Math.min(busyTimeout, 50) * Math.random()))
    }
  }
}

/**
 * The store of a cache path whose file is not recognizably sitecache's (or
 * is a newer sitecache's): nothing is read from it or written to it. Reads
 * miss and writes are dropped without an error each: the one warning at open
 * said why.
 */
class NotUsedStore implements Store {
  readonly name: string
  constructor(name: string) {
    this.name = name
  }
  get(): undefined {
    return undefined
  }
  add(): boolean {
    return false
  }
  set(): void {}
  delete(): boolean {
    return false
  }
  stats(): StoreStats {
    return { size: 0, entryCount: 0 }
  }
  prune(): PruneResult {
    return { removedCount: 0, removedSize: 0 }
  }
  async *entries(): AsyncIterable<StoredEntry> {}
  clear(): void {}
  close(): void {}
}

/**
 * The store of a database that could not be opened because another process
 * held its lock past the bound: every operation fails (the cache counts it,
 * warns once and goes on without caching).
 */
class UnavailableStore implements Store {
  readonly name: string
  readonly #error: unknown
  constructor(name: string, error: unknown) {
    this.name = name
    this.#error = error
  }
  #fail(): never {
    throw this.#error
  }
  get(_id: EntryId): undefined {
    this.#fail()
  }
  add(): boolean {
    this.#fail()
  }
  set(): void {
    this.#fail()
  }
  delete(): boolean {
    this.#fail()
  }
  stats(): StoreStats {
    this.#fail()
  }
  clear(): void {
    this.#fail()
  }
  close(): void {}
}
