/**
 * One build of a starter-like site (src/generate-starter.ts), for the
 * benchmark and for finding where a build goes: run in its own process
 * (`node --conditions=@sitecache/source --import tsx src/measure-starter.ts '<json>'`)
 * from the site's folder; prints one JSON line: the whole build, the time
 * inside the markdown library's `render`, inside each transform (summed over
 * transforms that run at once), the process's CPU time, and the cache's report.
 *
 * `{ root, cached: false }`: no sitecache;
 * `{ root, cached: true, dir, transforms }`: the sitecache plugin, SQLite in `dir`.
 */

import { fileURLToPath } from "node:url"
import Eleventy from "@11ty/eleventy"
import type { EleventyConfigLike, TransformCallback } from "@sitecache/eleventy"
import { MEASURED_CONFIGURATION } from "./measure-starter.config.js"
import { type StarterConfig, starterConfig, starterDirectories } from "./starter.js"

interface MeasureOptions {
  readonly root: string
  readonly cached: boolean
  readonly dir?: string
  readonly transforms?: readonly string[]
}

const options = JSON.parse(process.argv[2] ?? "{}") as MeasureOptions
const started = performance.now()
let markdownMs = 0
const transformMs: Record<string, number> = {}
let report: Record<string, unknown> = {}

const configure = starterConfig({
  cached: options.cached,
  sitecache: {
    root: options.root,
    ...(options.dir === undefined ? {} : { dir: options.dir }),
    ...(options.transforms === undefined ? {} : { transforms: options.transforms }),
    log: false,
    onBuildEnd: (r) => {
      report = {
        hits: r.hits,
        misses: r.misses,
        renderMs: r.renderMs,
        transformMs: r.transformMs,
        line: r.line,
      }
    },
  },
  wrapMarkdown(md) {
    const render = md.render
    md.render = function timedRender(this: unknown, source: string, env?: unknown) {
      const renderStarted = performance.now()
      try {
        return render.call(this, source, env)
      } finally {
        markdownMs += performance.now() - renderStarted
      }
    }
  },
})

/** Times every transform (added last, so around the cached ones too). */
function timeTransforms(eleventyConfig: EleventyConfigLike): void {
  const transforms = eleventyConfig.transforms ?? {}
  for (const [name, callback] of Object.entries(transforms)) {
    transforms[name] = async function timedTransform(this: unknown, content: unknown, outputPath?: unknown) {
      const transformStarted = performance.now()
      try {
        return await (callback as TransformCallback).call(this as never, content, outputPath)
      } finally {
        transformMs[name] = (transformMs[name] ?? 0) + performance.now() - transformStarted
      }
    }
  }
}

;(globalThis as Record<symbol, unknown>)[MEASURED_CONFIGURATION] = (eleventyConfig: StarterConfig) => {
  configure(eleventyConfig)
  eleventyConfig.addPlugin(timeTransforms)
}
process.chdir(options.root)
const eleventy = new Eleventy(starterDirectories.dir.input, starterDirectories.dir.output, {
  quietMode: true,
  configPath: fileURLToPath(new URL("./measure-starter.config.ts", import.meta.url)),
})
const log = console.log
console.log = () => {}
await eleventy.write()
const cpu = process.cpuUsage()
// CPU time of the whole process (start-up included): on a machine whose cores are shared, the steadier measure of work.
log(
  JSON.stringify({
    buildMs: performance.now() - started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    markdownMs,
    transformMs,
    ...report,
  }),
)
