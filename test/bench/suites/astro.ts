/**
 * `@sitecache/astro` on real `astro build`s of examples/astro-site (210
 * pages: markdown pages, MDX pages with components, an MDX collection, Shiki,
 * images, a custom remark and rehype plugin), each in its own process:
 * uncached (`--no-cache`), cold and warm (SQLite), timed whole, with the wall
 * time inside the steps the integration caches (Astro's markdown `load` and
 * MDX's `transform`; lookups included when cached). The pages of the cached
 * builds must be those of the uncached one.
 *
 * The builds run as a user's do: plain `node astro.js build` on the packages
 * as published (each package's `build` script, run first), not through the
 * repository's TypeScript loader, whose hooks see every module Astro, Vite and
 * Rollup load and cost about 3 s of CPU per build on this site, the same with
 * the cache or without. An untimed uncached build comes first, so that the
 * timed ones all find Astro's own data store and the files in the page cache.
 *
 * Each build's CPU time is split where Astro's log marks its phases: start-up
 * (configuration, content sync, types, routes), the Vite build (where the
 * cached steps run, then Rollup bundles the pages), prerendering and the end
 * (sitecache's records and close included). The split shows what a cache of
 * per-document steps can reach: the Vite build's markdown and MDX work, not
 * Astro's start-up, Rollup or prerendering.
 */
import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { type Bench, formatNs, largeSiteRepeat, median } from "../harness.js"

const run = promisify(execFile)
const repository = fileURLToPath(new URL("../../../", import.meta.url))
const example = join(repository, "examples", "astro-site")

/** The packages the example's build loads, built as they are published (`dist/`). */
const PACKAGES = ["@sitecache/core", "@sitecache/backend-sqlite", "@sitecache/astro"]

/**
 * Prints the process's CPU time (user and system, all its threads) when it
 * exits, and what it was when Astro logged the start of the Vite build and of
 * prerendering.
 */
const cpuReporter = `data:text/javascript,${encodeURIComponent(
  [
    "const cpu=()=>{const u=process.cpuUsage();return (u.user+u.system)/1000},marks={},write=process.stdout.write.bind(process.stdout);",
    'process.stdout.write=(chunk,...rest)=>{const s=String(chunk);if(s.includes("Building static entrypoints"))marks.vite??=cpu();',
    'else if(s.includes("generating static routes"))marks.prerender??=cpu();return write(chunk,...rest)};',
    'process.on("exit",()=>{write("astro-bench-cpu-ms "+cpu()+" "+(marks.vite??"NaN")+" "+(marks.prerender??"NaN")+"\\n")})',
  ].join(""),
)}`

/** CPU time of a build, split at Astro's phases, in ms. */
interface Phases {
  /** Process start to the Vite build: configuration, content sync, types, routes. */
  readonly startup: number
  /** Astro's Vite build: the cached steps run in it, then Rollup bundles the pages. */
  readonly vite: number
  /** Prerendering the pages and the end of the build (sitecache's records and close). */
  readonly prerender: number
}

interface AstroBuild {
  readonly wallMs: number
  /** CPU time of the build's process (a busy machine stretches the wall time, much less this). */
  readonly cpuMs: number
  readonly phases: Phases
  readonly stepMs: number
  readonly hits: number
  readonly misses: number
  readonly line: string
}

/** Build the packages the example loads, as `npm publish` would ship them. */
async function buildPackages(): Promise<void> {
  await run("pnpm", [...PACKAGES.flatMap((name) => ["--filter", name]), "run", "build"], {
    cwd: repository,
    maxBuffer: 16 * 1024 * 1024,
  })
}

async function buildOnce(root: string, outDir: string, cached: boolean): Promise<AstroBuild> {
  rmSync(outDir, { recursive: true, force: true })
  const started = process.hrtime.bigint()
  const { stdout } = await run(
    process.execPath,
    ["--import", cpuReporter, "node_modules/astro/astro.js", "build", "--outDir", outDir, ...(cached ? [] : ["--no-cache"])],
    {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, SITECACHE: "", SITECACHE_DIR: join(root, "..", "cache"), NO_COLOR: "1" },
    },
  )
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  const line = stdout.split("\n").find((l) => l.includes("[sitecache]")) ?? ""
  const counts = /(\d+) hits, (\d+) misses/.exec(line)
  const step = /(\d+) ms in (?:cached steps|the steps it caches)/.exec(line)
  if (step === null) throw new Error(`astro bench: no sitecache summary in the build's output:\n${stdout.slice(-2000)}`)
  const cpu = /astro-bench-cpu-ms ([\d.]+) ([\d.]+|NaN) ([\d.]+|NaN)/.exec(stdout)
  const [total, vite, prerender] = [cpu?.[1], cpu?.[2], cpu?.[3]].map((value) => Number(value ?? Number.NaN)) as [
    number,
    number,
    number,
  ]
  return {
    wallMs,
    cpuMs: total,
    phases: { startup: vite, vite: prerender - vite, prerender: total - prerender },
    stepMs: Number(step[1]),
    hits: Number(counts?.[1] ?? 0),
    misses: Number(counts?.[2] ?? 0),
    line,
  }
}

function pages(outDir: string): Map<string, string> {
  const hashes = new Map<string, string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else hashes.set(relative(outDir, path), createHash("sha256").update(readFileSync(path)).digest("hex"))
    }
  }
  walk(outDir)
  return hashes
}

function sameFiles(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([path, hash]) => b.get(path) === hash)
}

/** A copy of the example (the first `limit` pages of each folder when given), with Astro's own cache in the copy. */
function copyExample(root: string, limit: number | undefined): number {
  let documents = 0
  cpSync(example, root, {
    recursive: true,
    filter: (source) => {
      const rel = relative(example, source)
      if (/^(node_modules|dist|\.astro|test)(\/|$)/.test(rel)) return false
      const match = /^src\/(pages\/docs|pages\/notes|content\/guides)\/([^/]+)$/.exec(rel)
      if (match === null) return true
      const index = Number.parseInt(match[2] as string, 10)
      const keep = limit === undefined || index <= limit
      if (keep) documents++
      return keep
    },
  })
  mkdirSync(join(root, "node_modules"))
  for (const name of readdirSync(join(example, "node_modules")))
    if (!name.startsWith(".")) symlinkSync(join(example, "node_modules", name), join(root, "node_modules", name))
  return documents
}

const ms = (value: number) => formatNs(value * 1e6)

async function syncOnce(root: string): Promise<number> {
  const started = process.hrtime.bigint()
  await run(process.execPath, ["node_modules/astro/astro.js", "sync"], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1" },
  })
  return Number(process.hrtime.bigint() - started) / 1e6
}

/**
 * Astro's own cache of content collections: the markdown pages of the copy
 * made a collection of `.md` entries, synced with an empty data store
 * (node_modules/.astro/data-store.json removed: every entry rendered) and
 * again with the store of the first sync (every entry's digest unchanged:
 * none rendered). sitecache does not cache these entries again.
 */
async function dataStore(root: string, repeat: number): Promise<{ empty: number; kept: number; entries: number }> {
  const from = join(root, "src", "pages", "docs")
  const to = join(root, "src", "content", "articles")
  mkdirSync(to, { recursive: true })
  let entries = 0
  for (const name of readdirSync(from)) {
    // A collection entry has no layout: Astro renders it where a page asks for it.
    writeFileSync(join(to, name), readFileSync(join(from, name), "utf8").replace(/^layout: .*\n/m, ""))
    entries++
  }
  const config = join(root, "src", "content.config.mjs")
  writeFileSync(
    config,
    readFileSync(config, "utf8").replace(
      "export const collections = { guides }",
      'const articles = defineCollection({ loader: glob({ pattern: "*.md", base: "./src/content/articles" }) })\n\nexport const collections = { guides, articles }',
    ),
  )
  const empty: number[] = []
  const kept: number[] = []
  for (let r = 0; r < repeat; r++) {
    rmSync(join(root, "node_modules", ".astro"), { recursive: true, force: true })
    empty.push(await syncOnce(root))
    kept.push(await syncOnce(root))
  }
  return { empty: median(empty), kept: median(kept), entries }
}

export default async function astro(bench: Bench): Promise<void> {
  const work = mkdtempSync(join(bench.outDir, `${bench.smoke ? "smoke" : "full"}-`))
  const root = join(work, "site")
  const documents = copyExample(root, bench.smoke ? 5 : undefined)
  const outDir = join(root, "dist")
  const cacheDir = join(work, "cache")
  const repeat = largeSiteRepeat(bench)
  const runs = { off: [] as AstroBuild[], cold: [] as AstroBuild[], warm: [] as AstroBuild[] }
  let identical = true
  await buildPackages()
  // Untimed: the first build creates Astro's data store and reads every file from disk, which no timed build should.
  if (!bench.smoke) await buildOnce(root, outDir, false)
  for (let r = 0; r < repeat; r++) {
    runs.off.push(await buildOnce(root, outDir, false))
    const reference = pages(outDir)
    rmSync(cacheDir, { recursive: true, force: true })
    runs.cold.push(await buildOnce(root, outDir, true))
    identical &&= sameFiles(pages(outDir), reference)
    runs.warm.push(await buildOnce(root, outDir, true))
    identical &&= sameFiles(pages(outDir), reference)
  }
  const wall = (list: AstroBuild[]) => median(list.map((b) => b.wallMs))
  const steps = (list: AstroBuild[]) => median(list.map((b) => b.stepMs))
  const cpu = (list: AstroBuild[]) => median(list.map((b) => b.cpuMs))
  const warm = runs.warm.at(-1) as AstroBuild
  const speedup = wall(runs.off) / wall(runs.warm)
  const coldRatio = wall(runs.cold) / wall(runs.off)
  bench.table(`astro example (${documents} markdown and MDX documents), median of ${repeat}: whole process`, [
    {
      label: "off (--no-cache)",
      value: ms(wall(runs.off)),
      note: `CPU ${ms(cpu(runs.off))}; inside the steps it caches ${ms(steps(runs.off))}`,
    },
    {
      label: "cold (SQLite)",
      value: ms(wall(runs.cold)),
      ratio: `${coldRatio.toFixed(2)}×`,
      note: `vs off (goal ≤ 1.05×: ${coldRatio <= 1.05 ? "met" : "MISSED"}); CPU ${ms(cpu(runs.cold))} (${(cpu(runs.cold) / cpu(runs.off)).toFixed(2)}×); inside the cached steps ${ms(steps(runs.cold))}`,
    },
    {
      label: "warm (SQLite)",
      value: ms(wall(runs.warm)),
      ratio: `${speedup.toFixed(2)}×`,
      note: `faster than off (goal ≥ 3×: ${speedup >= 3 ? "met" : "MISSED"}); CPU ${ms(cpu(runs.warm))} (${(cpu(runs.off) / cpu(runs.warm)).toFixed(2)}× less); ${warm.hits} hits, ${warm.misses} misses`,
    },
    {
      label: "inside the cached steps",
      value: ms(steps(runs.warm)),
      ratio: `${(steps(runs.off) / Math.max(steps(runs.warm), 1)).toFixed(1)}×`,
      note: "warm against off: the markdown and MDX rendering a hit replaces",
    },
    { label: "pages", value: identical ? "same" : "DIFFER", note: "cold and warm dist/ against off, byte for byte" },
  ])
  console.log(`  warm summary: ${warm.line.replace(/^.*\[sitecache\] /, "")}`)
  const phase = (list: AstroBuild[], name: keyof Phases) => median(list.map((b) => b.phases[name]))
  const phaseRow = (label: string, name: keyof Phases, note: string) => ({
    label,
    value: `${ms(phase(runs.off, name))} → ${ms(phase(runs.warm, name))}`,
    ratio: `${(phase(runs.off, name) / phase(runs.warm, name)).toFixed(2)}×`,
    note,
  })
  const outsideVite = phase(runs.warm, "startup") + phase(runs.warm, "prerender")
  bench.table(`astro example: CPU time by phase, off → warm (median of ${repeat})`, [
    phaseRow("start-up", "startup", "configuration, integrations, content sync, types, routes"),
    phaseRow("Vite build", "vite", "the cached steps run here; then Rollup bundles every page, hit or not"),
    phaseRow("prerender and end", "prerender", "rendering the pages to HTML; sitecache's records and close"),
    {
      label: "3× budget",
      value: ms(cpu(runs.off) / 3),
      note: `a warm build's CPU for the goal; its phases outside the Vite build alone take ${ms(outsideVite)}`,
    },
  ])
  const store = await dataStore(root, repeat)
  bench.table(`astro content collection of ${store.entries} markdown entries: \`astro sync\`, Astro's own data store`, [
    { label: "empty data store", value: ms(store.empty), note: "every entry rendered" },
    {
      label: "data store kept",
      value: ms(store.kept),
      ratio: `${(store.empty / store.kept).toFixed(2)}×`,
      note: "no entry rendered (their digests unchanged); sitecache does not cache them again",
    },
  ])
  bench.record("astro", { documents, runs, identical, dataStore: store })
  rmSync(work, { recursive: true, force: true })
  if (!identical) throw new Error("astro: the cached builds wrote other pages than the build without sitecache")
  if (warm.misses !== 0 || warm.hits !== documents) throw new Error(`astro: the warm build restored ${warm.hits} of ${documents}`)
}
