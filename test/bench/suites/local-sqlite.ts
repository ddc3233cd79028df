/**
 * The SQLite backend against the same work done directly:
 *
 * - raw: `better-sqlite3` with one table `(key BLOB PRIMARY KEY, value BLOB)`,
 *   one prepared statement, puts in one transaction, values through the same
 *   codec (`v8.serialize` / `v8.deserialize`), no checks;
 * - keyv 5 with @keyv/sqlite 4, the usual choice for a SQLite key-value cache.
 *
 * For 10,000 entries of 8 KiB and of rendered HTML (20–40 KiB): `put` of
 * every entry then `persist()` (fresh database each repetition), warm `get`
 * of every entry, and the access records a warm build writes at `persist()`.
 * Then the cold open of a 10,000-entry database.
 *
 * Targets: the backend's warm `get` ≤ 1.5× raw; faster than keyv on `get` and `put`.
 */
import { mkdirSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { deserialize, serialize } from "node:v8"
import KeyvSqlite from "@keyv/sqlite"
import { createSqliteCache } from "@sitecache/backend-sqlite"
import { formatBytes, type Key, key, type StoreCache } from "@sitecache/core"
import Keyv from "keyv"
import { sampleText } from "../corpus-text.js"
import { type Bench, formatNs, type Measurement, median, type Row, ratio } from "../harness.js"

/** The part of better-sqlite3 the raw baseline uses (its types live in the backend package). */
interface RawStatement {
  run(...params: unknown[]): unknown
  get(...params: unknown[]): unknown
  pluck(): RawStatement
}
interface RawDatabase {
  pragma(source: string): unknown
  exec(source: string): void
  prepare(source: string): RawStatement
  close(): void
}
const Database = createRequire(import.meta.url)("better-sqlite3") as new (path: string) => RawDatabase

interface Page {
  html: string
  data: { title: string; tags: string[]; words: number }
}

/**
 * A page of `bytes` characters of Latin-1 text, so that it is `bytes` bytes
 * stored (V8 writes a string with any character past U+00FF as UTF-16, at
 * two bytes a character).
 */
function page(i: number, bytes: number): Page {
  // Through a Latin-1 buffer: a string built by `replace` keeps its two-byte representation.
  const html = Buffer.from(sampleText(bytes, i + 1).replace(/[^\n -\u00ff]/g, "-"), "latin1").toString("latin1")
  return { html, data: { title: `Page ${i}`, tags: ["a", "b"], words: bytes >> 3 } }
}

/**
 * Rendered HTML of 20–40 Ki characters: headings, paragraphs, a code block,
 * links, and text with a few characters past U+00FF (an em dash, Greek, an
 * emoji), so V8 stores it as UTF-16: 40–80 KiB an entry, as real pages are.
 */
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

/** One subject of an interleaved measurement: an untimed `setup` and `teardown` around a timed `run` of `ops` operations. */
interface Subject<T> {
  readonly name: string
  readonly ops: number
  setup(repetition: number): Promise<T> | T
  run(subject: T): Promise<void> | void
  teardown?(subject: T): Promise<void> | void
}

/**
 * Time each subject once per repetition, taking turns (a, b, c, a, b, c, …),
 * so a machine that gets busier or quieter during the run moves every figure
 * alike; median ns per operation.
 */
async function interleaved(bench: Bench, subjects: readonly Subject<unknown>[]): Promise<Measurement[]> {
  const samples = subjects.map(() => [] as number[])
  for (let r = 0; r < bench.repeat; r++) {
    for (const [n, subject] of subjects.entries()) {
      const state = await subject.setup(r)
      const started = process.hrtime.bigint()
      await subject.run(state)
      samples[n]!.push(Number(process.hrtime.bigint() - started) / subject.ops)
      await subject.teardown?.(state)
    }
  }
  return subjects.map((subject, n) => ({
    name: subject.name,
    nsPerOp: median(samples[n]!),
    samples: samples[n]!,
    ops: subject.ops,
  }))
}

/** A loop of `ops` calls of `fn`, each awaited when it returns a promise. */
async function loop(ops: number, fn: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < ops; i++) {
    const result = fn(i)
    if (result instanceof Promise) await result
  }
}

function openRaw(path: string): RawDatabase {
  const db = new Database(path)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.exec("CREATE TABLE IF NOT EXISTS entries (key BLOB PRIMARY KEY, value BLOB NOT NULL)")
  return db
}

function putRaw(db: RawDatabase, keys: readonly Key[], values: readonly Page[]): void {
  const insert = db.prepare("INSERT INTO entries (key, value) VALUES (?, ?)")
  db.exec("BEGIN")
  for (let i = 0; i < keys.length; i++) insert.run(keys[i]!.bytes, serialize(values[i]))
  db.exec("COMMIT")
}

function openKeyv(path: string): Keyv {
  return new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${path}` }) })
}

function fresh(dir: string): string {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  return dir
}

async function sizeClass(bench: Bench, label: string, values: readonly Page[]): Promise<Record<string, Measurement>> {
  const count = values.length
  const keys = values.map((_, i) => key("bench", label, i))
  const root = join(bench.outDir, label.replace(/\W+/g, "-"))
  const keyvOps = Math.min(count, bench.smoke ? 200 : 1000)
  // keyv commits every set on its own (tens of ms each here): fewer of them give the same figure per put.
  const keyvPuts = Math.min(count, bench.smoke ? 100 : 500)

  // put: every entry then persist, into a fresh database each repetition.
  const [put, rawPut, keyvPut] = (await interleaved(bench, [
    {
      name: "sqlite backend put",
      ops: count,
      setup: (r) => createSqliteCache({ dir: fresh(join(root, `put-${r}`)) }),
      run: async (cache: StoreCache) => {
        await loop(count, (i) => cache.put(keys[i]!, values[i]))
        await cache.persist()
      },
      teardown: (cache: StoreCache) => cache.close(),
    },
    {
      name: "raw put",
      ops: count,
      setup: (r) => openRaw(join(fresh(join(root, `raw-put-${r}`)), "raw.db")),
      run: (db: RawDatabase) => putRaw(db, keys, values),
      teardown: (db: RawDatabase) => db.close(),
    },
    {
      name: "keyv put",
      ops: keyvPuts,
      setup: (r) => openKeyv(join(fresh(join(root, `keyv-put-${r}`)), "keyv.db")),
      run: (keyv: Keyv) => loop(keyvPuts, (i) => keyv.set(keys[i]!.hex, values[i])),
      teardown: (keyv: Keyv) => keyv.disconnect(),
    },
  ])) as [Measurement, Measurement, Measurement]

  // warm get: populated databases; the backend's reopened, as the next build would.
  const dir = fresh(join(root, "warm"))
  const warnings: string[] = []
  const onWarning = (message: string) => void warnings.push(message)
  const writer = await createSqliteCache({ dir, onWarning })
  await writer.putMany(keys.map((k, i) => [k, values[i]] as const))
  await writer.close()
  const cache = await createSqliteCache({ dir, onWarning })
  const rawDb = openRaw(join(fresh(join(root, "raw-warm")), "raw.db"))
  putRaw(rawDb, keys, values)
  const select = rawDb.prepare("SELECT value FROM entries WHERE key = ?").pluck()
  const keyv = openKeyv(join(fresh(join(root, "keyv-warm")), "keyv.db"))
  await keyv.setMany(keys.slice(0, keyvOps).map((k, i) => ({ key: k.hex, value: values[i] })))
  // One untimed pass each: every page has been read once, as in a build that already started.
  await loop(count, (i) => cache.get(keys[i]!))
  await cache.persist()
  await loop(count, (i) => deserialize(select.get(keys[i]!.bytes) as Buffer))
  await loop(keyvOps, (i) => keyv.get(keys[i]!.hex))
  const [get, rawGet, keyvGet, access] = (await interleaved(bench, [
    { name: "sqlite backend get", ops: count, setup: () => undefined, run: () => loop(count, (i) => cache.get(keys[i]!)) },
    {
      name: "raw get",
      ops: count,
      setup: () => undefined,
      run: () => loop(count, (i) => deserialize(select.get(keys[i]!.bytes) as Buffer)),
    },
    { name: "keyv get", ops: keyvOps, setup: () => undefined, run: () => loop(keyvOps, (i) => keyv.get(keys[i]!.hex)) },
    // What a warm build's gets cost later: their hits and access times, written at persist().
    {
      name: "access records at persist",
      ops: count,
      setup: () => loop(count, (i) => cache.get(keys[i]!)),
      run: () => cache.persist(),
    },
  ])) as [Measurement, Measurement, Measurement, Measurement]
  const info = await cache.inspect()
  await cache.close()
  rawDb.close()
  await keyv.disconnect()

  if (info.misses > 0 || info.errors > 0 || warnings.length > 0) {
    throw new Error(`sqlite backend: ${JSON.stringify(info)}, warnings: ${warnings.join("; ")}`)
  }
  const rows: Row[] = [
    { label: "raw get (SELECT + v8.deserialize)", value: formatNs(rawGet.nsPerOp) },
    { label: "sqlite backend get", value: formatNs(get.nsPerOp), ratio: ratio(get, rawGet), note: "vs raw (target ≤ 1.5×)" },
    {
      label: "  + access records at persist",
      value: formatNs(access.nsPerOp),
      note: "per get, written once per build",
    },
    {
      label: `keyv+@keyv/sqlite get (${keyvOps})`,
      value: formatNs(keyvGet.nsPerOp),
      ratio: ratio(keyvGet, get),
      note: "vs backend",
    },
    { label: "raw put (one transaction)", value: formatNs(rawPut.nsPerOp) },
    { label: "sqlite backend put + persist", value: formatNs(put.nsPerOp), ratio: ratio(put, rawPut), note: "vs raw" },
    {
      label: `keyv+@keyv/sqlite put (${keyvPuts})`,
      value: formatNs(keyvPut.nsPerOp),
      ratio: ratio(keyvPut, put),
      note: "vs backend",
    },
  ]
  bench.table(`SQLite backend, ${count} entries of ${label} (${formatBytes(info.size / count)} stored, on average)`, rows)
  rmSync(root, { recursive: true, force: true })
  return { get, rawGet, keyvGet, put, rawPut, keyvPut, access }
}

async function coldOpen(bench: Bench, count: number): Promise<Record<string, Measurement>> {
  const dir = fresh(join(bench.outDir, "cold"))
  const keys = Array.from({ length: count }, (_, i) => key("cold", i))
  const writer = await createSqliteCache({ dir })
  await writer.putMany(keys.map((k, i) => [k, page(i, 8192)] as const))
  await writer.close()
  // Timed: open and the first get. Closing (a checkpoint and a flush to disk) is untimed, for both.
  const open = (quickCheck: "auto" | "always"): Subject<{ cache?: StoreCache }> => ({
    name: `open (${quickCheck})`,
    ops: 1,
    setup: () => ({}),
    run: async (state) => {
      state.cache = await createSqliteCache({ dir, quickCheck })
      if ((await state.cache.get(keys[0]!)) === undefined) throw new Error("cold open: miss")
    },
    teardown: (state) => state.cache?.close(),
  })
  const [rawOpen, auto, always] = (await interleaved(bench, [
    {
      name: "raw open",
      ops: 1,
      setup: () => ({}),
      run: (state: { db?: RawDatabase }) => {
        state.db = new Database(join(dir, "cache.db"))
        state.db.prepare("SELECT value FROM entries LIMIT 1").get()
      },
      teardown: (state: { db?: RawDatabase }) => state.db?.close(),
    },
    open("auto"),
    open("always"),
  ])) as [Measurement, Measurement, Measurement]
  bench.table(`Cold open of a ${count}-entry database (8 KiB entries): open + first get`, [
    { label: "raw better-sqlite3 open + SELECT", value: formatNs(rawOpen.nsPerOp) },
    { label: "sqlite backend (clean file: no check)", value: formatNs(auto.nsPerOp), ratio: ratio(auto, rawOpen) },
    { label: "sqlite backend, quickCheck: always", value: formatNs(always.nsPerOp), ratio: ratio(always, rawOpen) },
  ])
  rmSync(dir, { recursive: true, force: true })
  return { auto, always, rawOpen }
}

export default async function localSqlite(bench: Bench): Promise<void> {
  const count = bench.smoke ? 500 : 10_000
  const small = await sizeClass(
    bench,
    "8 KiB",
    Array.from({ length: count }, (_, i) => page(i, 8192)),
  )
  const html = await sizeClass(
    bench,
    "rendered HTML, 20-40 Ki characters",
    Array.from({ length: count }, (_, i) => renderedHtml(i)),
  )
  const cold = await coldOpen(bench, count)
  bench.record("local-sqlite", { small, html, cold })
}
