/**
 * One build of a site, for the benchmark: run in its own process
 * (`node --conditions=@sitecache/source --import tsx src/measure.ts '<json>'`) so that its
 * wall time is a whole-process time; prints one JSON line with the time spent
 * inside the wrapped transforms and the cache's counts.
 *
 * `{ root, cached: false }`: the plain plugins, each `transform` timed;
 * `{ root, cached: true, dir }`: wrapped by `cacheTransforms`, SQLite in `dir`.
 */
import type { Plugin, PluginOption } from "vite"
import { build } from "vite"
import { siteConfig } from "./site.js"

interface MeasureOptions {
  readonly root: string
  readonly cached: boolean
  readonly dir?: string
}

type Handler = (this: unknown, ...args: unknown[]) => unknown

/** Wall time during which at least one timed hook was running (Rollup runs many at once). */
class BusyTime {
  active = 0
  since = 0
  ms = 0
  enter(): void {
    if (this.active++ === 0) this.since = performance.now()
  }
  leave(): void {
    if (--this.active === 0) this.ms += performance.now() - this.since
  }
}

/** The same plugins, with the time spent inside their `transform` hooks counted in `busy`. */
function timed(plugins: PluginOption[], busy: BusyTime): PluginOption[] {
  return (plugins as Plugin[]).map((plugin) => {
    const hook = plugin.transform
    if (typeof hook !== "function") return plugin
    return {
      ...plugin,
      async transform(this: unknown, ...args: unknown[]) {
        busy.enter()
        try {
          return await (hook as Handler).apply(this, args)
        } finally {
          busy.leave()
        }
      },
    } as Plugin
  })
}

const options = JSON.parse(process.argv[2] ?? "{}") as MeasureOptions
const started = performance.now()
const total = new BusyTime()
let result: Record<string, unknown> = {}
await build(
  siteConfig({
    root: options.root,
    logLevel: "silent",
    ...(options.cached
      ? {
          cacheConfig: { backend: "sqlite", ...(options.dir === undefined ? {} : { dir: options.dir }) },
          onBuildEnd: (report) => {
            result = { transformMs: report.transformMs, hits: report.hits, misses: report.misses, savedMs: report.savedMs }
          },
        }
      : { cached: false, wrap: (plugins) => timed(plugins, total) }),
  }),
)
if (!options.cached) result = { transformMs: total.ms, hits: 0, misses: 0, savedMs: 0 }
console.log(JSON.stringify({ ...result, buildMs: performance.now() - started }))
