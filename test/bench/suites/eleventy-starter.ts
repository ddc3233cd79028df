/**
 * The whole build of a starter-like Eleventy site (examples/eleventy-site:
 * the official starter's plugins, 500 posts of real README files, every page
 * printing the build date), each build in its own process: without sitecache,
 * cold and warm with markdown and Eleventy's HTML transformer cached
 * (`transforms: ["@11ty/eleventy/html-transformer"]`, SQLite). The ratio is
 * whole process against whole process; the pages of the warm build must be
 * those of the build without sitecache (the build date normalized).
 */
import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { join, relative } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { type Bench, formatNs, largeSiteRepeat, median } from "../harness.js"

const run = promisify(execFile)
const example = fileURLToPath(new URL("../../../examples/eleventy-site/", import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href
const HTML_TRANSFORMER = "@11ty/eleventy/html-transformer"

interface StarterBuild {
  readonly wallMs: number
  readonly buildMs: number
  /** CPU time of the whole process: steadier than wall time on a machine whose cores are busy. */
  readonly cpuMs: number
  readonly markdownMs: number
  readonly hits?: number
  readonly misses?: number
  readonly line?: string
}

async function buildOnce(root: string, cached: boolean, dir: string): Promise<StarterBuild> {
  const options = cached ? { root, cached, dir, transforms: [HTML_TRANSFORMER] } : { root, cached }
  const started = process.hrtime.bigint()
  const { stdout } = await run(
    process.execPath,
    ["--conditions=@sitecache/source", "--import", tsx, join(example, "src/measure-starter.ts"), JSON.stringify(options)],
    { cwd: example, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, SITECACHE: "" } },
  )
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  return { wallMs, ...(JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Omit<StarterBuild, "wallMs">) }
}

/** The site's files, hashed, the build date every page prints replaced by a fixed text. */
function pages(output: string): Map<string, string> {
  const hashes = new Map<string, string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else {
        const bytes = readFileSync(path)
        const text = /\.(html|xml)$/.test(path)
          ? bytes.toString("utf8").replace(/built on \d{4}-\d\d-\d\dT[\d:.]+Z/g, "built on (the build date)")
          : bytes
        hashes.set(relative(output, path), createHash("sha256").update(text).digest("hex"))
      }
    }
  }
  walk(output)
  return hashes
}

function sameFiles(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([path, hash]) => b.get(path) === hash)
}

const ms = (value: number) => formatNs(value * 1e6)

export default async function eleventyStarter(bench: Bench): Promise<void> {
  const { generateStarter } = (await import(pathToFileURL(join(example, "src/generate-starter.ts")).href)) as {
    generateStarter(dir: string, posts: number): void
  }
  const posts = bench.smoke ? 20 : 500
  const work = mkdtempSync(join(bench.outDir, `${bench.smoke ? "smoke" : "full"}-`))
  const root = join(work, "site")
  generateStarter(root, posts)
  const dir = join(work, "cache")
  const output = join(root, "_site")
  const repeat = largeSiteRepeat(bench)
  const runs = { off: [] as StarterBuild[], cold: [] as StarterBuild[], warm: [] as StarterBuild[] }
  let identical = true
  for (let r = 0; r < repeat; r++) {
    rmSync(output, { recursive: true, force: true })
    runs.off.push(await buildOnce(root, false, dir))
    const reference = pages(output)
    rmSync(output, { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
    runs.cold.push(await buildOnce(root, true, dir))
    identical &&= sameFiles(pages(output), reference)
    runs.warm.push(await buildOnce(root, true, dir))
    identical &&= sameFiles(pages(output), reference)
  }
  const wall = (list: StarterBuild[]) => median(list.map((b) => b.wallMs))
  const build = (list: StarterBuild[]) => median(list.map((b) => b.buildMs))
  const cpu = (list: StarterBuild[]) => median(list.map((b) => b.cpuMs))
  const warm = runs.warm.at(-1) as StarterBuild
  const ratio = wall(runs.off) / wall(runs.warm)
  bench.table(
    `eleventy starter-like site (${posts} posts, every page prints the build date), median of ${repeat}: whole process`,
    [
      {
        label: "off (no sitecache)",
        value: ms(wall(runs.off)),
        note: `CPU ${ms(cpu(runs.off))}; build ${ms(build(runs.off))}, markdown ${ms(median(runs.off.map((b) => b.markdownMs)))}`,
      },
      {
        label: "cold (SQLite)",
        value: ms(wall(runs.cold)),
        ratio: `${(wall(runs.cold) / wall(runs.off)).toFixed(2)}×`,
        note: `CPU ${ms(cpu(runs.cold))}; build ${ms(build(runs.cold))}, vs off`,
      },
      {
        label: "warm (SQLite)",
        value: ms(wall(runs.warm)),
        ratio: `${ratio.toFixed(2)}×`,
        note: `faster than off (goal ≥ 2×: ${ratio >= 2 ? "met" : "MISSED"}); CPU ${ms(cpu(runs.warm))}; build ${ms(build(runs.warm))}; ${warm.hits} hits, ${warm.misses} misses`,
      },
      {
        label: "warm, CPU time",
        value: `${(cpu(runs.off) / cpu(runs.warm)).toFixed(2)}×`,
        note: "less CPU than off, whole process: the figure a machine with busy cores disturbs least",
      },
      { label: "pages", value: identical ? "same" : "DIFFER", note: "cold and warm against off, the build date normalized" },
    ],
  )
  if (warm.line !== undefined) console.log(`  warm summary: ${warm.line}`)
  bench.record("eleventy-starter", { posts, runs, identical })
  rmSync(work, { recursive: true, force: true })
  if (!identical) throw new Error("eleventy starter: the cached builds wrote other pages than the build without sitecache")
}
