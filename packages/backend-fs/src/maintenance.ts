/**
 * Removing entries in bulk: least-recently-used eviction past `maxSize`,
 * `prune`, the end-of-build `sweep`, `clean` of temporary files left by
 * killed writers, and empty directories. Each goes by the view (catalog.ts)
 * and removes through `removeEntry`, never following a link.
 */
import type { PruneOptions, PruneResult, SweepOptions } from "@sitecache/core"
import type { Catalog } from "./catalog.js"
import type { EntryFiles } from "./entry-files.js"
import { streamExpiry, valueExpiry } from "./entry-files.js"
import { isMissing } from "./file-system.js"
import { isStreamPath, PREFIX_DIR, prefixOf, shardDirectories, TEMP_PREFIX, TRASH_PREFIX } from "./layout.js"
import type { EntryRecord, View } from "./view.js"

export interface Housekeeper {
  readonly catalog: Catalog
  readonly files: EntryFiles
  /** The cache directory (above the root). */
  readonly dir: string
  /** Remove one entry (in bulk); `true` when something was there. */
  removeEntry(rel: string): boolean
}

/**
 * Remove least recently used entries until `view.size` is at most `limit`.
 * Returns how many were removed, and the first failure (which stops it).
 */
export function evictLeastRecentlyUsed(keeper: Housekeeper, view: View, limit: number): { evicted: number; error?: unknown } {
  let evicted = 0
  if (view.size <= limit) return { evicted }
  // Reads persisted since the view was loaded, by this process or another, are in the journal: they count.
  keeper.catalog.catchUp(view)
  const order = [...view.entries].map(([rel, record]) => [rel, keeper.catalog.lastAccess(rel, record)] as const)
  order.sort((a, b) => a[1] - b[1])
  for (const [rel] of order) {
    if (view.size <= limit) break
    try {
      if (keeper.removeEntry(rel)) evicted++
    } catch (error) {
      return { evicted, error }
    }
  }
  return { evicted }
}

/**
 * Remove orphans (entries of every prefix but `prefix`), entries not read
 * or written for `olderThan` ms, expired entries, and then least recently
 * used entries down to `maxSize` bytes; then stale temporary files and
 * empty directories.
 */
export function prune(
  keeper: Housekeeper,
  options: PruneOptions,
  tempMaxAge: number,
): PruneResult & { evicted: number; error?: unknown } {
  const view = keeper.catalog.view()
  // Reads persisted since the view was loaded, by this process or another, are in the journal: they count.
  keeper.catalog.catchUp(view)
  let removedCount = 0
  let removedSize = 0
  let evicted = 0
  let error: unknown
  for (const [rel, record] of [...view.entries]) {
    const orphan = options.orphans === true && prefixOf(rel) !== options.prefix.hex
    const old = options.olderThan !== undefined && keeper.catalog.lastAccess(rel, record) <= options.now - options.olderThan
    if ((orphan || old || expired(keeper, rel, record, options.now)) && keeper.removeEntry(rel)) {
      removedCount++
      removedSize += record.size
    }
  }
  if (options.maxSize !== undefined) {
    const before = { count: view.entries.size, size: view.size }
    const result = evictLeastRecentlyUsed(keeper, view, options.maxSize)
    evicted = result.evicted
    error = result.error
    removedCount += before.count - view.entries.size
    removedSize += before.size - view.size
  }
  removeEmptyDirectories(keeper)
  clean(keeper, tempMaxAge)
  return { removedCount, removedSize, evicted, ...(error === undefined ? {} : { error }) }
}

/**
 * Remove entries of every prefix but `keep` that nobody read or wrote since
 * `unusedSince` (by the index's access times, this process's reads, and
 * file times for entries nobody has read), then empty directories. Lists
 * directories; reads no entry.
 */
export function sweep(keeper: Housekeeper, options: SweepOptions): PruneResult {
  const view = keeper.catalog.view()
  // Another process may have read an entry since this one loaded the index: its reads count.
  keeper.catalog.catchUp(view)
  const keep = new Set(options.keep.map((prefix) => prefix.hex))
  let removedCount = 0
  let removedSize = 0
  for (const [rel, record] of [...view.entries]) {
    if (keep.has(prefixOf(rel)) || keeper.catalog.lastAccess(rel, record) >= options.unusedSince) continue
    if (keeper.removeEntry(rel)) {
      removedCount++
      removedSize += record.size
    }
  }
  if (removedCount > 0) removeEmptyDirectories(keeper)
  return { removedCount, removedSize }
}

/**
 * Remove temporary files left by killed writers (and the remains of an
 * interrupted `clear()`) that are older than `olderThan` ms; `olderThan: 0`
 * removes every one, whatever its timestamp says. Returns how many were removed.
 */
export function clean(keeper: Housekeeper, olderThan: number): number {
  const { fs, base } = keeper.files
  // Temporary files are judged by their own (real) modification time.
  const cutoff = Date.now() - olderThan
  let removed = 0
  const removeIfStale = (path: string, isDirectory: boolean): void => {
    try {
      const stat = fs.lstatSync(path, { throwIfNoEntry: false })
      // Not by time when every one is asked for: a file written this millisecond has an mtime (to the
      // nanosecond) past `Date.now()` (whole milliseconds), and another machine's clock may be ahead.
      if (stat === undefined || (olderThan > 0 && stat.mtimeMs > cutoff)) return
      if (isDirectory) fs.rmSync(path, { recursive: true, force: true })
      else fs.unlinkSync(path)
      removed++
    } catch (error) {
      if (!isMissing(error)) throw error
    }
  }
  for (const name of keeper.files.listAt(keeper.dir)) {
    if (name.startsWith(TRASH_PREFIX)) removeIfStale(`${keeper.dir}/${name}`, true)
  }
  for (const name of keeper.files.list("")) if (name.startsWith(TEMP_PREFIX)) removeIfStale(base + name, false)
  for (const shardRel of shardDirectories((rel) => keeper.files.list(rel))) {
    for (const name of keeper.files.list(shardRel)) {
      if (name.startsWith(TEMP_PREFIX)) removeIfStale(`${base}${shardRel}/${name}`, false)
    }
  }
  return removed
}

function removeEmptyDirectories(keeper: Housekeeper): void {
  const list = (rel: string) => keeper.files.list(rel)
  for (const shardRel of [...shardDirectories(list)]) removeDirectoryIfEmpty(keeper, shardRel)
  for (const prefix of list("")) if (PREFIX_DIR.test(prefix)) removeDirectoryIfEmpty(keeper, prefix)
}

function removeDirectoryIfEmpty(keeper: Housekeeper, rel: string): void {
  try {
    keeper.files.fs.rmdirSync(keeper.files.base + rel)
    keeper.catalog.droppedShard(rel)
  } catch {
    // Not empty (ENOTEMPTY/EEXIST), or already gone.
  }
}

/** Whether an entry has expired at `now`; reads its header when the view does not know (another process may have replaced it). */
function expired(keeper: Housekeeper, rel: string, record: EntryRecord, now: number): boolean {
  if (record.expires === 0 || record.expires > now) return false
  const expires = keeper.files.readExpiry(keeper.files.base + rel, isStreamPath(rel) ? streamExpiry : valueExpiry)
  if (expires === undefined) return false
  record.expires = expires
  return expires !== 0 && expires <= now
}
