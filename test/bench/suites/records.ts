/**
 * Build records on a big site: what `finishBuild` costs at the end of a build
 * of many documents (manifest with interned part names and hashes, previous
 * records of the documents that missed, run history), against storing the
 * same manifest as plain records; and what `readManifest` costs (`sitecache
 * explain` and a tiered cache's prefetch read it).
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { BuildStats, type Cache, createCache, createMemoryCache, finishBuild, key, readManifest } from "@sitecache/core"
import { type Bench, formatNs, ratio } from "../harness.js"

/** A build of `count` documents through a 15-plugin pipeline with 5 shared partials; every `missEvery`th document misses. */
function buildOf(count: number, missEvery: number, round: number): BuildStats {
  const stats = new BuildStats()
  const plugins = Object.fromEntries(
    Array.from({ length: 15 }, (_, i) => [`plugin:remark-plugin-${i}@1.${i}.0`, key("plugin", i).hex]),
  )
  const deps = Object.fromEntries(
    Array.from({ length: 5 }, (_, i) => [`partials/partial-${i}.html`, key("partial", i, round).hex]),
  )
  for (let i = 0; i < count; i++) {
    const hit = i % missEvery !== 0
    stats.documentRecords.set(`content/posts/${i}/index.md`, {
      path: `content/posts/${i}/index.md`,
      key: key("doc", i, hit ? 0 : round).hex,
      hit,
      parts: {
        stage: key("stage").hex,
        content: key("content", i).hex,
        path: key("path", i).hex,
        pipeline: key("p").hex,
        ...plugins,
      },
      deps,
    })
    if (hit) stats.hits++
    else stats.misses++
  }
  return stats
}

export default async function records(bench: Bench): Promise<void> {
  const count = bench.smoke ? 1_000 : 10_000
  const cache = createMemoryCache({ maxSize: 2 * 1024 * 1024 * 1024 })
  await finishBuild(cache, buildOf(count, 1, 0), "blog")
  // Each repetition: a build where one document in ten missed (so `previous` holds 10% of the site).
  const builds = Array.from({ length: bench.repeat }, (_, repetition) => buildOf(count, 10, repetition + 1))
  const finish = await bench.measureOnce("finishBuild", async (repetition) => {
    await finishBuild(cache, builds[repetition] as BuildStats, "blog")
  })
  const manifest = await readManifest(cache, "blog")
  const stored = await cache.store.stats(cache.keyPrefix)
  const plainCache = createMemoryCache({ maxSize: 2 * 1024 * 1024 * 1024 })
  const plain = await bench.measureOnce("put plain manifest", async (repetition) => {
    await plainCache.put(key("plain", repetition), manifest)
  })
  const plainSize = (await plainCache.inspect()).size / Math.max(1, bench.repeat)
  const read = await bench.measureOnce("readManifest", () => readManifest(cache, "blog"))
  const readPlain = await bench.measureOnce("get plain manifest", () => plainCache.get(key("plain", 0)))
  // The records cache holds the manifest, the run history and the tool list; the manifest is nearly all of it.
  const recordsSize = stored.size
  bench.table(`Build records of ${count.toLocaleString("en-US")} documents (15 plugins, 5 partials, 10% missed)`, [
    { label: "stored records (interned manifest + runs)", value: `${(recordsSize / 1024 / 1024).toFixed(2)} MiB` },
    {
      label: "the same manifest as plain records",
      value: `${(plainSize / 1024 / 1024).toFixed(2)} MiB`,
      ratio: ratio(recordsSize, plainSize),
      note: "stored / plain",
    },
    { label: "finishBuild (read previous, write manifest and runs)", value: formatNs(finish.nsPerOp) },
    {
      label: "plain: get the previous manifest, put the new one",
      value: formatNs(plain.nsPerOp + readPlain.nsPerOp),
      ratio: ratio(finish.nsPerOp, plain.nsPerOp + readPlain.nsPerOp),
      note: "finishBuild / plain get + put",
    },
    { label: "readManifest", value: formatNs(read.nsPerOp) },
    {
      label: "get of the plain manifest",
      value: formatNs(readPlain.nsPerOp),
      ratio: ratio(read, readPlain),
      note: "readManifest / plain get",
    },
  ])
  await cache.close()
  await plainCache.close()

  // The same on SQLite, where bytes written cost more than encoding.
  const dir = join(bench.outDir, "sqlite")
  rmSync(dir, { recursive: true, force: true })
  const sqlite = await createCache({ backend: "sqlite", dir }, { resolveFrom: import.meta.url })
  await finishBuild(sqlite, buildOf(count, 1, 0), "blog")
  const sqliteFinish = await bench.measureOnce("finishBuild on sqlite", async (repetition) => {
    await finishBuild(sqlite, builds[repetition] as BuildStats, "blog")
  })
  const plainSqlite = await bench.measureOnce("plain get + put on sqlite", async (repetition) => {
    const plainKey = key("plain", repetition)
    await (sqlite as Cache).get(key("plain", repetition - 1))
    await sqlite.put(plainKey, manifest)
    await sqlite.persist()
  })
  await sqlite.close()
  bench.table(`The same build records on SQLite`, [
    { label: "finishBuild", value: formatNs(sqliteFinish.nsPerOp) },
    {
      label: "plain: get the previous manifest, put the new one",
      value: formatNs(plainSqlite.nsPerOp),
      ratio: ratio(sqliteFinish, plainSqlite),
      note: "finishBuild / plain get + put",
    },
  ])
  bench.record("records", { count, recordsSize, plainSize, finish, plain, read, readPlain, sqliteFinish, plainSqlite })
}
