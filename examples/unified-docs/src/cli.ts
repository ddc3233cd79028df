/**
 * `pnpm build`: render the site into `dist/` in a build session of
 * `@sitecache/core` (the cache configured by `resolveCacheConfig`, default
 * the fs backend under `node_modules/.cache/sitecache`; `SITECACHE=off` or
 * `--no-cache` gives the null cache), which records the build and prints one
 * summary line.
 */
import { BuildSession } from "@sitecache/core"
import { buildSite, exampleRoot } from "./site.js"

const session = new BuildSession({ tool: "unified-docs", root: exampleRoot })
const build = await session.start()
try {
  await buildSite(build.enabled ? { cache: build.cache, stats: build.stats } : {})
} catch (error) {
  await session.abort()
  throw error
}
await session.finish()
