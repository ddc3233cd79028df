/**
 * Eight whole builds of the example blog at once on one cache, while other
 * processes keep every core busy: real renders that block the event loop,
 * opens and closes, the build records, all in processes of their own.
 *
 * Two builds read a site built before (every document must hit), two pairs
 * build the same new site at once (racing for the same keys), two build a
 * site of their own. No build sees an error or a warning; then each site
 * built again hits on every document (no write was dropped) and writes the
 * same pages.
 *
 * The build before the eight and the builds after them run in the test's own
 * process (blog-build.ts), one at a time: they only set up and check the
 * cache the eight share, and a process each would only add start-up time.
 */
import { spawn } from "node:child_process"
import { appendFileSync, cpSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { childNodeArgs } from "@sitecache/conformance"
import { BLOG_PACKAGE_ROOT } from "example-blog"
import { describe, expect, it } from "vitest"
import { type BuildReport, buildBlog } from "./blog-build.js"
import { BACKENDS, BUSY_LOOPS, saturateCores, scratchDir } from "./support.js"

/** The site each of the eight builds makes: site 0 is built once before them, so its two builds only read. */
const BUILDS = [0, 0, 1, 1, 2, 2, 3, 4] as const
const SITES = [...new Set(BUILDS)]

const buildChild = fileURLToPath(new URL("./build-child.ts", import.meta.url))

/** A copy of the example blog; site `n` > 0 changes every document (so every key), site 0 is the blog as it is. */
function makeSite(root: string, site: number): void {
  for (const part of ["blog.config.json", "content", "layouts", "partials", "assets"]) {
    cpSync(join(BLOG_PACKAGE_ROOT, part), join(root, part), { recursive: true })
  }
  if (site === 0) return
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name)
      if (statSync(full).isDirectory()) walk(full)
      else if (name.endsWith(".md")) appendFileSync(full, `\nThis page belongs to site ${site}.\n`)
    }
  }
  walk(join(root, "content"))
}

function runBuild(backend: string, root: string, cacheDir: string): Promise<BuildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childNodeArgs(), buildChild, backend, root, cacheDir], {
      stdio: ["ignore", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("close", (code, signal) => {
      if (code !== 0) reject(new Error(`build of ${root} failed (${code ?? signal}):\n${stderr}`))
      else resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "null") as BuildReport)
    })
  })
}

describe.each(BACKENDS)("%s: eight whole builds at once on one cache, every core busy", (backend) => {
  it("no error, no warning, no dropped write, no failed read; the same pages", async () => {
    const scratch = scratchDir(`builds-${backend}`)
    const cacheDir = join(scratch, "cache")
    const roots = BUILDS.map((site, n) => {
      const root = join(scratch, `build-${n}-site-${site}`)
      makeSite(root, site)
      return root
    })
    const clean = (report: BuildReport) => ({ errors: report.errors, warnings: report.warnings })

    const seeded = await buildBlog(backend, roots[0] as string, cacheDir)
    expect(clean(seeded)).toEqual({ errors: 0, warnings: [] })
    const stop = saturateCores()
    let reports: BuildReport[]
    try {
      reports = await Promise.all(roots.map((root) => runBuild(backend, root, cacheDir)))
    } finally {
      stop()
    }

    for (const report of reports) expect(clean(report)).toEqual({ errors: 0, warnings: [] })
    BUILDS.forEach((site, n) => {
      const report = reports[n] as BuildReport
      expect(report.documents).toBe(seeded.documents)
      // Site 0 was built: every read hits. The others render what no twin stored before them.
      if (site === 0) {
        expect({ hits: report.hits, misses: report.misses, site: report.site }).toEqual({
          hits: seeded.documents,
          misses: 0,
          site: seeded.site,
        })
      } else expect(report.hits + report.misses).toBe(report.documents)
    })
    // Of two builds racing on one site, each document was stored once: by whichever rendered it first.
    for (const site of SITES.filter((s) => s !== 0)) {
      const twins = reports.filter((_, n) => BUILDS[n] === site)
      expect(twins.reduce((sum, report) => sum + report.misses, 0)).toBeGreaterThanOrEqual(seeded.documents)
    }

    // Every site again, one at a time: every document hits (nothing was dropped), and the pages are the same.
    for (const site of SITES) {
      const n = BUILDS.indexOf(site)
      const again = await buildBlog(backend, roots[n] as string, cacheDir)
      expect({ ...clean(again), hits: again.hits, site: again.site }).toEqual({
        errors: 0,
        warnings: [],
        hits: seeded.documents,
        site: (reports[n] as BuildReport).site,
      })
    }
    console.log(
      `${backend}: ${BUILDS.length} builds at once with ${BUSY_LOOPS} busy loops: ${reports.map((r) => `${r.hits}/${r.documents}`).join(", ")} hits`,
    )
  }, 900_000)
})
