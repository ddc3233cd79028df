/**
 * `pnpm demo [-- --content <dir>]`: the example blog built twice on its
 * configured cache (SQLite under node_modules/.cache/sitecache), cleared
 * first: cold, then warm. Each build runs as its own process, as `blog`
 * would, so the warm one shows what a user gets: no render, and not even the
 * render pipeline loaded. Prints both times, the speedup, whether the pages
 * are identical, and what the cache holds.
 */
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative, resolve, sep } from "node:path"
import { formatBytes, formatMs, normalizeCacheConfig } from "@sitecache/core"
import { openCache } from "./build.js"
import { loadSite } from "./config.js"
import { BLOG_PACKAGE_ROOT } from "./pipeline.js"

interface Report {
  readonly elapsedMs: number
  readonly documents: number
  readonly hits: number
  readonly misses: number
  readonly savedMs: number
  readonly bytes: number
  readonly pipelineLoaded: boolean
  readonly outDir: string
}

const args = process.argv.slice(2).filter((arg) => arg !== "--")
// pnpm runs scripts from the workspace root; paths the user typed are relative to where they typed them.
const invokedFrom = process.env.INIT_CWD ?? process.cwd()
const passed: string[] = []
for (let i = 0; i < args.length; i++) {
  const arg = args[i] as string
  const flag = ["--content", "--out"].find((name) => arg === name || arg.startsWith(`${name}=`))
  const value = flag === undefined ? undefined : arg === flag ? args[++i] : arg.slice(flag.length + 1)
  if (flag === undefined || value === undefined || value === "") {
    console.error(`demo: unexpected argument \`${arg}\`\nusage: pnpm demo [-- --content <dir>] [--out <dir>]`)
    process.exit(2)
  }
  passed.push(flag, resolve(invokedFrom, value))
}

const root = BLOG_PACKAGE_ROOT
const site = await loadSite({ cwd: root, argv: passed, env: {} })
if (!existsSync(site.contentDir)) {
  console.error(`demo: no folder ${site.contentDir}`)
  process.exit(2)
}
const cacheConfig = normalizeCacheConfig(site.cache)
const show = (path: string) => relative(process.cwd(), path) || "."

// The builds use the example's configuration as it is: SITECACHE_* variables of this shell would change it.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("SITECACHE")))
const ignored = Object.keys(process.env).filter((name) => name.startsWith("SITECACHE"))

function clearCache(): void {
  const dir = cacheConfig.dir
  // Only ever remove a cache directory under node_modules/.cache.
  if (!dir.split(sep).join("/").includes("/node_modules/.cache/")) {
    throw new Error(`demo: refusing to clear ${dir}, which is not under node_modules/.cache`)
  }
  rmSync(dir, { recursive: true, force: true })
}

function treeHash(dir: string): { files: number; hash: string } {
  const hash = createHash("sha256")
  let files = 0
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name !== ".blog-outputs.json") {
        files++
        hash.update(relative(dir, path)).update(readFileSync(path))
      }
    }
  }
  walk(dir)
  return { files, hash: hash.digest("hex") }
}

/** One build, in its own process, as `blog` runs it; its figures come back through `--report`. */
function runBuild(label: string, reportFile: string): Promise<{ report: Report; processMs: number }> {
  process.stderr.write(`\n${label}\n`)
  const started = performance.now()
  const child = spawn(process.execPath, [...process.execArgv, join(root, "bin", "blog.js"), ...passed, "--report", reportFile], {
    cwd: root,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  })
  return new Promise((done, fail) => {
    child.on("error", fail)
    child.on("exit", (code) => {
      if (code !== 0) fail(new Error(`demo: the ${label} failed (exit code ${code})`))
      else done({ report: JSON.parse(readFileSync(reportFile, "utf8")) as Report, processMs: performance.now() - started })
    })
  })
}

const work = mkdtempSync(join(tmpdir(), "sitecache-demo-"))
try {
  clearCache()
  console.log(`sitecache demo: examples/blog building ${show(site.contentDir)} → ${show(site.outDir)}`)
  console.log(`cache: ${[cacheConfig.backend].flat().join(" + ")} in ${show(cacheConfig.dir)} (cleared)`)
  if (ignored.length > 0) console.log(`(ignoring ${ignored.join(", ")}: the demo uses the example's configuration)`)
  const cold = await runBuild("cold build (empty cache)", join(work, "cold.json"))
  const coldTree = treeHash(site.outDir)
  const warm = await runBuild("warm build", join(work, "warm.json"))
  const warmTree = treeHash(site.outDir)
  const c = cold.report
  const w = warm.report
  // What the cache holds: a build reports only its counters, so ask the cache itself (read-only).
  const stored = await openCache(await loadSite({ cwd: root, argv: [...passed, "--cache=read"], env: {} }))
  const held = await stored.inspect().finally(() => stored.close())
  const speedup = c.elapsedMs / w.elapsedMs
  const processSpeedup = cold.processMs / warm.processMs
  const rows = [
    [
      "cold build",
      formatMs(c.elapsedMs),
      `${c.misses} rendered, ${c.hits} from the cache`,
      `(process ${formatMs(cold.processMs)})`,
    ],
    [
      "warm build",
      formatMs(w.elapsedMs),
      `${w.hits} from the cache, ${w.misses} rendered`,
      `(process ${formatMs(warm.processMs)}; render pipeline ${w.pipelineLoaded ? "loaded" : "never loaded"})`,
    ],
  ]
  console.log("")
  for (const row of rows)
    console.log(`  ${(row[0] as string).padEnd(11)} ${(row[1] as string).padStart(8)}   ${row[2]}  ${row[3]}`)
  console.log(
    `  ${"speedup".padEnd(11)} ${`${speedup.toFixed(1)}×`.padStart(8)}   the build; ${processSpeedup.toFixed(1)}× for the whole process, Node.js and TypeScript start-up included`,
  )
  console.log(
    `  ${"pages".padEnd(11)} ${(warmTree.hash === coldTree.hash ? "same" : "DIFFER").padStart(8)}   ${warmTree.files} files, ${formatBytes(w.bytes)}, sha256 ${warmTree.hash.slice(0, 16)}… after both builds`,
  )
  console.log(
    `  ${"cache".padEnd(11)} ${formatBytes(held.size).padStart(8)}   ${held.entryCount} entries in ${held.name}; warm build: ${w.hits} hits, ${
      w.misses
    } misses, ${((w.hits / Math.max(1, w.documents)) * 100).toFixed(1)}% hit rate, ~${formatMs(w.savedMs)} of rendering saved`,
  )
  console.log(
    "\nNext: edit a page or a partial, build again (pnpm -C examples/blog build), and ask why pages missed:\n  pnpm -C examples/blog sitecache explain <page.md>",
  )
  if (warmTree.hash !== coldTree.hash || w.misses > 0) process.exitCode = 1
} finally {
  rmSync(work, { recursive: true, force: true })
}
