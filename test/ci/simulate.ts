/**
 * CI runs of the example blog, simulated the way a CI service runs them and
 * the way docs/ci.md sets them up:
 *
 * 1. a fresh checkout in a new folder (the blog's sources copied there);
 * 2. the cache folder (`node_modules/.cache/sitecache`) restored by copying
 *    what the last run saved, timestamps kept (`actions/cache` and GitLab's
 *    `cache:` restore a tar archive);
 * 3. the build (`blog`, with `--cache=read` for a pull request);
 * 4. the cache folder saved by copying it back, unless the run is read-only.
 *
 * Each run has its own checkout path, so a warm run proves that keys are
 * project-relative: the cache moved. The cache's clock is the run's time, so
 * twenty nightly runs take milliseconds; a dependency bump is a new installed
 * version of one plugin, as the pipeline's fingerprint reads it.
 */
import { createHash } from "node:crypto"
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, relative, sep } from "node:path"
import { type CacheConfig, createCache } from "@sitecache/core"
import { PackageResolver } from "@sitecache/unified"
import { BLOG_PACKAGE_ROOT, type BuildResult, build, loadSite } from "example-blog"

/** Where the blog keeps its cache in a checkout (the default `dir`). */
export const CACHE_FOLDER = join("node_modules", ".cache", "sitecache")

/** The blog's own sources: what a checkout holds. */
const SOURCES = ["content", "layouts", "partials", "assets", "blog.config.json"]

export interface CiOptions {
  readonly backend: "fs" | "sqlite"
  /** Cache options over the blog's (`maxSize`, `maxIdle`). */
  readonly cache?: Partial<CacheConfig>
}

export interface RunOptions {
  /** The run's time (ms since the epoch): the cache's clock. */
  readonly at: number
  /** Versions of the installed plugins: a new one is a dependency bump. Default the first. */
  readonly generation?: number
  /** A pull request: the cache restored, read, never written nor saved. */
  readonly readOnly?: boolean
  /** Change the checkout before the build (edit a document). */
  readonly edit?: (checkout: string) => Promise<void>
}

export interface CiRun {
  readonly checkout: string
  readonly result: BuildResult
  /** Bytes and files of the cache folder after the run (what the CI saves). */
  readonly cacheBytes: number
  readonly cacheFiles: number
  /** Every page built: relative path → sha256. */
  readonly pages: Record<string, string>
  /** Whether the build left the restored cache folder exactly as it was (every file's size and time). */
  readonly cacheUntouched: boolean
}

/** A plugin of the blog's pipeline at another installed version, as the fingerprint reads it. */
class Bumped extends PackageResolver {
  readonly #version: string
  constructor(generation: number) {
    super()
    this.#version = `6.0.${generation}`
  }
  override info(packageDir: string) {
    const info = super.info(packageDir)
    return info?.name === "rehype-slug" ? { ...info, version: this.#version } : info
  }
}

export async function folderSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0
  let files = 0
  let names: string[]
  try {
    names = await readdir(dir, { recursive: true })
  } catch {
    return { bytes: 0, files: 0 }
  }
  for (const name of names) {
    const info = await stat(join(dir, name))
    if (info.isFile()) {
      bytes += info.size
      files++
    }
  }
  return { bytes, files }
}

/** Every file below `dir` with its size and modification time, sorted; empty when `dir` is missing. */
async function listing(dir: string): Promise<[string, number, number][]> {
  if (!(await exists(dir))) return []
  const files: [string, number, number][] = []
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const info = await stat(join(dir, name))
    if (info.isFile()) files.push([name, info.size, info.mtimeMs])
  }
  return files
}

export async function hashPages(dir: string): Promise<Record<string, string>> {
  const pages: Record<string, string> = {}
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const path = join(dir, name)
    if (!(await stat(path)).isFile() || name.endsWith(".blog-outputs.json")) continue
    pages[relative(dir, path).split(sep).join("/")] = createHash("sha256")
      .update(await readFile(path))
      .digest("hex")
  }
  return pages
}

/** A CI service for one project: checkouts under a scratch folder, and the saved cache. */
export class SimulatedCi {
  readonly options: CiOptions
  readonly #root: string
  readonly #saved: string
  #runs = 0

  private constructor(options: CiOptions, root: string) {
    this.options = options
    this.#root = root
    this.#saved = join(root, "saved-cache")
  }

  static async create(options: CiOptions): Promise<SimulatedCi> {
    return new SimulatedCi(options, await mkdtemp(join(tmpdir(), "sitecache-ci-")))
  }

  /** One run: checkout, restore, build, save. */
  async run(options: RunOptions): Promise<CiRun> {
    const checkout = join(this.#root, `checkout-${++this.#runs}`)
    try {
      await mkdir(checkout, { recursive: true })
      for (const source of SOURCES) await cp(join(BLOG_PACKAGE_ROOT, source), join(checkout, source), { recursive: true })
      const cacheFolder = join(checkout, CACHE_FOLDER)
      if (await exists(this.#saved)) await cp(this.#saved, cacheFolder, { recursive: true, preserveTimestamps: true })
      const restored = await listing(cacheFolder)
      await options.edit?.(checkout)
      const argv = ["--cache-backend", this.options.backend, ...(options.readOnly ? ["--cache=read"] : [])]
      const site = await loadSite({ cwd: checkout, argv, env: {} })
      const cache = await createCache(
        { ...site.cache, ...this.options.cache },
        { resolveFrom: import.meta.url, clock: () => options.at },
      )
      let result: BuildResult
      try {
        result = await build(site, { cache, resolver: new Bumped(options.generation ?? 0) })
      } finally {
        await cache.close()
      }
      if (!options.readOnly) {
        await rm(this.#saved, { recursive: true, force: true })
        await cp(cacheFolder, this.#saved, { recursive: true, preserveTimestamps: true })
      }
      const cacheUntouched = JSON.stringify(await listing(cacheFolder)) === JSON.stringify(restored)
      const size = await folderSize(cacheFolder)
      const pages = await hashPages(site.outDir)
      return { checkout, result, cacheBytes: size.bytes, cacheFiles: size.files, pages, cacheUntouched }
    } finally {
      // A checkout lives for one run, as on a CI runner.
      await rm(checkout, { recursive: true, force: true })
    }
  }

  /** Restore the saved cache folder into `checkout`, as the next run would (to look at it with `sitecache`). */
  async restore(checkout: string): Promise<void> {
    await cp(this.#saved, join(checkout, CACHE_FOLDER), { recursive: true, preserveTimestamps: true })
  }

  async dispose(): Promise<void> {
    await rm(this.#root, { recursive: true, force: true })
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

const DAY = 86_400_000

export interface SizeSeries {
  /** Bytes of the saved cache folder after each run. */
  readonly bytes: number[]
  /** Misses of each run. */
  readonly misses: number[]
  /** Entries the sweep of each run removed. */
  readonly swept: number[]
}

/**
 * `runs` nightly runs (one a day) with a dependency bump every `bumpEvery`
 * runs, on a fresh CI: the saved cache folder's size after each.
 */
export async function nightlyRuns(
  options: CiOptions,
  runs = 20,
  bumpEvery = 5,
  afterwards?: (ci: SimulatedCi) => Promise<void>,
): Promise<SizeSeries> {
  const start = Date.UTC(2030, 0, 1)
  const ci = await SimulatedCi.create(options)
  const series: SizeSeries = { bytes: [], misses: [], swept: [] }
  try {
    for (let i = 0; i < runs; i++) {
      const run = await ci.run({ at: start + i * DAY, generation: Math.floor(i / bumpEvery) })
      series.bytes.push(run.cacheBytes)
      series.misses.push(run.result.stats.misses)
      series.swept.push(run.result.run?.swept?.entries ?? 0)
    }
    await afterwards?.(ci)
  } finally {
    await ci.dispose()
  }
  return series
}
