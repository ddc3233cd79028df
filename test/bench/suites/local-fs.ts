/**
 * The filesystem backend against the same work done directly:
 *
 * - plain fs: one file per entry under the same sharded hex paths,
 *   `writeFileSync` to a temporary name and `renameSync` for a put,
 *   `readFileSync` for a get, values through the same codec (`v8.serialize` /
 *   `v8.deserialize`), no checks;
 * - cacache 19 (npm's cache), with the same codec, `cacache.put` / `cacache.get`,
 *   on the first 1,000 entries (put, then get): at 10-25x the backend's cost
 *   per operation, 10,000 of them took minutes.
 *
 * For 10,000 entries of 8 KiB and of rendered HTML (20–40 KiB): `put` of
 * every entry then `persist()` (fresh directory each repetition), and warm
 * `get` of every entry (the three taken in turn, round by round, so that the
 * load of a shared machine weighs on all of them alike; each timed run starts
 * after a full garbage collection, so that it pays for its own garbage only;
 * each ratio of gets is the median of the rounds' ratios). Then the cold open
 * of a 10,000-entry cache: open and first `get`, and open and `inspect()`
 * (with a persisted index and settled directories, as on the next build).
 *
 * Targets: warm `get` ≤ 1.5× plain `readFileSync` + decode; faster than
 * cacache on `get` and `put`.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { deserialize, serialize } from "node:v8"
import { createFsCache } from "@sitecache/backend-fs"
import { CHECKSUM_SIZE, type EntryId, HEADER_SIZE, type Key, key } from "@sitecache/core"
import { sampleText } from "../corpus-text.js"
import {
  type Bench,
  collectGarbage,
  formatNs,
  type Measurement,
  median,
  type Row,
  ratio,
  removeInBackground,
} from "../harness.js"

/** The part of cacache used here (it ships no types). */
interface Cacache {
  put(cache: string, key: string, data: Buffer): Promise<unknown>
  get(cache: string, key: string): Promise<{ data: Buffer }>
}
const cacache = createRequire(import.meta.url)("cacache") as Cacache

interface Page {
  html: string
  data: { title: string; tags: string[]; words: number }
}

function page(i: number, bytes: number): Page {
  return { html: sampleText(bytes, i + 1), data: { title: `Page ${i}`, tags: ["a", "b"], words: bytes >> 3 } }
}

/** Rendered HTML of 20–40 KiB: headings, paragraphs, a code block, links. */
function renderedHtml(i: number): Page {
  const target = (20 + ((i * 7919) % 21)) * 1024
  let html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Page ${i}</title><link rel="stylesheet" href="/style.css"></head><body><main><article>`
  let section = 0
  while (html.length < target) {
    html += `<h2 id="section-${section}">Section ${section}</h2>`
    html += `<p>${sampleText(600, i * 31 + section)}</p><p>${sampleText(400, i * 17 + section)} <a href="/docs/${section}/">more</a></p>`
    if (section % 3 === 0) html += `<pre><code class="language-js">const x = ${section};\nexport default x;\n</code></pre>`
    section++
  }
  html += "</article></main></body></html>"
  return { html, data: { title: `Page ${i}`, tags: ["html"], words: html.length >> 3 } }
}

function fresh(dir: string): string {
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
  mkdirSync(dir, { recursive: true })
  return dir
}

/**
 * Time `run` once per repetition, with an untimed `setup` and `teardown`
 * around it; median ns per op. Nothing is deleted before the suite ends:
 * on a disk mounted with `discard` (virtual machines, CI runners), creating
 * files right after deleting thousands stalls for seconds, which would land
 * on whichever subject runs next.
 */
async function measureFresh<T>(
  name: string,
  repeat: number,
  ops: number,
  setup: (repetition: number) => Promise<T> | T,
  run: (subject: T) => Promise<void> | void,
  teardown?: (subject: T) => Promise<void> | void,
): Promise<Measurement> {
  const samples: number[] = []
  for (let r = 0; r < repeat; r++) {
    const subject = await setup(r)
    const started = process.hrtime.bigint()
    await run(subject)
    samples.push(Number(process.hrtime.bigint() - started) / ops)
    await teardown?.(subject)
  }
  return { name, nsPerOp: median(samples), samples, ops }
}

/**
 * Rounds of several subjects taken in turn (a warm-up round each, then
 * `repeat` rounds of every subject), so that a shared machine whose load
 * changes weighs on all of them alike, each run after a full garbage
 * collection; median ns per op of each, and per-round samples for `pairedRatio`.
 */
async function interleaved(
  repeat: number,
  subjects: readonly (readonly [name: string, ops: number, fn: (i: number) => unknown])[],
): Promise<Measurement[]> {
  const samples = subjects.map(() => [] as number[])
  for (let round = -1; round < repeat; round++) {
    for (const [s, [, ops, fn]] of subjects.entries()) {
      collectGarbage()
      const started = process.hrtime.bigint()
      for (let i = 0; i < ops; i++) {
        const result = fn(i)
        if (result instanceof Promise) await result
      }
      if (round >= 0) samples[s]?.push(Number(process.hrtime.bigint() - started) / ops)
    }
  }
  return subjects.map(([name, ops], s) => ({ name, nsPerOp: median(samples[s] ?? []), samples: samples[s] ?? [], ops }))
}

/**
 * `a / b` of two subjects of `interleaved`, as the median of the rounds'
 * ratios: the two runs of a round are seconds apart, so a load that changes
 * between rounds cancels out instead of landing on one side of a ratio of medians.
 */
function pairedRatio(a: Measurement, b: Measurement): number {
  return median(a.samples.map((sample, round) => sample / (b.samples[round] ?? Number.NaN)))
}

/** The plain-fs baseline: `<dir>/<ab>/<rest>` per key, like the backend's shards. */
function plainPath(dir: string, k: Key): string {
  return `${dir}/${k.hex.slice(0, 2)}/${k.hex.slice(2)}`
}

function plainPut(dir: string, keys: readonly Key[], values: readonly Page[]): void {
  for (let i = 0; i < keys.length; i++) {
    const path = plainPath(dir, keys[i] as Key)
    const temp = `${path}.tmp`
    try {
      writeFileSync(temp, serialize(values[i]))
    } catch {
      mkdirSync(join(path, ".."), { recursive: true })
      writeFileSync(temp, serialize(values[i]))
    }
    renameSync(temp, path)
  }
}

async function sizeClass(bench: Bench, label: string, values: readonly Page[]): Promise<Record<string, unknown>> {
  const count = values.length
  const keys = values.map((_, i) => key("bench", label, i))
  const root = join(bench.outDir, label.replace(/\W+/g, "-"))
  // Creating 10,000 files is the slow part of every put: two repetitions.
  const putRepeat = bench.smoke ? 1 : Math.min(bench.repeat, 2)
  // cacache costs 10-25x the backend per operation (1.5-2.5 ms per put): it puts and gets the first
  // 1,000 entries only, which measures its per-operation cost as well and keeps the suite within its time budget.
  const cacacheOps = Math.min(count, 1_000)

  const put = await measureFresh(
    "fs backend put",
    putRepeat,
    count,
    (r) => createFsCache({ dir: fresh(join(root, `put-${r}`)) }),
    async (cache) => {
      for (let i = 0; i < count; i++) await cache.put(keys[i] as Key, values[i])
      await cache.persist()
    },
    (cache) => cache.close(),
  )
  const plain = await measureFresh(
    "plain fs put",
    putRepeat,
    count,
    (r) => fresh(join(root, `plain-put-${r}`)),
    (dir) => plainPut(dir, keys, values),
  )
  const cacachePut = await measureFresh(
    "cacache put",
    putRepeat,
    cacacheOps,
    (r) => fresh(join(root, `cacache-put-${r}`)),
    async (dir) => {
      for (let i = 0; i < cacacheOps; i++) await cacache.put(dir, (keys[i] as Key).hex, serialize(values[i]))
    },
  )

  // Warm get: populated directories, written by an earlier build (older than the settle window, on disk), reopened.
  const dir = fresh(join(root, "warm"))
  const writer = await createFsCache({ dir })
  await writer.putMany(keys.map((k, i) => [k, values[i]] as const))
  await writer.close()
  age(dir, new Date(Date.now() - 3_600_000))
  const plainDir = fresh(join(root, "plain-warm"))
  plainPut(plainDir, keys, values)
  const cacacheDir = fresh(join(root, "cacache-warm"))
  for (let i = 0; i < cacacheOps; i++) await cacache.put(cacacheDir, (keys[i] as Key).hex, serialize(values[i]))
  flushToDisk()

  const cache = await createFsCache({ dir })
  const ids = keys.map((k) => cache.entryId(k))
  const [plainGet, storeGet, get, cacacheGet] = (await interleaved(bench.repeat, [
    ["plain fs get", count, (i) => deserialize(readFileSync(plainPath(plainDir, keys[i] as Key)))],
    // The store's own layer: its read, then the cache's codec on the payload (between header and checksum), with no check.
    [
      "fs store get, unchecked",
      count,
      (i) => cache.codec.decode((cache.store.get(ids[i] as EntryId) as Buffer).subarray(HEADER_SIZE, -CHECKSUM_SIZE)),
    ],
    ["fs backend get", count, (i) => cache.get(keys[i] as Key)],
    ["cacache get", cacacheOps, async (i) => deserialize((await cacache.get(cacacheDir, (keys[i] as Key).hex)).data)],
  ])) as [Measurement, Measurement, Measurement, Measurement]
  // persist() after the gets: the first build after the one that wrote the entries lists their
  // directories once (they were too fresh to trust when that build persisted); later builds do not.
  const timePersist = async (): Promise<number> => {
    for (let i = 0; i < count; i++) await cache.get(keys[i] as Key)
    const started = process.hrtime.bigint()
    await cache.persist()
    return Number(process.hrtime.bigint() - started)
  }
  const firstPersistNs = await timePersist()
  const persistNs = await timePersist()
  const info = await cache.inspect()
  await cache.close()
  if (info.hits < count) throw new Error(`fs backend: ${info.hits} hits of ${count} gets`)
  const ratios = {
    storeVsPlain: pairedRatio(storeGet, plainGet),
    getVsPlain: pairedRatio(get, plainGet),
    cacacheVsGet: pairedRatio(cacacheGet, get),
  }

  const rows: Row[] = [
    { label: "plain fs get (readFileSync + v8.deserialize)", value: formatNs(plainGet.nsPerOp) },
    {
      label: "  fs store read, unchecked decode",
      value: formatNs(storeGet.nsPerOp),
      ratio: ratio(ratios.storeVsPlain, 1),
      note: "the store's own layer (paths, access notes) vs plain fs",
    },
    {
      label: "fs backend get",
      value: formatNs(get.nsPerOp),
      ratio: ratio(ratios.getVsPlain, 1),
      note: "vs plain fs (target ≤ 1.5×)",
    },
    {
      label: `cacache get (${cacacheOps})`,
      value: formatNs(cacacheGet.nsPerOp),
      ratio: ratio(ratios.cacacheVsGet, 1),
      note: "vs backend (target > 1×)",
    },
    { label: "plain fs put (writeFileSync + rename)", value: formatNs(plain.nsPerOp) },
    { label: "fs backend put (+ persist)", value: formatNs(put.nsPerOp), ratio: ratio(put, plain), note: "vs plain fs" },
    {
      label: `cacache put (${cacacheOps})`,
      value: formatNs(cacachePut.nsPerOp),
      ratio: ratio(cacachePut, put),
      note: "vs backend (target > 1×)",
    },
    {
      label: "persist after the warm gets",
      value: formatNs(persistNs),
      note: `once per build: index with hits and access times (${formatNs(persistNs / count)} per get)`,
    },
    {
      label: "  first build after the writing one",
      value: formatNs(firstPersistNs),
      note: "lists the directories written by the build before, once",
    },
  ]
  bench.table(`Filesystem backend, ${count} entries of ${label}`, rows)
  const persist: Measurement = { name: "persist", nsPerOp: persistNs / count, samples: [persistNs / count], ops: count }
  return { get, storeGet, plainGet, cacacheGet, put, plain, cacachePut, persist, ratios }
}

/**
 * Write every dirty page to disk (`sync`), as it would be long before the next
 * build reads the entries. Without it, the hundreds of megabytes just written
 * are flushed by the kernel during the timed gets, on the same CPUs, and weigh
 * on whichever runs at the time (the backend's directory, written first, is
 * flushed first). Not on Windows, which has no `sync` command.
 */
function flushToDisk(): void {
  if (process.platform !== "win32") execFileSync("sync")
}

/** Set every directory below `dir` back in time, as a cache written by an earlier build. */
function age(dir: string, when: Date): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) age(join(dir, entry.name), when)
  }
  utimesSync(dir, when, when)
}

async function coldOpen(bench: Bench, count: number): Promise<Record<string, Measurement>> {
  const dir = fresh(join(bench.outDir, "cold"))
  const keys = Array.from({ length: count }, (_, i) => key("cold", i))
  const writer = await createFsCache({ dir })
  await writer.putMany(keys.map((k, i) => [k, page(i, 8192)] as const))
  await writer.close()
  // As on the next build: the directories are older than the settle window, and the index knows it.
  age(dir, new Date(Date.now() - 3_600_000))
  const lister = await createFsCache({ dir })
  await lister.inspect()
  await lister.close()
  const repeat = Math.max(bench.repeat, 3)

  const openGet = await measureFresh(
    "open + first get",
    repeat,
    1,
    () => undefined,
    async () => {
      const cache = await createFsCache({ dir })
      if ((await cache.get(keys[0] as Key)) === undefined) throw new Error("cold open: miss")
    },
  )
  const openInspect = await measureFresh(
    "open + inspect()",
    repeat,
    1,
    () => undefined,
    async () => {
      const cache = await createFsCache({ dir })
      const info = await cache.inspect()
      if (info.entryCount !== count) throw new Error(`cold inspect: ${info.entryCount} entries`)
    },
  )
  rmSync(join(dir, "fs-v1", "index"))
  const rebuild = await measureFresh(
    "open + inspect(), index missing",
    1,
    1,
    () => undefined,
    async () => {
      const cache = await createFsCache({ dir })
      if ((await cache.inspect()).entryCount !== count) throw new Error("rebuild: wrong count")
    },
  )
  const rows: Row[] = [
    { label: "open + first get", value: formatNs(openGet.nsPerOp) },
    { label: "open + inspect() (index, settled directories)", value: formatNs(openInspect.nsPerOp) },
    {
      label: "open + inspect() with no index (full listing)",
      value: formatNs(rebuild.nsPerOp),
      ratio: ratio(rebuild, openInspect),
    },
  ]
  bench.table(`Cold open of a ${count}-entry cache (8 KiB entries)`, rows)
  return { openGet, openInspect, rebuild }
}

export default async function localFs(bench: Bench): Promise<void> {
  const count = bench.smoke ? 500 : 10_000
  const small = await sizeClass(
    bench,
    "8 KiB",
    Array.from({ length: count }, (_, i) => page(i, 8192)),
  )
  const html = await sizeClass(
    bench,
    "rendered HTML 20-40 KiB",
    Array.from({ length: count }, (_, i) => renderedHtml(i)),
  )
  const cold = await coldOpen(bench, count)
  bench.record("local-fs", { small, html, cold })
  // Every folder written, removed only now (see `measureFresh`).
  removeInBackground(bench.outDir)
}
