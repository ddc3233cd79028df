/**
 * `blog`: build the site (or watch it).
 *
 *   blog [--content <dir>] [--out <dir>] [--config <file>] [--watch] [--verbose | --quiet]
 *        [--no-cache | --cache=read|write|off] [--cache-backend <name>] [--cache-dir <dir>]
 */
import { writeFile } from "node:fs/promises"
import { relative } from "node:path"
import { normalizeCacheConfig, SitecacheError } from "@sitecache/core"
import { parseBlogArgs, UsageError } from "./args.js"
import { build } from "./build.js"
import { loadSite } from "./config.js"
import { defaultReporter } from "./reporter.js"

const USAGE = `usage: blog [options]

  --content <dir>          build this folder of markdown (default: "content" of blog.config.json)
  --out <dir>              write the site here (default: "out" of the configuration, dist)
  --config <file>          the configuration file (default: blog.config.mjs or blog.config.json here)
  --watch                  rebuild what a change touches, until interrupted
  --verbose                a line per document, cached ones too
  --quiet                  only the summary line (and errors)
  --report <file>          write the build's figures as JSON

cache (see sitecache's resolveCacheConfig; SITECACHE=off and friends work too):
  --no-cache               render everything, read and write nothing
  --cache=read|write|off   read-only (pull requests), write-only, or off
  --cache-backend <name>   memory, fs, sqlite or redis (a list makes tiers)
  --cache-dir <dir>        where the cache lives (default node_modules/.cache/sitecache)
`

export async function main(argv: readonly string[]): Promise<number> {
  const args = argv.filter((arg) => arg !== "--")
  try {
    const flags = parseBlogArgs(args)
    if (flags.help) {
      process.stdout.write(USAGE)
      return 0
    }
    const site = await loadSite({ argv: args, env: process.env })
    const reporter = defaultReporter({ verbose: flags.verbose === true, quiet: flags.quiet === true })
    const cacheConfig = normalizeCacheConfig(site.cache)
    const where = relative(process.cwd(), site.contentDir) || "."
    const cacheName =
      cacheConfig.mode === "off"
        ? "off"
        : `${[cacheConfig.backend].flat().join("+")} in ${relative(process.cwd(), cacheConfig.dir) || "."}`
    if (!flags.quiet) reporter.line(`blog: ${where} → ${relative(process.cwd(), site.outDir) || "."} (cache: ${cacheName})`)
    if (flags.watch) {
      const { watch } = await import("./watch.js")
      const watcher = await watch(site, { reporter })
      reporter.line("watching for changes (Ctrl-C to stop)")
      watcher.events.on("error", (error: Error) => reporter.line(`error: ${error.message}`))
      await new Promise<void>((stop) => {
        process.once("SIGINT", () => stop())
        process.once("SIGTERM", () => stop())
      })
      await watcher.close()
      return 0
    }
    const result = await build(site, { reporter })
    const report = flags.report
    if (report !== undefined) {
      await writeFile(
        report,
        `${JSON.stringify(
          {
            elapsedMs: result.elapsedMs,
            documents: result.stats.documents,
            hits: result.stats.hits,
            misses: result.stats.misses,
            savedMs: result.stats.savedMs,
            bytes: result.bytes,
            summary: result.summary,
            pipelineLoaded: result.pipelineLoaded,
            phases: result.phases,
            cache: result.cache,
            outDir: site.outDir,
            cacheDir: cacheConfig.dir,
            backend: cacheConfig.mode === "off" ? "off" : cacheConfig.backend,
          },
          null,
          2,
        )}\n`,
      )
    }
    return 0
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`blog: ${error.message}\n\n${USAGE}`)
      return 2
    }
    if (error instanceof SitecacheError) {
      process.stderr.write(`${error.message}\n`)
      return 2
    }
    throw error
  }
}
