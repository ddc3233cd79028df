/**
 * What a build leaves in the cache about itself, beside the entries:
 *
 * - the run history: one small summary per build (time, documents, hits,
 *   misses, bytes, errors, time saved), the last `MAX_RUNS` kept, for
 *   `sitecache inspect`;
 * - the manifest of the last build: every document's key, part hashes and
 *   dependency hashes, for `prefetch` on the next build and `sitecache explain`.
 *
 * Both live under well-known keys per tool (`"blog"`, `"vite"`, `"eleventy"`),
 * and are replaced on each build (delete, then put: entries are put-if-absent).
 */
import { key } from "./key.js"
import type { BuildStats, DocumentRecord } from "./memo.js"
import type { Cache } from "./types.js"

export const MAX_RUNS = 50

export interface RunSummary {
  readonly tool: string
  /** ISO time the build started. */
  readonly startedAt: string
  readonly durationMs: number
  readonly documents: number
  readonly hits: number
  readonly misses: number
  readonly uncacheable: number
  readonly savedMs: number
  readonly bytes: number
  readonly errors: number
}

export interface BuildManifest {
  readonly tool: string
  readonly startedAt: string
  readonly documents: Readonly<Record<string, DocumentRecord>>
}

export function runsKey(tool: string) {
  return key("sitecache:runs", tool)
}

export function manifestKey(tool: string) {
  return key("sitecache:manifest", tool)
}

async function replace(cache: Cache, entryKey: ReturnType<typeof key>, value: unknown): Promise<void> {
  await cache.delete(entryKey)
  await cache.put(entryKey, value)
}

/** The run history of `tool`, oldest first. */
export async function readRuns(cache: Cache, tool: string): Promise<RunSummary[]> {
  return (await cache.get<RunSummary[]>(runsKey(tool))) ?? []
}

/** The manifest of the last build of `tool`. */
export async function readManifest(cache: Cache, tool: string): Promise<BuildManifest | undefined> {
  return cache.get<BuildManifest>(manifestKey(tool))
}

/**
 * End a build: record its summary and manifest in the cache, persist, and
 * return the summary. Never throws for a cache fault (the cache fails open).
 */
export async function finishBuild(cache: Cache, stats: BuildStats, tool: string): Promise<RunSummary> {
  const before = await cache.inspect()
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
    bytes: before.size,
    errors: before.errors,
  }
  if (stats.documentRecords.size > 0) {
    const manifest: BuildManifest = {
      tool,
      startedAt: summary.startedAt,
      documents: Object.fromEntries(stats.documentRecords),
    }
    await replace(cache, manifestKey(tool), manifest)
  }
  const runs = await readRuns(cache, tool)
  await replace(cache, runsKey(tool), [...runs, summary].slice(-MAX_RUNS))
  await cache.persist()
  return summary
}
