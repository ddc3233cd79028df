/**
 * What the reliability suites run in child processes (bundled once per test
 * file by `support.ts`, so that a child starts in a fraction of a second):
 *
 * - `kill <backend> <dir> <seed> <pool> <min> <max> <ack-on>`: put values
 *   forever, in strict mode (a fault ends the child with an error, which the
 *   parent reports), printing `ack <i> <hash>` for each key once it is
 *   acknowledged: after `put` resolves (`ack-on` = `put`) or after the next
 *   `persist()` (`persist`). The parent kills it.
 * - `write <backend> <dir> <seed> <count> <pool> <min> <max>`: `count` puts of
 *   random keys, `persist()` now and then and at the end; prints a summary.
 * - `read <backend> <dir> <seed> <pool> <min> <max> <stop-file>`: random
 *   `get`s, each hit checked by content hash, until `stop-file` exists.
 * - `probe <backend> <dir> <keys-json>`: read the given keys, try to put,
 *   delete, persist and clear; prints what happened.
 *
 * Caches are opened as `createCache` opens them (the backend's descriptor,
 * through core's `openBackend`), with the backends imported statically so
 * the bundle needs no loader.
 */
import { existsSync, writeSync } from "node:fs"
import * as fsBackend from "@sitecache/backend-fs"
import * as sqliteBackend from "@sitecache/backend-sqlite"
import { type Backend, openBackend, type StoreCache } from "@sitecache/core"
import { contentHashOf, keyOf, random, sizeOf, valueFor } from "./values.js"

const BACKENDS: Readonly<Record<string, Backend>> = { fs: fsBackend.backend, sqlite: sqliteBackend.backend }

/** One line on stdout, written synchronously: it is in the pipe before the next step begins. */
function line(text: string): void {
  writeSync(1, `${text}\n`)
}

async function open(backend: string, dir: string, strict: boolean, warnings: string[]): Promise<StoreCache> {
  const descriptor = BACKENDS[backend]
  if (descriptor === undefined) throw new Error(`unknown backend ${backend}`)
  // A store reports what happens when it opens (a database moved aside) as a process warning: count those too.
  process.on("warning", (warning) => {
    if (warning.name === "SitecacheWarning") warnings.push(warning.message)
  })
  return openBackend(descriptor, {
    dir,
    strict,
    onWarning: (message: string) => {
      warnings.push(message)
      writeSync(2, `warning: ${message}\n`)
    },
  })
}

async function kill(args: string[]): Promise<void> {
  const [backend = "", dir = "", seed, pool, min, max, ackOn] = args
  const cache = await open(backend, dir, true, [])
  const next = random(Number(seed))
  const unacked: string[] = []
  line("ready")
  for (let n = 0; ; n++) {
    const i = Math.floor(next() * Number(pool))
    const value = valueFor(i, sizeOf(i, Number(min), Number(max)))
    await cache.put(keyOf(i), value)
    unacked.push(`ack ${i} ${contentHashOf(value)}`)
    const persistNow = n % 4 === 3
    if (persistNow) await cache.persist()
    if (ackOn === "put" || persistNow) for (const ack of unacked.splice(0)) line(ack)
  }
}

async function write(args: string[]): Promise<void> {
  const [backend = "", dir = "", seed, count, pool, min, max] = args
  const warnings: string[] = []
  const cache = await open(backend, dir, false, warnings)
  const next = random(Number(seed))
  const acked = new Set<number>()
  let added = 0
  for (let n = 0; n < Number(count); n++) {
    const i = Math.floor(next() * Number(pool))
    if (await cache.put(keyOf(i), valueFor(i, sizeOf(i, Number(min), Number(max))))) added++
    acked.add(i)
    if (n % 100 === 99) await cache.persist()
  }
  await cache.persist()
  const info = await cache.inspect()
  await cache.close()
  line(JSON.stringify({ acked: [...acked], added, errors: info.errors, warnings }))
}

async function read(args: string[]): Promise<void> {
  const [backend = "", dir = "", seed, pool, min, max, stopFile = ""] = args
  const warnings: string[] = []
  const cache = await open(backend, dir, false, warnings)
  const next = random(Number(seed))
  let reads = 0
  let hits = 0
  const mismatches: number[] = []
  while (reads % 50 !== 0 || !existsSync(stopFile)) {
    const i = Math.floor(next() * Number(pool))
    const value = await cache.get(keyOf(i))
    reads++
    // Read alongside the writers without taking the machine from them.
    if (reads % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 2))
    if (value === undefined) continue
    hits++
    if (contentHashOf(value) !== contentHashOf(valueFor(i, sizeOf(i, Number(min), Number(max))))) mismatches.push(i)
  }
  const info = await cache.inspect()
  await cache.close()
  line(JSON.stringify({ reads, hits, mismatches, errors: info.errors, warnings }))
}

async function probe(args: string[]): Promise<void> {
  const [backend = "", dir = "", keysJson = "[]"] = args
  const warnings: string[] = []
  const cache = await open(backend, dir, false, warnings)
  const indexes = JSON.parse(keysJson) as number[]
  const values = await cache.getMany(indexes.map(keyOf))
  const hashes = values.map(contentHashOf)
  const put = await cache.put("probe/new", { written: true })
  const deleted = await cache.delete(keyOf(indexes[0] ?? 0))
  await cache.persist()
  await cache.clear()
  const again = await cache.get(keyOf(indexes[0] ?? 0))
  const info = await cache.inspect()
  await cache.close()
  line(JSON.stringify({ hashes, put, deleted, again: contentHashOf(again), errors: info.errors, warnings }))
}

const [mode, ...rest] = process.argv.slice(2)
const modes: Record<string, (args: string[]) => Promise<void>> = { kill, write, read, probe }
const run = modes[mode ?? ""]
if (run === undefined) {
  writeSync(2, `child: unknown mode ${mode}\n`)
  process.exit(2)
}
await run(rest)
