/**
 * The size of a CI cache over twenty nightly runs of the example blog, with a
 * dependency bump every fifth run (every page gets a new key): before the
 * sweep of unused entries (`maxIdle: false`, no size limit) and with the
 * defaults (a week, 1 GiB). Each run is a fresh checkout with the cache folder
 * restored and saved by copying (test/ci/simulate.ts); sizes are the saved
 * folder's bytes after each run. SQLite (the blog's backend) by default;
 * `SITECACHE_BENCH_CI_BACKENDS=sqlite,fs` adds the fs backend (two minutes
 * more on a 2-core machine).
 *
 * Then what the sweep costs, on a cache of many entries half of which went
 * unused for a week: the daily sweep itself, and `finishBuild` on the other
 * days (one record read) against `finishBuild` with the sweep off. The second
 * ratio is the one that matters: a build's cost must not grow with the cache.
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { BuildStats, createCache, finishBuild, formatBytes, key, StoreCache } from "@sitecache/core"
import { nightlyRuns, type SizeSeries } from "../../ci/simulate.js"
import { type Bench, formatNs, median, ratio } from "../harness.js"

const DAY = 86_400_000

/** A build's records: `documents` documents, all hits. */
function buildOf(documents: number): BuildStats {
  const stats = new BuildStats()
  for (let i = 0; i < documents; i++)
    stats.documentRecords.set(`content/${i}.md`, { path: `content/${i}.md`, key: key("doc", i).hex, hit: true })
  stats.hits = documents
  return stats
}

async function sweepCost(bench: Bench, backend: "sqlite" | "fs"): Promise<void> {
  const entries = bench.smoke ? 1_000 : 10_000
  const dir = join(bench.outDir, `sweep-${backend}`)
  rmSync(dir, { recursive: true, force: true })
  const clock = { now: Date.UTC(2030, 0, 1) }
  const cache = await createCache({ backend, dir }, { resolveFrom: import.meta.url, clock: () => clock.now })
  const page = "<p>a rendered page</p>".repeat(180)
  const all = Array.from({ length: entries }, (_, i) => key("page", i))
  for (let i = 0; i < entries; i += 500) await cache.putMany(all.slice(i, i + 500).map((k) => [k, page] as const))
  await cache.persist()
  clock.now += 8 * DAY
  // Half the entries are still in use: read a week later.
  for (let i = 0; i < entries; i += 2) await cache.get(all[i] as ReturnType<typeof key>)
  await cache.persist()
  const used = cache.store.stats(cache.keyPrefix)
  const size = (await used).size
  const sweep = await bench.measureOnce("daily sweep", async (repetition) => {
    if (repetition > 0) return
    const result = await cache.sweep({ maxIdle: 7 * DAY })
    if (result?.removedCount !== entries / 2) throw new Error(`the sweep removed ${result?.removedCount}, not ${entries / 2}`)
  })
  const documents = 1_000
  const off = new StoreCache(cache.store, { clock: () => clock.now, maxIdle: false })
  // One build of each first (the sweep's record is written, the manifest stored), and on fs a pause so that the
  // shard directories the sweep changed settle: the builds measured are the ones of the other days.
  await finishBuild(cache, buildOf(documents), "site")
  await finishBuild(off, buildOf(documents), "site")
  if (backend === "fs") await new Promise((resolve) => setTimeout(resolve, 2_500))
  const notDueSamples: number[] = []
  const offSamples: number[] = []
  for (let r = 0; r < bench.repeat; r++) {
    // Alternated, so that a disturbance of the machine falls on both.
    for (const [target, samples] of [
      [cache, notDueSamples],
      [off, offSamples],
    ] as const) {
      const started = process.hrtime.bigint()
      await finishBuild(target, buildOf(documents), "site")
      samples.push(Number(process.hrtime.bigint() - started))
    }
  }
  const notDue = { name: "finishBuild, sweep not due", nsPerOp: median(notDueSamples), samples: notDueSamples, ops: 1 }
  const withoutSweep = { name: "finishBuild, maxIdle: false", nsPerOp: median(offSamples), samples: offSamples, ops: 1 }
  await cache.close()
  rmSync(dir, { recursive: true, force: true })
  bench.table(
    `${backend}: the sweep on a cache of ${entries.toLocaleString("en-US")} entries (${formatBytes(size)}), half unused for a week`,
    [
      { label: "the daily sweep (removes the unused half)", value: formatNs(sweep.samples[0] as number) },
      { label: `finishBuild of ${documents.toLocaleString("en-US")} documents, sweep not due`, value: formatNs(notDue.nsPerOp) },
      {
        label: `finishBuild of ${documents.toLocaleString("en-US")} documents, maxIdle: false`,
        value: formatNs(withoutSweep.nsPerOp),
        ratio: ratio(notDue, withoutSweep),
        note: "not due / off",
      },
    ],
  )
  bench.record(`sweep-${backend}`, { entries, size, sweep: sweep.samples[0], notDue, withoutSweep })
}

export default async function ciCache(bench: Bench): Promise<void> {
  const runs = bench.smoke ? 8 : 20
  const bumpEvery = bench.smoke ? 2 : 5
  const backends = (process.env.SITECACHE_BENCH_CI_BACKENDS || "sqlite").split(",") as ("sqlite" | "fs")[]
  for (const backend of backends) {
    const before = await nightlyRuns({ backend, cache: { maxIdle: false, maxSize: "1 TB" } }, runs, bumpEvery)
    const after = await nightlyRuns({ backend }, runs, bumpEvery)
    bench.table(
      `${backend}: the saved cache folder after each of ${runs} nightly runs, a dependency bump every ${bumpEvery} (before: no sweep, no size limit; after: the defaults)`,
      before.bytes.map((bytes, i) => ({
        label: `run ${String(i + 1).padStart(2)}${i % bumpEvery === 0 ? " (bump)" : ""}`,
        value: `${formatBytes(bytes).padStart(9)} → ${formatBytes(after.bytes[i] as number).padStart(9)}`,
        ratio: `${((after.bytes[i] as number) / bytes).toFixed(2)}×`,
        note: (after.swept[i] as number) > 0 ? `swept ${after.swept[i]} entries` : "",
      })),
    )
    bench.record(backend, { runs, bumpEvery, before, after } satisfies Record<string, unknown> & {
      before: SizeSeries
      after: SizeSeries
    })
  }
  for (const backend of ["sqlite", "fs"] as const) await sweepCost(bench, backend)
}
