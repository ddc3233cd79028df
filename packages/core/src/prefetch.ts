/**
 * Warming the local tiers at the start of a build: the previous build of the
 * same tool recorded the key of every document in its manifest (see runs.ts);
 * fetching those entries from the shared tier in one batch costs one round
 * trip per batch instead of one per document. `BuildSession.start` does it.
 */
import { Key } from "./key.js"
import { type BuildManifest, readManifest } from "./runs.js"
import type { Cache } from "./types.js"

const HEX_KEY = /^[0-9a-f]{32}$/

/** The keys `manifest` recorded, when they are visible through `cache` (none when its key prefix changed since). */
export function manifestKeys(manifest: BuildManifest, cache: Cache): Key[] {
  if (manifest.keyPrefix !== undefined && manifest.keyPrefix !== cache.keyPrefix.hex) return []
  const keys: Key[] = []
  const seen = new Set<string>()
  for (const record of Object.values(manifest.documents)) {
    const hex = record.key
    if (typeof hex !== "string" || !HEX_KEY.test(hex) || seen.has(hex)) continue
    seen.add(hex)
    keys.push(Key.fromHex(hex))
  }
  return keys
}

/**
 * Prefetch the entries the previous build of `tool` used into the cache's
 * faster tiers. Returns how many were found in a slower tier (0 when the cache
 * has no tiers, there is no manifest, or the key prefix changed since).
 * Never throws for a cache fault.
 *
 * @example
 * const cache = await createCache({ backend: ["memory", "redis"], redis: { url } })
 * await prefetchFromManifest(cache, "blog")
 */
export async function prefetchFromManifest(cache: Cache, tool: string): Promise<number> {
  if (!cache.canPrefetch) return 0
  const manifest = await readManifest(cache, tool)
  if (manifest === undefined) return 0
  const keys = manifestKeys(manifest, cache)
  return keys.length === 0 ? 0 : cache.prefetch(keys)
}
