/**
 * `@sitecache/eleventy` on real Eleventy builds of examples/eleventy-site and
 * of a generated variant (≥ 1,000 posts made of installed packages' README
 * files): uncached (no plugin), cold and warm (the plugin, SQLite), each in its
 * own process, timed whole, with the time spent inside the markdown library's
 * `render` (timed plainly uncached; lookups included when cached).
 */
import { execFile } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { type Bench, formatNs, largeSiteRepeat, median } from "../harness.js"

const run = promisify(execFile)
const example = fileURLToPath(new URL("../../../examples/eleventy-site/", import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href

interface BuildResult {
  readonly wallMs: number
  readonly renderMs: number
  readonly transformMs: number
  readonly hits: number
  readonly misses: number
}

async function buildOnce(root: string, cached: boolean, dir: string): Promise<BuildResult> {
  const started = process.hrtime.bigint()
  const { stdout } = await run(
    process.execPath,
    ["--conditions=@sitecache/source", "--import", tsx, join(example, "src/measure.ts"), JSON.stringify({ root, cached, dir })],
    { cwd: example, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, SITECACHE: "" } },
  )
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  const line = stdout.trim().split("\n").at(-1) ?? "{}"
  return { wallMs, ...(JSON.parse(line) as Omit<BuildResult, "wallMs">) }
}

const ms = (value: number) => formatNs(value * 1e6)

export default async function eleventy(bench: Bench): Promise<void> {
  const { generateSite } = (await import(pathToFileURL(join(example, "src/generate.ts")).href)) as {
    generateSite(dir: string, pages: number): void
  }
  const pages = bench.smoke ? 20 : 1000
  // A directory of this run's own: bench runs in parallel (a smoke run in CI, a full one here) must not share sites.
  const work = mkdtempSync(join(bench.outDir, `${bench.smoke ? "smoke" : "full"}-`))
  const exampleCopy = join(work, "example")
  rmSync(exampleCopy, { recursive: true, force: true })
  mkdirSync(exampleCopy, { recursive: true })
  cpSync(join(example, "content"), join(exampleCopy, "content"), { recursive: true })
  const generated = join(work, "generated")
  generateSite(generated, pages)

  // Smoke: only a small generated site, once (three builds), to keep the harness honest in CI.
  const sites = [
    ...(bench.smoke ? [] : [{ name: "example", label: "example (8 pages)", root: exampleCopy, repeat: bench.repeat }]),
    {
      name: "generated",
      label: `generated (${pages} posts)`,
      root: generated,
      repeat: largeSiteRepeat(bench),
    },
  ]
  const data: Record<string, unknown> = {}
  for (const site of sites) {
    const dir = join(work, `${site.name}-cache`)
    const runs = { uncached: [] as BuildResult[], cold: [] as BuildResult[], warm: [] as BuildResult[] }
    for (let r = 0; r < site.repeat; r++) {
      runs.uncached.push(await buildOnce(site.root, false, dir))
      rmSync(dir, { recursive: true, force: true })
      runs.cold.push(await buildOnce(site.root, true, dir))
      runs.warm.push(await buildOnce(site.root, true, dir))
    }
    const wall = (list: BuildResult[]) => median(list.map((b) => b.wallMs))
    const render = (list: BuildResult[]) => median(list.map((b) => b.renderMs))
    const warm = runs.warm.at(-1) as BuildResult
    bench.table(`eleventy, ${site.label}, median of ${site.repeat}: whole process / inside markdown rendering`, [
      { label: "uncached", value: ms(wall(runs.uncached)), note: `markdown ${ms(render(runs.uncached))}` },
      {
        label: "cold (SQLite)",
        value: ms(wall(runs.cold)),
        ratio: `${(wall(runs.cold) / wall(runs.uncached)).toFixed(2)}×`,
        note: `markdown ${ms(render(runs.cold))}, vs uncached`,
      },
      {
        label: "warm (SQLite)",
        value: ms(wall(runs.warm)),
        ratio: `${(wall(runs.uncached) / wall(runs.warm)).toFixed(2)}×`,
        note: `faster than uncached; markdown ${ms(render(runs.warm))}, htmlmin ${ms(median(runs.warm.map((b) => b.transformMs)))} (${warm.hits} hits, ${warm.misses} misses)`,
      },
      {
        label: "markdown: uncached / warm",
        value: `${(render(runs.uncached) / render(runs.warm)).toFixed(1)}×`,
        note: "target ≥ 10×",
      },
      {
        label: "what the cache cannot touch",
        value: ms(wall(runs.warm) - render(runs.warm) - median(runs.warm.map((b) => b.transformMs))),
        note: "warm: start-up, config, data cascade, collections, Liquid, layouts, writing",
      },
    ])
    data[site.label] = runs
  }
  bench.record("eleventy", data)
  rmSync(work, { recursive: true, force: true })
}
