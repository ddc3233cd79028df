/**
 * `SqliteStore`: the `Store` of the SQLite backend (schema in schema.ts).
 *
 * Reads are one prepared `SELECT` each, on the connection that also holds
 * this process's pending writes, so a process always reads its own writes.
 *
 * Writes go into one write transaction (`BEGIN IMMEDIATE`), opened by the
 * first write and committed by `persist()`, `close()`, the end of the current
 * event-loop turn (a `setImmediate`), or a bound of writes, bytes or age,
 * whichever comes first. So a loop of puts costs one commit, while the write
 * lock, which other processes wait for, is never held across the awaits of a
 * build. Put-if-absent is decided by the database inside that transaction
 * (`INSERT … ON CONFLICT DO UPDATE … WHERE` the existing entry has expired,
 * then `changes`), so it holds across processes.
 *
 * Hits and access times are kept in memory and written with the next commit,
 * so a warm `get` never writes.
 *
 * Locks: SQLite never waits inside a call (`busy_timeout` 0, so the event
 * loop is never blocked); the store retries every millisecond or so,
 * asynchronously, until `busyTimeout`. Past it the operation throws (the
 * cache turns that into a miss or a dropped write, counted), and later
 * operations stop waiting (one try each) until one gets through: a database
 * locked for minutes costs one bounded wait, not one per operation (unless
 * others committed meanwhile: that was contention, not a stuck lock).
 *
 * Writers take turns. SQLite's locks have no queue, so a process putting in a
 * loop (no await that yields to the event loop, so only the bounds end its
 * batches) would take the lock again the moment it committed, and the others
 * would time out. A waiting writer touches `<database>-waiting` while it
 * polls; a writer whose batch ended at a bound looks at that file's time and,
 * when someone else is waiting, pauses `TURN_MS` before taking the lock again.
 */
import { statSync, utimesSync, writeFileSync } from "node:fs"
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
import type { Database, Statement } from "./load.js"
import { moveAside } from "./ownership.js"

/** Pause between two tries for a lock, in ms (jittered). */
const LOCK_POLL_MS = 1
/** Pause of a writer whose batch ended at a bound, when others wait, before it takes the lock again, in ms. */
const TURN_MS = 5
/** A `-waiting` file touched this recently means another writer is waiting, in ms. */
const WAITING_FRESH_MS = 50
/** A waiting writer touches the `-waiting` file at most this often, in ms. */
const WAITING_TOUCH_MS = 5
/** Commit the pending write transaction after this many writes… */
const BATCH_MAX_WRITES = 1000
/** …or this many bytes… */
const BATCH_MAX_BYTES = 8 * 1024 * 1024
/** …or when it is this old, in ms (the end of the event-loop turn usually comes first). */
const BATCH_MAX_AGE_MS = 50
/** …or this old when another writer is waiting. */
const CONTENDED_MAX_AGE_MS = 5
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
  /** Longest wait for a lock, per operation, in ms. */
  readonly busyTimeout: number
  /** Never write: no access tracking, no commits. */
  readonly readOnly: boolean
  /** ms since the epoch, for access times. Default `Date.now`. */
  readonly clock?: () => number
  /** Reopen the database after it was moved aside (runtime damage). */
  readonly reopen: () => OpenedDatabase
  readonly warn: (message: string, cause: unknown) => void
}

interface Statements {
  readonly get: Statement
  readonly add: Statement
  readonly set: Statement
  readonly delete: Statement
  readonly touch: Statement
  readonly totals: Statement
  readonly orphans: Statement
  readonly leastRecentlyUsed: Statement
  readonly deleteRow: Statement
  readonly deleteOlder: Statement
  readonly deleteOrphans: Statement
  readonly deleteExpired: Statement
  readonly page: Statement
  readonly begin: Statement
  readonly commit: Statement
  readonly rollback: Statement
}

function prepare(db: Database): Statements {
  return {
    // [id, value]: the id is what the access record is written under.
    get: db.prepare("SELECT id, value FROM entries WHERE prefix = ? AND key = ?").raw(),
    add: db.prepare(
      `INSERT INTO entries (prefix, key, size, created, expires, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (prefix, key) DO UPDATE SET
         size = excluded.size, created = excluded.created, expires = excluded.expires, value = excluded.value
       WHERE entries.expires != 0 AND entries.expires <= ?`,
    ),
    set: db.prepare(
      `INSERT INTO entries (prefix, key, size, created, expires, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (prefix, key) DO UPDATE SET
         size = excluded.size, created = excluded.created, expires = excluded.expires, value = excluded.value`,
    ),
    delete: db.prepare("DELETE FROM entries WHERE prefix = ? AND key = ?"),
    touch: db.prepare("UPDATE access SET accessed = max(accessed, ?), hits = hits + ? WHERE entry = ?"),
    totals: db.prepare("SELECT entry_count AS count, total_size AS size FROM totals WHERE id = 1"),
    orphans: db.prepare("SELECT count(*) AS count, total(size) AS size FROM entries WHERE prefix != ?"),
    leastRecentlyUsed: db.prepare(
      "SELECT access.entry AS entry, entries.size AS size FROM access JOIN entries ON entries.id = access.entry ORDER BY access.accessed, access.entry LIMIT ?",
    ),
    deleteRow: db.prepare("DELETE FROM entries WHERE id = ?"),
    deleteOlder: db
      .prepare("DELETE FROM entries WHERE id IN (SELECT entry FROM access WHERE accessed <= ?) RETURNING size")
      .pluck(),
    deleteOrphans: db.prepare("DELETE FROM entries WHERE prefix != ? RETURNING size").pluck(),
    deleteExpired: db.prepare("DELETE FROM entries WHERE expires != 0 AND expires <= ? RETURNING size").pluck(),
    page: db.prepare("SELECT id, prefix, key, value FROM entries WHERE id > ? ORDER BY id LIMIT ?"),
    begin: db.prepare("BEGIN IMMEDIATE"),
    commit: db.prepare("COMMIT"),
    rollback: db.prepare("ROLLBACK"),
  }
}

interface Batch {
  readonly started: number
  writes: number
  bytes: number
}

function sum(values: readonly number[]): number {
  let total = 0
  for (const value of values) total += value
  return total
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
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
  #batch: Batch | undefined
  #commitSoon: NodeJS.Immediate | undefined
  /** Entries read since the last commit, for `hits` and `accessed`. */
  #touched: number[] = []
  /** Why writes acknowledged since the last `persist()` were rolled back. */
  #lost: unknown
  /** A wait for a lock ran out: try once, without waiting, until a read (or a write) gets through. */
  #degraded = { read: false, write: false }
  /** After a batch ended at a bound: when this writer may take the lock again (0: at once). */
  #turnEnds = 0
  /** Why this process cannot write the file (a read-only filesystem, permissions): every write throws it. */
  #unwritable: Error | undefined
  /** When this process last touched the `-waiting` file (ms since the epoch). */
  #signalled = 0
  #waitingLooked = { at: 0, waiting: false }
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
    if (!this.readOnly && this.#touched.push(row[0]) >= TOUCH_FLUSH) this.#scheduleCommit()
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
    if (!this.readOnly && this.#touched.push(row[0]) >= TOUCH_FLUSH) this.#scheduleCommit()
    return row[1]
  }

  // --- writes -------------------------------------------------------------

  add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): boolean | Promise<boolean> {
    if (this.maxSize !== undefined && bytes.length > this.maxSize) return false
    return this.#write(bytes.length, () => this.#insert(id, bytes, meta, now))
  }

  addMany(entries: readonly (readonly [EntryId, Uint8Array, EntryMeta])[], now: number): boolean[] | Promise<boolean[]> {
    let bytes = 0
    for (const [, value] of entries) bytes += value.length
    return this.#write(bytes, () =>
      entries.map(([id, value, meta]) =>
        this.maxSize !== undefined && value.length > this.maxSize ? false : this.#insert(id, value, meta, now),
      ),
    )
  }

  #insert(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): boolean {
    return this.#sql.add.run(id.prefix.bytes, id.key.bytes, bytes.length, meta.created, meta.expires, bytes, now).changes > 0
  }

  set(id: EntryId, bytes: Uint8Array, meta: EntryMeta): void | Promise<void> {
    return this.#write(bytes.length, () => {
      this.#sql.set.run(id.prefix.bytes, id.key.bytes, bytes.length, meta.created, meta.expires, bytes)
    })
  }

  delete(id: EntryId): boolean | Promise<boolean> {
    return this.#write(0, () => this.#sql.delete.run(id.prefix.bytes, id.key.bytes).changes > 0)
  }

  deleteMany(ids: readonly EntryId[]): number | Promise<number> {
    return this.#write(0, () => {
      let removed = 0
      for (const id of ids) removed += this.#sql.delete.run(id.prefix.bytes, id.key.bytes).changes
      return removed
    })
  }

  /** Run `run` inside the pending write transaction, opening it (and waiting for the lock) when needed. */
  #write<T>(bytes: number, run: () => T): T | Promise<T> {
    if (this.#unwritable !== undefined) throw this.#unwritable
    if (this.#turnEnds !== 0 && !this.#db.inTransaction) return this.#afterTurn(bytes, run)
    try {
      if (!this.#db.inTransaction) this.#begin()
    } catch (error) {
      return this.#afterFault("write", error, () => {
        if (!this.#db.inTransaction) this.#begin()
        return this.#inBatch(bytes, run)
      })
    }
    this.#degraded.write = false
    return this.#inBatch(bytes, run)
  }

  /** Let the other writers have the lock for a moment before taking it again. */
  async #afterTurn<T>(bytes: number, run: () => T): Promise<T> {
    const left = this.#turnEnds - performance.now()
    if (left > 0) await sleep(left)
    this.#turnEnds = 0
    return this.#write(bytes, run)
  }

  #begin(): void {
    this.#sql.begin.run()
    this.#batch = { started: performance.now(), writes: 0, bytes: 0 }
    this.#scheduleCommit()
  }

  #inBatch<T>(bytes: number, run: () => T): T {
    let result: T
    try {
      result = run()
    } catch (error) {
      // SQLite rolls a whole transaction back on some errors (disk full, I/O): the batch is gone.
      if (!this.#db.inTransaction) this.#dropBatch(error)
      this.#checkDamage(error)
      throw error
    }
    const batch = this.#batch
    if (batch !== undefined) {
      batch.writes++
      batch.bytes += bytes
      const age = performance.now() - batch.started
      if (
        batch.writes >= BATCH_MAX_WRITES ||
        batch.bytes >= BATCH_MAX_BYTES ||
        age >= BATCH_MAX_AGE_MS ||
        (age >= CONTENDED_MAX_AGE_MS && this.#othersWaiting())
      ) {
        this.#commit()
        if (this.#othersWaiting()) this.#turnEnds = performance.now() + TURN_MS
      }
    }
    return result
  }

  #scheduleCommit(): void {
    if (this.#commitSoon !== undefined || this.#closed) return
    this.#commitSoon = setImmediate(() => {
      this.#commitSoon = undefined
      try {
        if (this.#db.inTransaction) this.#commit()
        else if (this.#touched.length >= TOUCH_FLUSH) this.#flushTouched(false)
      } catch {
        // Kept in `#lost` (reported by the next `persist()`) or dropped (access records only).
      }
    })
  }

  /** Write pending access records, evict past `maxSize`, and commit. Throws when the batch is lost. */
  #commit(): void {
    if (this.#commitSoon !== undefined) {
      clearImmediate(this.#commitSoon)
      this.#commitSoon = undefined
    }
    const writes = this.#batch?.writes ?? 0
    this.#batch = undefined
    if (!this.#db.inTransaction) return
    try {
      this.#writeTouched()
      if (this.maxSize !== undefined) this.#evictLeastRecentlyUsed(this.maxSize, Math.floor(this.maxSize * EVICT_TO))
      this.#sql.commit.run()
    } catch (error) {
      if (this.#db.inTransaction) {
        try {
          this.#sql.rollback.run()
        } catch {
          // The connection is gone or the transaction already ended.
        }
      }
      // Access records alone are hints: losing them is not losing writes.
      if (writes > 0) this.#lost ??= error
      this.#checkDamage(error)
      throw error
    }
  }

  #dropBatch(error: unknown): void {
    this.#batch = undefined
    this.#lost ??= error
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

  /** Access records alone (no writes pending): one short transaction; `wait` for the lock or not. */
  #flushTouched(wait: boolean): void | Promise<void> {
    if (this.readOnly || this.#touched.length === 0) return
    const flush = () => {
      if (!this.#db.inTransaction) this.#begin()
      this.#commit()
    }
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

  persist(): void | Promise<void> {
    if (this.readOnly) return
    try {
      if (this.#db.inTransaction) this.#commit()
    } catch (error) {
      // Reported here, once.
      this.#lost = undefined
      throw error
    }
    const flushed = this.#flushTouched(true)
    return flushed instanceof Promise ? flushed.then(() => this.#persisted()) : this.#persisted()
  }

  #persisted(): void {
    const lost = this.#lost
    this.#lost = undefined
    if (lost !== undefined) {
      throw Object.assign(new Error(`writes since the last \`persist\` were rolled back: ${describe(lost)}`, { cause: lost }), {
        code: (lost as { code?: unknown }).code,
      })
    }
  }

  clear(): void | Promise<void> {
    this.#touched = []
    const cleared = this.#write(0, () => {
      this.#db.exec("DELETE FROM entries; DELETE FROM access; UPDATE totals SET entry_count = 0, total_size = 0")
    })
    const vacuum = () => {
      this.#commit()
      this.#db.pragma("incremental_vacuum")
    }
    return cleared instanceof Promise ? cleared.then(vacuum) : vacuum()
  }

  prune(options: PruneOptions): PruneResult | Promise<PruneResult> {
    const pruned = this.#write(0, (): PruneResult => {
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
      return { removedCount, removedSize }
    })
    const finish = (result: PruneResult): PruneResult => {
      this.#commit()
      this.#db.pragma("incremental_vacuum")
      return result
    }
    return pruned instanceof Promise ? pruned.then(finish) : finish(pruned)
  }

  /**
   * Remove the entries of every prefix but `keep` whose access record is older
   * than `unusedSince`: one pass over the access table (three integers a row)
   * and a lookup by id of each candidate; no value is read.
   */
  sweep(options: SweepOptions): PruneResult | Promise<PruneResult> {
    const swept = this.#write(0, (): PruneResult => {
      this.#writeTouched()
      const keep = options.keep.map((prefix) => prefix.bytes)
      const sizes = this.#db
        .prepare(
          `DELETE FROM entries WHERE id IN (SELECT entry FROM access WHERE accessed < ?) AND prefix NOT IN (${keep.map(() => "?").join(", ")}) RETURNING size`,
        )
        .pluck()
        .all(options.unusedSince, ...keep) as number[]
      return { removedCount: sizes.length, removedSize: sum(sizes) }
    })
    const finish = (result: PruneResult): PruneResult => {
      this.#commit()
      if (result.removedCount > 0) this.#db.pragma("incremental_vacuum")
      return result
    }
    return swept instanceof Promise ? swept.then(finish) : finish(swept)
  }

  async *entries(): AsyncIterable<StoredEntry> {
    let after = 0
    for (;;) {
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
      if (!this.readOnly) {
        // Never wait at close: another process holding the lock costs the last access records, nothing else.
        try {
          if (this.#db.inTransaction) this.#commit()
          else this.#flushTouched(false)
        } finally {
          try {
            this.#db.pragma("wal_checkpoint(TRUNCATE)")
          } catch {
            // Another process is using the database; the last one to close checkpoints.
          }
        }
      }
    } finally {
      this.#closed = true
      if (this.#commitSoon !== undefined) clearImmediate(this.#commitSoon)
      this.#db.close()
      this.#release?.()
    }
  }

  // --- faults -------------------------------------------------------------

  /**
   * After `error` from a first attempt: wait for a lock and retry `attempt`
   * until `busyTimeout`, or move a damaged database aside. Always a promise.
   */
  async #afterFault<T>(kind: "read" | "write", error: unknown, attempt: () => T): Promise<T> {
    this.#checkDamage(error)
    if (!isBusyError(error)) throw error
    const started = performance.now()
    const versionBefore = this.#dataVersion()
    let last = error
    while (!this.#degraded[kind] && !this.#closed && performance.now() - started < this.busyTimeout) {
      await sleep(LOCK_POLL_MS * (0.5 + Math.random()))
      if (this.#closed) break
      try {
        const result = attempt()
        this.#degraded[kind] = false
        return result
      } catch (again) {
        this.#checkDamage(again)
        if (!isBusyError(again)) throw again
        last = again
        if (kind === "write") this.#signalWaiting()
      }
    }
    // Stop waiting only for a lock that is stuck: when others committed meanwhile, this was contention.
    const versionAfter = this.#closed ? undefined : this.#dataVersion()
    if (versionBefore === undefined || versionBefore === versionAfter) this.#degraded[kind] = true
    throw Object.assign(
      new Error(
        `${this.path} is locked by another process; gave up after ${this.busyTimeout} ms (\`sqlite.busyTimeout\`): ${describe(last)}`,
        { cause: last },
      ),
      { code: "SQLITE_BUSY" },
    )
  }

  /** Tell the writer holding the lock that this one is waiting (see the file comment). */
  #signalWaiting(): void {
    const now = Date.now()
    if (now - this.#signalled < WAITING_TOUCH_MS) return
    this.#signalled = now
    const file = `${this.path}-waiting`
    try {
      utimesSync(file, now / 1000, now / 1000)
    } catch {
      try {
        writeFileSync(file, "", { mode: 0o600 })
      } catch {
        // Only a hint.
      }
    }
  }

  /** Whether another writer touched the `-waiting` file lately (looked at no more than every `WAITING_TOUCH_MS`). */
  #othersWaiting(): boolean {
    const now = Date.now()
    if (now - this.#waitingLooked.at < WAITING_TOUCH_MS) return this.#waitingLooked.waiting
    let waiting = false
    try {
      // No file: nobody ever waited (asked without an exception, which made a look cost 5 times as much).
      const touched = statSync(`${this.path}-waiting`, { throwIfNoEntry: false })?.mtimeMs
      waiting = touched !== undefined && now - touched < WAITING_FRESH_MS && Math.abs(touched - this.#signalled) > 1
    } catch {
      // Unreadable: as if nobody waited.
    }
    this.#waitingLooked = { at: now, waiting }
    return waiting
  }

  /** Changes when another connection commits; `undefined` when the database cannot even be read. */
  #dataVersion(): number | undefined {
    try {
      return this.#db.pragma("data_version", { simple: true }) as number
    } catch {
      return undefined
    }
  }

  /**
   * A read or write found the file damaged: when `quick_check` agrees, move it
   * aside and start over with an empty database (pending writes are lost).
   * The operation itself still fails (a miss or a dropped write).
   */
  #checkDamage(error: unknown): void {
    if (!isCorruptError(error) || this.#closed || this.readOnly) return
    let problem: string | undefined
    try {
      problem = quickCheck(this.#db)
    } catch (checkError) {
      problem = describe(checkError)
    }
    if (problem === undefined) return
    this.#dropBatch(error)
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
    const opened = this.#options.reopen()
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
