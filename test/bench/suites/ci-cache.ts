/**
 * The size of a CI cache over twenty nightly runs of the example blog, with a
 * dependency bump every fifth run (every page gets a new key): before the
 * sweep of unused entries (`maxIdle: false`, no size limit) and with the
 * defaults (a week, 1 GiB). Each run is a fresh checkout with the cache folder
 * restored and saved by copying (test/ci/simulate.ts); sizes are the saved
 * folder's bytes after each run. SQLite (the blog's backend) by default;
 * `SITECACHE_BENCH_CI_BACKENDS=sqlite,fs` adds the fs backend (two minutes
 * more on a 2-core machine).
 */
import { formatBytes } from "@sitecache/core"
import { nightlyRuns, type SizeSeries } from "../../ci/simulate.js"
import type { Bench } from "../harness.js"

export default async function ciCache(bench: Bench): Promise<void> {
  const runs = bench.smoke ? 8 : 20
  const bumpEvery = bench.smoke ? 2 : 5
  const backends = (process.env.SITECACHE_BENCH_CI_BACKENDS ?? "sqlite").split(",") as ("sqlite" | "fs")[]
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
}
