/**
 * `SqliteStore`: the `Store` of the SQLite backend (schema in schema.ts). Its
 * parts: access.ts (access records, written in batches), locks.ts (waiting
 * for locks, and taking turns), maintenance.ts (eviction, prune, sweep),
 * recovery.ts (a database damaged while in use).
 *
 * Reads are one prepared `SELECT` each.
 *
 * Writes: every write call (`add`, `addMany`, `set`, `delete`, …) is one
 * short transaction (`BEGIN IMMEDIATE` … `COMMIT`), run synchronously and
 * committed before the call returns. So `add` returns `true` only for an
 * entry that is committed (it survives the process being killed), a write
 * that cannot be committed (a full disk) throws and is counted as an error,
 * never as a put, and the write lock, which other processes wait for, is held
 * only for the statements themselves: never across an await or a render of
 * the build. Many entries in one call (`addMany`) share one transaction.
 * Put-if-absent is decided by the database inside the transaction (`INSERT …
 * ON CONFLICT DO UPDATE … WHERE` the existing entry has expired, then
 * `changes`), so it holds across processes.
 *
 * Hits and access times are kept in memory and written with the next write
 * transaction, or at `persist()`, so a warm `get` never writes (access.ts).
 *
 * Locks: waiting for another process's lock is asynchronous, and gives up
 * only on a lock that nobody makes progress under (see locks.ts). Past the
 * wait the operation throws (the cache turns that into a miss or a dropped
 * write, counted), and when the lock was stuck, later operations stop
 * waiting (one try each) until one gets through: a database locked for
 * minutes costs one bounded wait, not one per operation.
 */
import {
  type EntryId,
  type EntryMeta,
  Key,
  type PruneOptions,
  type PruneResult,
  type Store,
  type StoredEntry,
  type StoreStats,
  type SweepOptions,
} from "@sitecache/core"
import { AccessRecords } from "./access.js"
import { isBusyError, isCorruptError, type OpenedDatabase } from "./database.js"
import type { Database } from "./load.js"
import { LockWaits } from "./locks.js"
import { evictLeastRecentlyUsed, pruneEntries, sweepEntries } from "./maintenance.js"
import { recoverFromDamage } from "./recovery.js"
import { prepare, type Statements } from "./statements.js"

/** Rows read per page by `entries()`. */
const PAGE = 128
/** Past `maxSize`, evict down to this share of it, so eviction (a sort of the access table) is rare. */
const EVICT_TO = 0.9

export interface SqliteStoreOptions {
  /** The database file (for messages and recovery). */
  readonly path: string
  /** Least-recently-used eviction past this many bytes (sum of entry sizes). */
  readonly maxSize?: number
  /** Give up waiting for a lock after this many ms without a commit by another process (see locks.ts). */
  readonly busyTimeout: number
  /** Never write: no access tracking, no commits. */
  readonly readOnly: boolean
  /** ms since the epoch, for access times. Default `Date.now`. */
  readonly clock?: () => number
  /** Reopen the database after it was moved aside (runtime damage). */
  readonly reopen: () => OpenedDatabase
  readonly warn: (message: string, cause: unknown) => void
}

export class SqliteStore implements Store {
  readonly name: string
  readonly path: string
  readonly maxSize: number | undefined
  readonly busyTimeout: number
  readonly readOnly: boolean
  #options: SqliteStoreOptions
  #clock: () => number
  #db: Database
  #file: OpenedDatabase["file"]
  #release: OpenedDatabase["release"]
  #sql: Statements
  #readMany: (ids: readonly EntryId[]) => (Uint8Array | undefined)[]
  readonly #access = new AccessRecords()
  #flushSoon: NodeJS.Immediate | undefined
  readonly #locks: LockWaits
  /** Why this process cannot write the file (a read-only filesystem, permissions): every write throws it. */
  #unwritable: Error | undefined
  /** Why the database could not be reopened after damage: every operation throws it. */
  #lost: unknown
  #evictions = 0
  #closed = false

  constructor(opened: OpenedDatabase, options: SqliteStoreOptions) {
    this.#options = options
    this.path = options.path
    this.name = `sqlite (${options.path})`
    this.maxSize = options.maxSize
    this.busyTimeout = options.busyTimeout
    this.#unwritable = opened.unwritable
    this.readOnly = options.readOnly || opened.unwritable !== undefined
    this.#clock = options.clock ?? Date.now
    this.#locks = new LockWaits(options.path, options.busyTimeout)
    this.#db = opened.db
    this.#file = opened.file
    this.#release = opened.release
    this.#sql = prepare(this.#db)
    this.#readMany = this.#db.transaction((ids: readonly EntryId[]) => ids.map((id) => this.#select(id)))
    this.#db.pragma("busy_timeout = 0")
  }

  // --- reads --------------------------------------------------------------

  get(id: EntryId): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    let row: [number, Uint8Array] | undefined
    try {
      row = this.#sql.get.get(id.prefix.bytes, id.key.bytes) as [number, Uint8Array] | undefined
    } catch (error) {
      return this.#afterFault("read", error, () => this.#select(id))
    }
    this.#locks.read()
    if (row === undefined) return undefined
    if (!this.readOnly && this.#access.note(row[0])) this.#scheduleFlush()
    return row[1]
  }

  getMany(ids: readonly EntryId[]): (Uint8Array | undefined)[] | Promise<(Uint8Array | undefined)[]> {
    try {
      return this.#readMany(ids)
    } catch (error) {
      return this.#afterFault("read", error, () => this.#readMany(ids))
    }
  }

  #select(id: EntryId): Uint8Array | undefined {
    const row = this.#sql.get.get(id.prefix.bytes, id.key.bytes) as [number, Uint8Array] | undefined
    if (row === undefined) return undefined
    if (!this.readOnly && this.#access.note(row[0])) this.#scheduleFlush()
    return row[1]
  }

  // --- writes -------------------------------------------------------------

  add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): boolean | Promise<boolean> {
    if (this.maxSize !== undefined && bytes.length > this.maxSize) return false
    return this.#write(() => this.#insert(id, bytes, meta, now))
  }

  addMany(entries: readonly (readonly [EntryId, Uint8Array, EntryMeta])[], now: number): boolean[] | Promise<boolean[]> {
    return this.#write(() =>
      entries.map(([id, value, meta]) =>
        this.maxSize !== undefined && value.length > this.maxSize ? false : this.#insert(id, value, meta, now),
      ),
    )
  }

  #insert(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): boolean {
    return this.#sql.add.run(id.prefix.bytes, id.key.bytes, bytes.length, meta.created, meta.expires, bytes, now).changes > 0
  }

  set(id: EntryId, bytes: Uint8Array, meta: EntryMeta): void | Promise<void> {
    return this.#write(() => {
      this.#sql.set.run(id.prefix.bytes, id.key.bytes, bytes.length, meta.created, meta.expires, bytes)
    })
  }

  delete(id: EntryId): boolean | Promise<boolean> {
    return this.#write(() => this.#sql.delete.run(id.prefix.bytes, id.key.bytes).changes > 0)
  }

  deleteMany(ids: readonly EntryId[]): number | Promise<number> {
    return this.#write(() => {
      let removed = 0
      for (const id of ids) removed += this.#sql.delete.run(id.prefix.bytes, id.key.bytes).changes
      return removed
    })
  }

  /** Run `run` in a write transaction of its own, waiting for the lock when another process holds it. */
  #write<T>(run: () => T): T | Promise<T> {
    if (this.#unwritable !== undefined) throw this.#unwritable
    if (this.#locks.owesTurn) return this.#afterTurn(run)
    try {
      return this.#transact(run)
    } catch (error) {
      return this.#afterFault("write", error, () => this.#transact(run))
    }
  }

  /** Let the other writers have the lock for a moment before taking it again. */
  async #afterTurn<T>(run: () => T): Promise<T> {
    await this.#locks.takeTurn()
    return this.#write(run)
  }

  /**
   * One write transaction, synchronously: `run`, the pending access records,
   * eviction past `maxSize`, and the commit. Throws (having rolled back) when
   * any of it fails; a busy error means nothing was done.
   */
  #transact<T>(run: () => T): T {
    this.#usable()
    this.#sql.begin.run()
    let result: T
    try {
      result = run()
      this.#writeTouched()
      if (this.maxSize !== undefined)
        this.#evictions += evictLeastRecentlyUsed(this.#sql, this.maxSize, Math.floor(this.maxSize * EVICT_TO))
      this.#sql.commit.run()
    } catch (error) {
      if (this.#db.inTransaction) {
        try {
          this.#sql.rollback.run()
        } catch {
          // SQLite rolled it back already (disk full, I/O errors).
        }
      }
      this.#checkDamage(error)
      throw error
    }
    this.#locks.committed()
    return result
  }

  #scheduleFlush(): void {
    if (this.#flushSoon !== undefined || this.#closed) return
    this.#flushSoon = setImmediate(() => {
      this.#flushSoon = undefined
      try {
        this.#flushTouched(false)
      } catch {
        // Access records only: kept for the next write (up to `TOUCH_CAP`).
      }
    })
  }

  /** Access records into the open transaction. */
  #writeTouched(): void {
    this.#access.writeInto(this.#sql.touch, this.#clock())
  }

  /** Access records alone: one short transaction; `wait` for the lock or try once. */
  #flushTouched(wait: boolean): void | Promise<void> {
    if (this.readOnly || this.#access.pending === 0) return
    const flush = () => this.#transact(() => undefined)
    try {
      flush()
    } catch (error) {
      this.#access.trim()
      if (wait) return this.#afterFault("write", error, flush)
      throw error
    }
  }

  // --- maintenance --------------------------------------------------------

  stats(prefix: Key): StoreStats | Promise<StoreStats> {
    const read = (): StoreStats => {
      this.#usable()
      const totals = this.#sql.totals.get() as { count: number; size: number }
      const orphans = this.#sql.orphans.get(prefix.bytes) as { count: number; size: number }
      return {
        size: totals.size,
        entryCount: totals.count,
        evictions: this.#evictions,
        orphanedCount: orphans.count,
        orphanedSize: orphans.size,
      }
    }
    try {
      return read()
    } catch (error) {
      return this.#afterFault("read", error, read)
    }
  }

  /** Every write is committed when it returns: what is left are the access records. */
  persist(): void | Promise<void> {
    return this.#flushTouched(true)
  }

  clear(): void | Promise<void> {
    this.#access.clear()
    return this.#write(() => {
      this.#db.exec("DELETE FROM entries; DELETE FROM access; UPDATE totals SET entry_count = 0, total_size = 0")
      this.#db.pragma("incremental_vacuum")
    })
  }

  /** See maintenance.ts. */
  prune(options: PruneOptions): PruneResult | Promise<PruneResult> {
    return this.#write((): PruneResult => {
      // Access records first, so `olderThan` sees this process's reads.
      this.#writeTouched()
      const { evicted, ...result } = pruneEntries(this.#db, this.#sql, options)
      this.#evictions += evicted
      return result
    })
  }

  /** See maintenance.ts. */
  sweep(options: SweepOptions): PruneResult | Promise<PruneResult> {
    return this.#write((): PruneResult => {
      // Access records first, so this process's reads count as use.
      this.#writeTouched()
      return sweepEntries(this.#db, options)
    })
  }

  async *entries(): AsyncIterable<StoredEntry> {
    let after = 0
    for (;;) {
      this.#usable()
      const rows = this.#sql.page.all(after, PAGE) as { id: number; prefix: Uint8Array; key: Uint8Array; value: Uint8Array }[]
      for (const row of rows) {
        after = row.id
        // A row whose key is not 16 bytes cannot be named; `verify` sees the rest.
        if (row.prefix.length !== 16 || row.key.length !== 16) continue
        yield { id: { prefix: new Key(row.prefix), key: new Key(row.key) }, bytes: row.value }
      }
      if (rows.length < PAGE) return
    }
  }

  close(): void {
    if (this.#closed) return
    try {
      // Never wait at close: another process holding the lock costs the last access records, nothing else.
      // No checkpoint either: a `TRUNCATE` checkpoint holds the write lock while it copies the WAL into the
      // file, and the others' writes wait on it with nobody committing. SQLite checkpoints as the WAL grows,
      // and the last connection to close checkpoints and removes the WAL.
      if (!this.readOnly && this.#lost === undefined) this.#flushTouched(false)
    } catch {
      // Access records only.
    } finally {
      this.#closed = true
      if (this.#flushSoon !== undefined) clearImmediate(this.#flushSoon)
      if (this.#db.open) this.#db.close()
      this.#release?.()
    }
  }

  // --- faults -------------------------------------------------------------

  /**
   * After `error` from a first attempt: wait for the lock and retry `attempt`
   * (see locks.ts), or recover from a damaged database. Always a promise.
   */
  async #afterFault<T>(kind: "read" | "write", error: unknown, attempt: () => T): Promise<T> {
    this.#usable()
    this.#checkDamage(error)
    if (!isBusyError(error)) throw error
    return this.#locks.retry(kind, error, attempt, {
      isBusy: isBusyError,
      progress: () => this.#dataVersion(),
      stopped: () => this.#closed,
      giveUp: (last) => this.#checkDamage(last),
    })
  }

  /** Changes when another connection commits; `undefined` when the database cannot even be read. */
  #dataVersion(): number | undefined {
    try {
      return this.#db.pragma("data_version", { simple: true }) as number
    } catch {
      return undefined
    }
  }

  /** Throw why the database is gone, when it could not be reopened after damage. */
  #usable(): void {
    if (this.#lost !== undefined) throw this.#lost
  }

  /** A read or write found the file damaged: see recovery.ts. The operation itself still fails. */
  #checkDamage(error: unknown): void {
    if (!isCorruptError(error) || this.#closed || this.readOnly || this.#lost !== undefined) return
    const outcome = recoverFromDamage(error, {
      db: this.#db,
      path: this.path,
      file: this.#file,
      reopen: this.#options.reopen,
      warn: this.#options.warn,
    })
    if (outcome === undefined) return
    this.#access.clear()
    if ("lost" in outcome) {
      this.#lost = outcome.lost
      return
    }
    this.#use(outcome.opened)
  }

  #use(opened: OpenedDatabase): void {
    this.#db = opened.db
    this.#file = opened.file
    this.#sql = prepare(this.#db)
    this.#readMany = this.#db.transaction((ids: readonly EntryId[]) => ids.map((id) => this.#select(id)))
    this.#db.pragma("busy_timeout = 0")
  }
}
