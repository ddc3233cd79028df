/**
 * `SqliteStore`: the `Store` of the SQLite backend (schema in schema.ts). One
 * class past 400 lines: its reads, writes, maintenance and fault handling
 * share one connection, its statements and their state (pending access
 * records, the lock state), which splitting would pass around.
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
 * transaction, or at `persist()`, so a warm `get` never writes.
 *
 * Locks: waiting for another process's lock is asynchronous, and gives up
 * only on a lock that nobody makes progress under (see locks.ts). Past the
 * wait the operation throws (the cache turns that into a miss or a dropped
 * write, counted), and when the lock was stuck, later operations stop
 * waiting (one try each) until one gets through: a database locked for
 * minutes costs one bounded wait, not one per operation.
 */
import { statSync } from "node:fs"
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
import { isBusyError, isCorruptError, type OpenedDatabase, quickCheck } from "./database.js"
import type { Database } from "./load.js"
import { QUEUE_FACTOR, retryWhileBusy, sleep, TURN_MS, WaitingSignal } from "./locks.js"
import { moveAside } from "./ownership.js"
import { prepare, type Statements } from "./statements.js"

/** Write access records once this many reads are pending. */
const TOUCH_FLUSH = 10_000
/** Drop access records beyond this many when the database cannot take them. */
const TOUCH_CAP = 100_000
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

function sum(values: readonly number[]): number {
  let total = 0
  for (const value of values) total += value
  return total
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
  /** Entries read since the last write transaction, for `hits` and `accessed`. */
  #touched: number[] = []
  #flushSoon: NodeJS.Immediate | undefined
  /** A wait for a lock ran out on a stuck lock: try once, without waiting, until a read (or a write) gets through. */
  #degraded = { read: false, write: false }
  /** After a commit while others wait: when this writer may take the lock again (0: at once). */
  #turnEnds = 0
  #waiting: WaitingSignal
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
    this.#waiting = new WaitingSignal(options.path)
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
    this.#degraded.read = false
    if (row === undefined) return undefined
    if (!this.readOnly && this.#touched.push(row[0]) >= TOUCH_FLUSH) this.#scheduleFlush()
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
    if (!this.readOnly && this.#touched.push(row[0]) >= TOUCH_FLUSH) this.#scheduleFlush()
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
    if (this.#turnEnds > performance.now()) return this.#afterTurn(run)
    try {
      return this.#transact(run)
    } catch (error) {
      return this.#afterFault("write", error, () => this.#transact(run))
    }
  }

  /** Let the other writers have the lock for a moment before taking it again. */
  async #afterTurn<T>(run: () => T): Promise<T> {
    await sleep(this.#turnEnds - performance.now())
    this.#turnEnds = 0
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
      if (this.maxSize !== undefined) this.#evictLeastRecentlyUsed(this.maxSize, Math.floor(this.maxSize * EVICT_TO))
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
    this.#degraded.write = false
    if (this.#waiting.othersWaiting()) this.#turnEnds = performance.now() + TURN_MS
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
    if (this.#touched.length === 0) return
    const touched = this.#touched
    this.#touched = []
    // Entry ids read since the last commit (an id deleted and reused meanwhile only misplaces a hint).
    const hits = new Map<number, number>()
    for (const entry of touched) hits.set(entry, (hits.get(entry) ?? 0) + 1)
    const now = this.#clock()
    for (const [entry, count] of hits) this.#sql.touch.run(now, count, entry)
  }

  /** Access records alone: one short transaction; `wait` for the lock or try once. */
  #flushTouched(wait: boolean): void | Promise<void> {
    if (this.readOnly || this.#touched.length === 0) return
    const flush = () => this.#transact(() => undefined)
    try {
      flush()
    } catch (error) {
      if (this.#touched.length > TOUCH_CAP) this.#touched = this.#touched.slice(-TOUCH_CAP)
      if (wait) return this.#afterFault("write", error, flush)
      throw error
    }
  }

  /** When more than `limit` bytes are stored, remove least recently used entries until at most `target` remain. */
  #evictLeastRecentlyUsed(limit: number, target = limit): number {
    const totals = this.#sql.totals.get() as { count: number; size: number }
    let total = totals.size
    if (total <= limit) return 0
    let removed = 0
    while (total > target) {
      // Enough rows for the excess at the average entry size, and then some.
      const average = Math.max(1, totals.size / Math.max(1, totals.count))
      const wanted = Math.ceil((total - target) / average) * 2 + 16
      const rows = this.#sql.leastRecentlyUsed.all(wanted) as { entry: number; size: number }[]
      if (rows.length === 0) break
      for (const row of rows) {
        if (total <= target) break
        this.#sql.deleteRow.run(row.entry)
        total -= row.size
        removed++
      }
    }
    this.#evictions += removed
    return removed
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
    this.#touched = []
    return this.#write(() => {
      this.#db.exec("DELETE FROM entries; DELETE FROM access; UPDATE totals SET entry_count = 0, total_size = 0")
      this.#db.pragma("incremental_vacuum")
    })
  }

  prune(options: PruneOptions): PruneResult | Promise<PruneResult> {
    return this.#write((): PruneResult => {
      // Access records first, so `olderThan` sees this process's reads.
      this.#writeTouched()
      const removed: number[] = []
      if (options.olderThan !== undefined)
        removed.push(...(this.#sql.deleteOlder.all(options.now - options.olderThan) as number[]))
      if (options.orphans === true) removed.push(...(this.#sql.deleteOrphans.all(options.prefix.bytes) as number[]))
      removed.push(...(this.#sql.deleteExpired.all(options.now) as number[]))
      let removedCount = removed.length
      let removedSize = sum(removed)
      if (options.maxSize !== undefined) {
        const before = (this.#sql.totals.get() as { size: number }).size
        removedCount += this.#evictLeastRecentlyUsed(options.maxSize)
        removedSize += before - (this.#sql.totals.get() as { size: number }).size
      }
      this.#db.pragma("incremental_vacuum")
      return { removedCount, removedSize }
    })
  }

  /**
   * Remove the entries of every prefix but `keep` whose access record is older
   * than `unusedSince`: one pass over the access table (three integers a row)
   * and a lookup by id of each candidate; no value is read.
   */
  sweep(options: SweepOptions): PruneResult | Promise<PruneResult> {
    return this.#write((): PruneResult => {
      // Access records first, so this process's reads count as use.
      this.#writeTouched()
      const keep = options.keep.map((prefix) => prefix.bytes)
      const sizes = this.#db
        .prepare(
          `DELETE FROM entries WHERE id IN (SELECT entry FROM access WHERE accessed < ?) AND prefix NOT IN (${keep.map(() => "?").join(", ")}) RETURNING size`,
        )
        .pluck()
        .all(options.unusedSince, ...keep) as number[]
      if (sizes.length > 0) this.#db.pragma("incremental_vacuum")
      return { removedCount: sizes.length, removedSize: sum(sizes) }
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
   * (see locks.ts), or move a damaged database aside. Always a promise.
   */
  async #afterFault<T>(kind: "read" | "write", error: unknown, attempt: () => T): Promise<T> {
    this.#usable()
    this.#checkDamage(error)
    if (!isBusyError(error)) throw error
    if (this.#degraded[kind]) throw this.#busyError(error, 0)
    const outcome = await retryWhileBusy(attempt, error, isBusyError, {
      busyTimeout: this.busyTimeout,
      progress: () => this.#dataVersion(),
      stopped: () => this.#closed,
      ...(kind === "write" ? { onBusy: () => this.#waiting.signal() } : {}),
    })
    if (outcome.ok) {
      this.#degraded[kind] = false
      return outcome.value
    }
    // Stop waiting only for a lock that is stuck: when others committed meanwhile, this was contention.
    if (outcome.stuck) this.#degraded[kind] = true
    this.#checkDamage(outcome.last)
    throw this.#busyError(outcome.last, outcome.waited)
  }

  #busyError(last: unknown, waited: number): Error {
    const why =
      waited === 0
        ? "still locked since an earlier operation gave up waiting"
        : `gave up after ${Math.round(waited)} ms (\`sqlite.busyTimeout\` ${this.busyTimeout} ms without a commit by anyone, or ${QUEUE_FACTOR} times that in all)`
    return Object.assign(new Error(`${this.path} is locked by another process; ${why}: ${describe(last)}`, { cause: last }), {
      code: "SQLITE_BUSY",
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

  /**
   * A read or write found the file damaged: when `quick_check` agrees, move it
   * aside and start over with an empty database. The operation itself still
   * fails (a miss or a dropped write).
   */
  #checkDamage(error: unknown): void {
    if (!isCorruptError(error) || this.#closed || this.readOnly || this.#lost !== undefined) return
    let problem: string | undefined
    try {
      problem = quickCheck(this.#db)
    } catch (checkError) {
      problem = describe(checkError)
    }
    if (problem === undefined) return
    this.#touched = []
    try {
      if (this.#db.inTransaction) this.#sql.rollback.run()
    } catch {
      // Nothing to roll back.
    }
    this.#db.close()
    // Another process may have replaced the file already: then only reopen.
    let aside: string | undefined
    try {
      const current = statSafe(this.path)
      if (current !== undefined && this.#file !== undefined && current.dev === this.#file.dev && current.ino === this.#file.ino) {
        aside = moveAside(this.path)
      }
    } catch {
      // Another process moved it first.
    }
    let opened: OpenedDatabase
    try {
      opened = this.#options.reopen()
    } catch (reopenError) {
      this.#lost = reopenError
      this.#options.warn(
        `sitecache: sqlite: ${this.path} is damaged (${problem})${aside === undefined ? "" : `; moved it aside to ${aside}`}, and could not be opened again (${describe(reopenError)}); going on without the cache`,
        error,
      )
      return
    }
    this.#db = opened.db
    this.#file = opened.file
    this.#sql = prepare(this.#db)
    this.#readMany = this.#db.transaction((ids: readonly EntryId[]) => ids.map((id) => this.#select(id)))
    this.#db.pragma("busy_timeout = 0")
    this.#options.warn(
      `sitecache: sqlite: ${this.path} is damaged (${problem})${aside === undefined ? "" : `; moved it aside to ${aside}`}; starting with an empty cache`,
      error,
    )
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function statSafe(path: string): { dev: number; ino: number } | undefined {
  try {
    const stat = statSync(path)
    return { dev: stat.dev, ino: stat.ino }
  } catch {
    return undefined
  }
}
