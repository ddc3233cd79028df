/**
 * The automatic sweep: what keeps a cache that CI saves and restores on every
 * run from growing without end.
 *
 * A dependency upgrade or a configuration change gives every document a new
 * key (and a new adapter version or codec a new key prefix): the old entries
 * are never read again, yet a plain cache keeps them, and CI uploads and
 * downloads them on every run. So at the end of a build (`finishBuild`), the
 * entries nobody read or wrote for `maxIdle` (default a week) are removed, of
 * every key prefix but the build records'.
 *
 * - **Measured by last access, not by prefix.** An entry another build still
 *   uses (another tool, another adapter, another branch's configuration on a
 *   shared cache) is read by that build, so it is not idle; an entry under
 *   this build's own prefix that no document uses any more is. Stores go by
 *   the access times they keep already (`Store.sweep`).
 * - **At the end of a build.** Every entry the build used has just been read
 *   or written, so none of them can look idle, whatever the clock says.
 * - **At most once a day** (`SWEEP_INTERVAL`). A sweep lists the store (the
 *   fs backend's directories, SQLite's access table): its cost grows with the
 *   cache, while a build's must grow only with its documents. The time of the
 *   last sweep is one record read per build; the listing is paid once a day.
 *   Two builds that finish at once may both sweep: removal is idempotent.
 * - **A week**: the window in which a build that did not run keeps its entries
 *   (the other branch you come back to, the weekly job), and GitHub's own
 *   limit for a cache nobody restored. Within it, `maxSize` (default 1 GiB,
 *   least recently used first) bounds the cache on its own.
 *
 * The last sweep is recorded beside the build records (`SweepRecord`), so
 * `sitecache inspect` shows what was reclaimed, and each run summary carries
 * what its sweep removed.
 */
import { sweepRecordOf } from "./record-shapes.js"
import type { Cache } from "./types.js"

const DAY = 86_400_000

/** How long an entry may go unread and unwritten before a build's sweep removes it: a week. */
export const DEFAULT_MAX_IDLE = 7 * DAY

/** A cache is swept at most this often: a day. */
export const SWEEP_INTERVAL = DAY

/** What the sweeps of a cache did, kept with its build records. */
export interface SweepRecord {
  /** ISO time of the last sweep (by the cache's clock). */
  readonly at: string
  /** The `maxIdle` it used, in ms. */
  readonly maxIdle: number
  /** Entries and bytes the last sweep removed. */
  readonly removedCount: number
  readonly removedSize: number
  /** ISO time of the first recorded sweep, and what every sweep since removed. */
  readonly since: string
  readonly sweeps: number
  readonly totalCount: number
  readonly totalSize: number
}

/** What a build's sweep removed (see `RunSummary.swept`). */
export interface SweepResult {
  readonly entries: number
  readonly bytes: number
}

/**
 * Sweep `cache` when it is due: its `maxIdle` is not `false`, it may write,
 * and the last sweep recorded in `records` (the build records' view) is a
 * `SWEEP_INTERVAL` old, or in the future (a clock set back). `keep` names the
 * user prefixes never swept. Returns what was removed, or `undefined` when it
 * did not sweep (or the store cannot: Redis expires entries itself).
 */
export async function sweepIfDue(
  cache: Cache,
  records: Cache,
  recordKey: Parameters<Cache["get"]>[0],
  keep: readonly string[],
): Promise<SweepResult | undefined> {
  if (cache.maxIdle === false || cache.mode === "read-only") return undefined
  const now = cache.now()
  const last = sweepRecordOf(await records.get(recordKey))
  const lastAt = last === undefined ? Number.NaN : Date.parse(last.at)
  if (lastAt <= now && now - lastAt < SWEEP_INTERVAL) return undefined
  const result = await cache.sweep({ maxIdle: cache.maxIdle, keep })
  if (result === undefined) return undefined
  const at = new Date(now).toISOString()
  const kept = last !== undefined && Number.isFinite(lastAt)
  const record: SweepRecord = {
    at,
    maxIdle: cache.maxIdle,
    removedCount: result.removedCount,
    removedSize: result.removedSize,
    since: kept ? last.since : at,
    sweeps: (kept ? last.sweeps : 0) + 1,
    totalCount: (kept ? last.totalCount : 0) + result.removedCount,
    totalSize: (kept ? last.totalSize : 0) + result.removedSize,
  }
  // Entries are put-if-absent: replace the record.
  await records.delete(recordKey)
  await records.put(recordKey, record)
  return { entries: result.removedCount, bytes: result.removedSize }
}
