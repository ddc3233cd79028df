/**
 * The example blog, as a user runs it, on a corpus of real markdown no one
 * here wrote (the markdown that installed packages ship, see `../corpus.ts`):
 *
 * - uncached: the blog's own pipeline with no cache code at all (the baseline);
 * - cold: an empty cache, every document rendered and stored;
 * - warm: the same build again, every document served from the cache;
 *
 * for the memory, fs and SQLite backends. Every build is a whole build:
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
 * 10% slower than uncached.
 *
 * `BENCH_BLOG_CORPUS=300` keeps the first 300 documents.
 */
import { createHash } from "node:crypto"
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { type BackendName, type Cache, createCache } from "@sitecache/core"
import { BLOG_PACKAGE_ROOT, type BuildResult, build, loadSite } from "example-blog"
import { type Corpus, describeCorpus, gatherCorpus, writeCorpus } from "../corpus.js"
import { type Bench, formatNs, median } from "../harness.js"

const BACKENDS = ["memory", "fs", "sqlite"] as const satisfies readonly BackendName[]

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
  const site = await loadSite({ cwd: root, argv: [], env: {} })
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

  const timed = async (name: string, run: () => Promise<BuildResult>): Promise<BuildResult> => {
    const started = performance.now()
    const result = await run()
    note(name, performance.now() - started)
    return result
  }

  const repeat = bench.smoke ? 1 : Math.max(1, Math.min(bench.repeat, 3))
  for (let r = 0; r < repeat; r++) {
    const uncached = await timed("uncached", () => build(site, { uncached: true }))
    reference ||= outputsHash(uncached)
    for (const backend of BACKENDS) {
      rmSync(cacheDir(backend), { recursive: true, force: true })
      let memory: Cache | undefined
      const once = async (): Promise<BuildResult> => {
        const cache = memory ?? (await open(backend))
        const result = await build(site, { cache })
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
  const rows = [
    {
      label: "uncached (the pipeline alone)",
      value: `${uncachedMs.toFixed(0)} ms`,
      note: `${formatNs((uncachedMs / documents) * 1e6)} per document`,
    },
  ]
  const figures: Record<string, unknown> = { documents, bytes: corpus.bytes, uncachedMs }
  let verdicts = ""
  for (const backend of BACKENDS) {
    const cold = median(times.get(`cold ${backend}`) ?? [])
    const warm = median(times.get(`warm ${backend}`) ?? [])
    const coldOver = cold / uncachedMs
    const speedup = uncachedMs / warm
    rows.push(
      {
        label: `cold ${backend}`,
        value: `${cold.toFixed(0)} ms`,
        note: `${formatNs((cold / documents) * 1e6)} per document, ${((coldOver - 1) * 100).toFixed(1)}% over uncached`,
      },
      {
        label: `warm ${backend}`,
        value: `${warm.toFixed(1)} ms`,
        note: `${formatNs((warm / documents) * 1e6)} per document, ${speedup.toFixed(1)}× faster than uncached (warm/uncached ${(warm / uncachedMs).toFixed(4)})`,
      },
    )
    figures[backend] = { coldMs: cold, warmMs: warm, coldOverUncached: coldOver, warmSpeedup: speedup }
    if (backend === "sqlite") {
      verdicts = `targets: warm sqlite ≥ 50× faster: ${speedup >= 50 ? "PASS" : "MISS"} (${speedup.toFixed(1)}×); cold ≤ 10% over uncached: ${
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
  bench.record("blog", { ...figures, samples: Object.fromEntries(times), checks })
  if (checks.length > 0) throw new Error(`blog bench checks failed: ${checks.join("; ")}`)
}
