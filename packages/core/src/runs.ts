/**
 * What a build leaves in the cache about itself, beside the entries:
 *
 * - the run history: one small summary per build (time, documents, hits,
 *   misses, bytes written, errors, time saved), the last `MAX_RUNS` kept, for
 *   `sitecache inspect`;
 * - the manifest of the last build: every document's key, part hashes and
 *   dependency hashes, for `prefetch` on the next build and `sitecache explain`.
 *   For the documents that missed, it also keeps what the build before
 *   recorded of them (`previous`), so `explain` can say which part changed.
 *   That costs one extra record per changed document, never a second full
 *   manifest (except after a cold build, where every document missed);
 * - the list of tools that recorded builds, so `sitecache` finds them.
 *
 * Records live under their own key prefix, `RECORDS_KEY_PREFIX`, not the
 * cache's current one: a new adapter version or configuration changes the
 * cache's prefix (hiding every entry), and the history must survive it so
 * that `explain` can say so. They are written through
 * `StoreCache.withKeyPrefix`, which keeps the cache's codec and secret.
 * Each record is replaced on each build (delete, then put: entries are
 * put-if-absent); a reader racing a build may briefly see no record.
 */
import type { StoreCache } from "./cache.js"
import { key } from "./key.js"
import type { BuildStats, DocumentRecord } from "./memo.js"
import type { Cache } from "./types.js"

export const MAX_RUNS = 50

/** The user key prefix build records are stored under (see `StoreCache.withKeyPrefix`). */
export const RECORDS_KEY_PREFIX = "sitecache:records"

export interface RunSummary {
  readonly tool: string
  /** ISO time the build started. */
  readonly startedAt: string
  readonly durationMs: number
  readonly documents: number
  readonly hits: number
  readonly misses: number
  readonly uncacheable: number
  /** Time the hits saved: what their computations took when they ran, in ms. */
  readonly savedMs: number
  /** Bytes stored in the cache after the build (all prefixes). */
  readonly bytes: number
  /** Bytes of the entries this build added. */
  readonly bytesWritten?: number
  /** Cache faults and corrupt entries met during this build. */
  readonly errors: number
  /** Hex of the cache's key prefix during the build: entries under other prefixes are orphans. */
  readonly keyPrefix?: string
}

/** What the build before the last one recorded of the documents that missed in the last one. */
export interface PreviousBuild {
  readonly startedAt: string
  readonly keyPrefix?: string
  readonly documents: Readonly<Record<string, DocumentRecord>>
}

export interface BuildManifest {
  readonly tool: string
  readonly startedAt: string
  /** Hex of the cache's key prefix during the build. */
  readonly keyPrefix?: string
  readonly documents: Readonly<Record<string, DocumentRecord>>
  /** Absent on a tool's first recorded build. */
  readonly previous?: PreviousBuild
}

export function runsKey(tool: string) {
  return key("sitecache:runs", tool)
}

export function manifestKey(tool: string) {
  return key("sitecache:manifest", tool)
}

/** Where the list of tools that recorded builds lives. */
export function toolsKey() {
  return key("sitecache:tools")
}

const recordViews = new WeakMap<Cache, Cache>()

/**
 * The cache build records are read from and written to: `cache` under
 * `RECORDS_KEY_PREFIX` when it is a `StoreCache` (read-write unless `cache` is
 * read-only, so a write-only build keeps the history), else `cache` itself.
 */
export function buildRecords(cache: Cache): Cache {
  const withKeyPrefix = (cache as Partial<StoreCache>).withKeyPrefix
  if (typeof withKeyPrefix !== "function") return cache
  let view = recordViews.get(cache)
  if (view === undefined) {
    const mode = (cache as StoreCache).mode === "read-only" ? "read-only" : "read-write"
    view = withKeyPrefix.call(cache, RECORDS_KEY_PREFIX, { mode })
    recordViews.set(cache, view)
  }
  return view
}

async function replace(cache: Cache, entryKey: ReturnType<typeof key>, value: unknown): Promise<void> {
  await cache.delete(entryKey)
  await cache.put(entryKey, value)
}

/** The run history of `tool`, oldest first. */
export async function readRuns(cache: Cache, tool: string): Promise<RunSummary[]> {
  return (await buildRecords(cache).get<RunSummary[]>(runsKey(tool))) ?? []
}

/** The manifest of the last build of `tool`. */
export async function readManifest(cache: Cache, tool: string): Promise<BuildManifest | undefined> {
  return buildRecords(cache).get<BuildManifest>(manifestKey(tool))
}

/** The tools that recorded builds in this cache (`"blog"`, `"vite"`, ...), in the order they first did. */
export async function readTools(cache: Cache): Promise<string[]> {
  return (await buildRecords(cache).get<string[]>(toolsKey())) ?? []
}

/** Counters of the cache when its last build finished, so a long-lived cache (watch mode) reports per build. */
const countersAtLastFinish = new WeakMap<Cache, { errors: number; bytesWritten: number }>()

function previousRecords(old: BuildManifest | undefined, stats: BuildStats): PreviousBuild | undefined {
  if (old === undefined) return undefined
  const documents: Record<string, DocumentRecord> = {}
  for (const [document, record] of stats.documentRecords) {
    const before = old.documents[document]
    if (!record.hit && before !== undefined) documents[document] = before
  }
  return {
    startedAt: old.startedAt,
    ...(old.keyPrefix === undefined ? {} : { keyPrefix: old.keyPrefix }),
    documents,
  }
}

/**
 * End a build: record its summary and manifest in the cache, persist, and
 * return the summary. Never throws for a cache fault (the cache fails open).
 */
export async function finishBuild(cache: Cache, stats: BuildStats, tool: string): Promise<RunSummary> {
  const info = await cache.inspect()
  const last = countersAtLastFinish.get(cache) ?? { errors: 0, bytesWritten: 0 }
  const bytesWritten = info.bytesWritten ?? 0
  countersAtLastFinish.set(cache, { errors: info.errors, bytesWritten })
  const keyPrefix = (cache as Partial<StoreCache>).keyPrefix?.hex
  const uncacheable = [...stats.uncacheable.values()].reduce((a, b) => a + b, 0)
  const summary: RunSummary = {
    tool,
    startedAt: stats.startedAtDate.toISOString(),
    durationMs: performance.now() - stats.startedAt,
    documents: stats.documents,
    hits: stats.hits,
    misses: stats.misses,
    uncacheable,
    savedMs: stats.savedMs,
    bytes: info.size,
    bytesWritten: Math.max(0, bytesWritten - last.bytesWritten),
    errors: Math.max(0, info.errors - last.errors),
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
  }
  const records = buildRecords(cache)
  if (stats.documentRecords.size > 0) {
    const previous = previousRecords(await records.get<BuildManifest>(manifestKey(tool)), stats)
    const manifest: BuildManifest = {
      tool,
      startedAt: summary.startedAt,
      ...(keyPrefix === undefined ? {} : { keyPrefix }),
      documents: Object.fromEntries(stats.documentRecords),
      ...(previous === undefined ? {} : { previous }),
    }
    await replace(records, manifestKey(tool), manifest)
  }
  const runs = await readRuns(cache, tool)
  await replace(records, runsKey(tool), [...runs, summary].slice(-MAX_RUNS))
  const tools = await readTools(cache)
  if (!tools.includes(tool)) await replace(records, toolsKey(), [...tools, tool])
  await cache.persist()
  if (records !== cache) await records.persist()
  return summary
}
