/**
 * One Eleventy build of a site, for the benchmark: run in its own process
 * (`node --conditions=@sitecache/source --import tsx src/measure.ts '<json>'`) so that its
 * wall time is a whole-process time; prints one JSON line with the time spent
 * inside the markdown library's `render` and the cache's counts.
 *
 * `{ root, cached: false }`: no sitecache, `render` timed;
 * `{ root, cached: true, dir }`: the sitecache plugin, SQLite in `dir`.
 */
import { join } from "node:path"
import Eleventy from "@11ty/eleventy"
import { type EleventyConfig, siteConfig } from "./site.js"

interface MeasureOptions {
  readonly root: string
  readonly cached: boolean
  readonly dir?: string
}

interface EleventyDirectories {
  setIncludesDirectory(dir: string): void
  setDataDirectory(dir: string): void
}

const options = JSON.parse(process.argv[2] ?? "{}") as MeasureOptions
const started = performance.now()
let renderMs = 0
let result: Record<string, unknown> = {}
const configure = options.cached
  ? siteConfig({
      sitecache: {
        root: options.root,
        ...(options.dir === undefined ? {} : { dir: options.dir }),
        log: false,
        onBuildEnd: (report) => {
          result = { renderMs: report.renderMs, transformMs: report.transformMs, hits: report.hits, misses: report.misses }
        },
      },
    })
  : siteConfig({
      cached: false,
      wrapMarkdown(md) {
        const render = md.render
        md.render = function timedRender(this: unknown, source: string, env?: unknown) {
          const renderStarted = performance.now()
          try {
            return render.call(this, source, env)
          } finally {
            renderMs += performance.now() - renderStarted
          }
        }
      },
    })
const eleventy = new Eleventy(join(options.root, "content"), join(options.root, "_site"), {
  quietMode: true,
  config(eleventyConfig: EleventyConfig & EleventyDirectories) {
    eleventyConfig.setIncludesDirectory("_includes")
    eleventyConfig.setDataDirectory("_data")
    configure(eleventyConfig)
  },
})
const log = console.log
console.log = () => {} // Eleventy's "Wrote N files" line: this process prints only its JSON
await eleventy.write()
if (!options.cached) result = { renderMs, transformMs: 0, hits: 0, misses: 0 }
log(JSON.stringify({ ...result, buildMs: performance.now() - started }))
