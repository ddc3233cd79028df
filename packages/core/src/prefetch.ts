/**
 * Warming the local tiers at the start of a build: the previous build of the
 * same tool recorded the key of every document in its manifest (see runs.ts);
 * fetching those entries from the shared tier in one batch costs one round
 * trip per batch instead of one per document.
 */
import { Key } from "./key.js"
import { readManifest } from "./runs.js"
import type { Cache } from "./types.js"

const HEX_KEY = /^[0-9a-f]{32}$/

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
  // Entries of another key prefix are not visible to this build: nothing to warm.
  if (manifest.keyPrefix !== undefined && manifest.keyPrefix !== cache.keyPrefix.hex) return 0
  const keys = Object.values(manifest.documents)
    .map((record) => record.key)
    .filter((hex) => typeof hex === "string" && HEX_KEY.test(hex))
    .map((hex) => Key.fromHex(hex))
  if (keys.length === 0) return 0
  return cache.prefetch(keys)
}
