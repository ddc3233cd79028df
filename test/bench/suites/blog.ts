/**
 * The example blog, as a user runs it, on a corpus of real markdown no one
 * here wrote (the markdown that installed packages ship, see `../corpus.ts`):
 *
 * - uncached: the blog's own pipeline with no cache code at all (the baseline);
 * - cold: an empty cache, every document rendered and stored;
 * - warm: the same build again, every document served from the cache;
 *
 * for the memory, fs and SQLite backends. Uncached and cold builds start from
 * an empty output folder (a clean build), a warm build finds the pages its
 * cold build wrote (a second build). Every build is a whole build:
 * opening the cache, fingerprinting the pipeline, listing, reading every
 * source, rendering or restoring, writing every page and the index, recording
 * the build, closing the cache (the memory cache is kept open between its
 * cold and warm build: it cannot outlive its process). One untimed uncached
 * build comes first, so that no configuration pays for importing the
 * pipeline or for the JIT's warm-up.
 *
 * Builds are interleaved (uncached, then each backend cold and warm) and
 * repeated; every figure is a median, every ratio is between figures of this
 * run. Targets: warm SQLite at least 50× faster than uncached; cold at most
 * 10% slower than uncached. Wall time is what the targets are about; CPU time
 * (user + system of this process) is printed beside it, since on a machine
 * shared with other jobs it moves much less than wall time does.
 *
 * `BENCH_BLOG_CORPUS=300` keeps the first 300 documents.
 */
import { createHash } from "node:crypto"
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { type BackendName, type Cache, createCache } from "@sitecache/core"
import { BLOG_PACKAGE_ROOT, type BuildResult, build, loadSite, type Site } from "example-blog"
import { type Corpus, describeCorpus, gatherCorpus, writeCorpus } from "../corpus.js"
import { type Bench, formatNs, median } from "../harness.js"

const BACKENDS = ["memory", "fs", "sqlite"] as const satisfies readonly BackendName[]

/** A full collection, so no build pays for the garbage of the one before. */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc")
  ;(runInNewContext("gc") as () => void)()
}

function outputsHash(result: BuildResult): string {
  const hash = createHash("sha256")
  for (const document of result.documents) hash.update(document.url).update(readFileSync(document.output))
  return hash.digest("hex")
}

export default async function blog(bench: Bench): Promise<void> {
  const limit = bench.smoke ? 100 : process.env.BENCH_BLOG_CORPUS ? Number(process.env.BENCH_BLOG_CORPUS) : undefined
  const corpus = gatherCorpus(limit === undefined ? {} : { limit })
  console.log(`  ${describeCorpus(corpus)}`)
  if (corpus.documents.length < 1000 && limit === undefined) {
    console.log(`  note: fewer than 1,000 documents are installed here; the corpus is every one of them`)
  }

  // One directory per run: several runs of the suite (CI, a colleague's smoke run) may overlap.
  const root = join(bench.outDir, `site-${process.pid}`)
  rmSync(root, { recursive: true, force: true })
  try {
    await run(bench, root, corpus)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

async function run(bench: Bench, root: string, corpus: Corpus): Promise<void> {
  for (const folder of ["layouts", "partials", "assets"])
    cpSync(join(BLOG_PACKAGE_ROOT, folder), join(root, folder), { recursive: true })
  writeCorpus(corpus, join(root, "content"))
  writeFileSync(join(root, "blog.config.json"), JSON.stringify({ title: "Installed packages", cache: { backend: "sqlite" } }))
  // Each configuration writes its own site; uncached and cold builds start from an empty output
  // folder (a clean build), a warm build finds the pages its cold build wrote (a second build).
  const sites = new Map<string, Site>()
  const siteFor = async (name: string): Promise<Site> => {
    let site = sites.get(name)
    if (site === undefined) {
      site = await loadSite({ cwd: root, argv: ["--out", join(root, "out", name)], env: {} })
      sites.set(name, site)
    }
    return site
  }
  const clean = (site: Site) => rmSync(site.outDir, { recursive: true, force: true })
  const site = await siteFor("uncached")
  const documents = corpus.documents.length

  // Import the pipeline's modules and let the JIT compile them, outside every measurement: one
  // untimed uncached build (otherwise the first configuration measured pays for the warm-up).
  await build(site, { uncached: true })

  const cacheDir = (backend: string) => join(root, "caches", backend)
  const open = (backend: BackendName): Promise<Cache> =>
    createCache({ backend, dir: cacheDir(backend), root, memory: { maxSize: "2 GB" } }, { resolveFrom: import.meta.url })

  const times = new Map<string, number[]>()
  const note = (name: string, ms: number) => times.set(name, [...(times.get(name) ?? []), ms])
  const checks: string[] = []
  let reference = ""

  const cpuTimes = new Map<string, number[]>()
  const timed = async (name: string, run: () => Promise<BuildResult>): Promise<BuildResult> => {
    // Every build starts with a clean heap, as a build in its own process would.
    collectGarbage()
    const cpu = process.cpuUsage()
    const started = performance.now()
    const result = await run()
    note(name, performance.now() - started)
    const used = process.cpuUsage(cpu)
    cpuTimes.set(name, [...(cpuTimes.get(name) ?? []), (used.user + used.system) / 1000])
    return result
  }

  const repeat = bench.smoke ? 1 : Math.max(1, Math.min(bench.repeat, 3))
  for (let r = 0; r < repeat; r++) {
    clean(site)
    const uncached = await timed("uncached", () => build(site, { uncached: true }))
    reference ||= outputsHash(uncached)
    for (const backend of BACKENDS) {
      rmSync(cacheDir(backend), { recursive: true, force: true })
      const backendSite = await siteFor(backend)
      clean(backendSite)
      let memory: Cache | undefined
      const once = async (): Promise<BuildResult> => {
        const cache = memory ?? (await open(backend))
        const result = await build(backendSite, { cache })
        if (backend === "memory") memory = cache
        else await cache.close()
        return result
      }
      const cold = await timed(`cold ${backend}`, once)
      const warm = await timed(`warm ${backend}`, once)
      await memory?.close()
      if (cold.stats.misses !== documents) checks.push(`cold ${backend}: ${cold.stats.misses} misses of ${documents}`)
      if (warm.stats.hits !== documents) checks.push(`warm ${backend}: ${warm.stats.hits} hits of ${documents}`)
      if (warm.pipelineLoaded) checks.push(`warm ${backend}: loaded the pipeline`)
      if (outputsHash(warm) !== reference) checks.push(`warm ${backend}: pages differ from the uncached build`)
    }
  }

  const uncachedMs = median(times.get("uncached") ?? [])
  const uncachedCpu = median(cpuTimes.get("uncached") ?? [])
  const perDocument = (ms: number) => formatNs((ms / documents) * 1e6)
  const rows = [
    {
      label: "uncached (the pipeline alone)",
      value: `${uncachedMs.toFixed(0)} ms`,
      note: `${perDocument(uncachedMs)} per document; CPU ${uncachedCpu.toFixed(0)} ms`,
    },
  ]
  const figures: Record<string, unknown> = { documents, bytes: corpus.bytes, uncachedMs, uncachedCpuMs: uncachedCpu }
  let verdicts = ""
  for (const backend of BACKENDS) {
    const cold = median(times.get(`cold ${backend}`) ?? [])
    const warm = median(times.get(`warm ${backend}`) ?? [])
    const coldCpu = median(cpuTimes.get(`cold ${backend}`) ?? [])
    const warmCpu = median(cpuTimes.get(`warm ${backend}`) ?? [])
    const coldOver = cold / uncachedMs
    const speedup = uncachedMs / warm
    rows.push(
      {
        label: `cold ${backend}`,
        value: `${cold.toFixed(0)} ms`,
        note: `${perDocument(cold)} per document, ${((coldOver - 1) * 100).toFixed(1)}% over uncached; CPU ${coldCpu.toFixed(0)} ms, ${((coldCpu / uncachedCpu - 1) * 100).toFixed(1)}% over`,
      },
      {
        label: `warm ${backend}`,
        value: `${warm.toFixed(1)} ms`,
        note: `${perDocument(warm)} per document, ${speedup.toFixed(1)}× faster than uncached (warm/uncached ${(warm / uncachedMs).toFixed(4)}); CPU ${warmCpu.toFixed(0)} ms, ${(uncachedCpu / warmCpu).toFixed(1)}×`,
      },
    )
    figures[backend] = {
      coldMs: cold,
      warmMs: warm,
      coldCpuMs: coldCpu,
      warmCpuMs: warmCpu,
      coldOverUncached: coldOver,
      warmSpeedup: speedup,
      warmCpuSpeedup: uncachedCpu / warmCpu,
    }
    if (backend === "sqlite") {
      verdicts = `targets (wall time): warm sqlite ≥ 50× faster: ${speedup >= 50 ? "PASS" : "MISS"} (${speedup.toFixed(1)}×); cold ≤ 10% over uncached: ${
        coldOver <= 1.1 ? "PASS" : "MISS"
      } (${((coldOver - 1) * 100).toFixed(1)}%)`
    }
  }
  bench.table(
    `blog: ${documents} real documents (${(corpus.bytes / 1024 / 1024).toFixed(1)} MiB), whole builds, median of ${repeat}`,
    rows,
  )
  console.log(`  ${verdicts}`)
  console.log(
    checks.length === 0
      ? "  checks: every warm build hit every document, loaded no pipeline, and wrote the uncached build's pages"
      : `  checks FAILED: ${checks.join("; ")}`,
  )
  bench.record("blog", { ...figures, samples: Object.fromEntries(times), cpuSamples: Object.fromEntries(cpuTimes), checks })
  if (checks.length > 0) throw new Error(`blog bench checks failed: ${checks.join("; ")}`)
}
