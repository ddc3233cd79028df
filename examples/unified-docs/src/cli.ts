/**
 * `pnpm build`: render the site into `dist/` with the cache configured by
 * `resolveCacheConfig` (default: the fs backend under
 * `node_modules/.cache/sitecache`; `SITECACHE=off` or `--no-cache` renders
 * without it), then print one summary line.
 */
import { BuildStats, createCache, finishBuild, resolveCacheConfig } from "@sitecache/core"
import { buildSite, exampleRoot } from "./site.js"

const config = resolveCacheConfig({ config: { root: exampleRoot }, env: process.env, argv: process.argv.slice(2) })
if (config.mode === "off") {
  await buildSite()
  console.log("sitecache: off (no cache read or written)")
} else {
  const cache = await createCache(config)
  const stats = new BuildStats()
  try {
    await buildSite({ cache, stats })
    await finishBuild(cache, stats, "unified-docs")
  } finally {
    await cache.close()
  }
  console.log(stats.summary())
}
