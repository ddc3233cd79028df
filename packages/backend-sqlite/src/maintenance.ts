/**
 * Removing entries in bulk, inside a write transaction the store opened:
 * least-recently-used eviction past `maxSize`, `prune` and the end-of-build
 * `sweep`. The access table (three integers a row) decides; no value is read.
 */
import type { PruneOptions, PruneResult, SweepOptions } from "@sitecache/core"
import type { Database } from "./load.js"
import type { Statements } from "./statements.js"

function sum(values: readonly number[]): number {
  let total = 0
  for (const value of values) total += value
  return total
}

/** When more than `limit` bytes are stored, remove least recently used entries until at most `target` remain; returns how many. */
export function evictLeastRecentlyUsed(sql: Statements, limit: number, target = limit): number {
  const totals = sql.totals.get() as { count: number; size: number }
  let total = totals.size
  if (total <= limit) return 0
  let removed = 0
  while (total > target) {
    // Enough rows for the excess at the average entry size, and then some.
    const average = Math.max(1, totals.size / Math.max(1, totals.count))
    const wanted = Math.ceil((total - target) / average) * 2 + 16
    const rows = sql.leastRecentlyUsed.all(wanted) as { entry: number; size: number }[]
    if (rows.length === 0) break
    for (const row of rows) {
      if (total <= target) break
      sql.deleteRow.run(row.entry)
      total -= row.size
      removed++
    }
  }
  return removed
}

/** Remove old, orphaned and expired entries, then least recently used ones past `maxSize`. */
export function pruneEntries(db: Database, sql: Statements, options: PruneOptions): PruneResult & { evicted: number } {
  const removed: number[] = []
  if (options.olderThan !== undefined) removed.push(...(sql.deleteOlder.all(options.now - options.olderThan) as number[]))
  if (options.orphans === true) removed.push(...(sql.deleteOrphans.all(options.prefix.bytes) as number[]))
  removed.push(...(sql.deleteExpired.all(options.now) as number[]))
  let removedCount = removed.length
  let removedSize = sum(removed)
  let evicted = 0
  if (options.maxSize !== undefined) {
    const before = (sql.totals.get() as { size: number }).size
    evicted = evictLeastRecentlyUsed(sql, options.maxSize)
    removedCount += evicted
    removedSize += before - (sql.totals.get() as { size: number }).size
  }
  db.pragma("incremental_vacuum")
  return { removedCount, removedSize, evicted }
}

/**
 * Remove the entries of every prefix but `keep` whose access record is older
 * than `unusedSince`: one pass over the access table and a lookup by id of
 * each candidate.
 */
export function sweepEntries(db: Database, options: SweepOptions): PruneResult {
  const keep = options.keep.map((prefix) => prefix.bytes)
  const sizes = db
    .prepare(
      `DELETE FROM entries WHERE id IN (SELECT entry FROM access WHERE accessed < ?) AND prefix NOT IN (${keep.map(() => "?").join(", ")}) RETURNING size`,
    )
    .pluck()
    .all(options.unusedSince, ...keep) as number[]
  if (sizes.length > 0) db.pragma("incremental_vacuum")
  return { removedCount: sizes.length, removedSize: sum(sizes) }
}
