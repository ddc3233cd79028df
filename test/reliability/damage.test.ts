/**
 * Entries damaged where they are stored (truncated, bit-flipped, emptied),
 * and for the filesystem backend a damaged index: each damaged key is a miss
 * (counted, one warning), every other key still hits, the entry count stays
 * exact, and the next `put` heals the damaged keys.
 *
 * The damage is done beside the cache, as a disk or another tool would do
 * it: on the entry files for `fs`, and on the rows with SQL for `sqlite`
 * (damage below SQLite's page level is the SQLite backend's own recovery
 * suite: a database that fails `quick_check` is moved aside).
 */
import { closeSync, openSync, readFileSync, statSync, truncateSync, writeSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import type { EntryId } from "@sitecache/core"
import { describe, expect, it } from "vitest"
import { BACKENDS, type Backend, openCache, scratchDir } from "./support.js"
import { contentHashOf, keyOf, sizeOf, valueFor } from "./values.js"

const require = createRequire(import.meta.url)
const COUNT = 40
const DAMAGE = { truncate: 3, flip: 17, empty: 29 } as const
type Damage = keyof typeof DAMAGE

function expected(i: number): string {
  return contentHashOf(valueFor(i, sizeOf(i, 1024, 64 * 1024)))
}

function damageFile(path: string, how: Damage): void {
  const size = statSync(path).size
  if (how === "truncate") truncateSync(path, Math.floor(size / 2))
  if (how === "empty") truncateSync(path, 0)
  if (how === "flip") {
    const at = Math.floor(size / 2)
    const byte = readFileSync(path).subarray(at, at + 1)
    byte[0] = (byte[0] as number) ^ 0x20
    const fd = openSync(path, "r+")
    writeSync(fd, byte, 0, 1, at)
    closeSync(fd)
  }
}

interface Db {
  prepare(sql: string): { get(...params: unknown[]): unknown; run(...params: unknown[]): unknown }
  close(): void
}

function damageRow(db: Db, id: EntryId, how: Damage): void {
  const where = [Buffer.from(id.prefix.bytes), Buffer.from(id.key.bytes)]
  const { value } = db.prepare("SELECT value FROM entries WHERE prefix = ? AND key = ?").get(...where) as { value: Buffer }
  let damaged = value
  if (how === "truncate") damaged = value.subarray(0, value.length >> 1)
  if (how === "empty") damaged = Buffer.alloc(0)
  if (how === "flip") {
    damaged = Buffer.from(value)
    const at = damaged.length >> 1
    damaged[at] = (damaged[at] as number) ^ 0x20
  }
  db.prepare("UPDATE entries SET value = ? WHERE prefix = ? AND key = ?").run(damaged, ...where)
}

function damage(backend: Backend, dir: string, ids: Record<Damage, EntryId>): void {
  if (backend === "fs") {
    for (const [how, id] of Object.entries(ids) as [Damage, EntryId][]) {
      damageFile(join(dir, "fs-v1", id.prefix.hex, id.key.hex.slice(0, 2), id.key.hex.slice(2)), how)
    }
    // And the index: it is rebuilt from the files.
    const index = join(dir, "fs-v1", "index")
    const bytes = readFileSync(index)
    truncateSync(index, bytes.length >> 1)
    return
  }
  const Database = require("better-sqlite3") as new (path: string) => Db
  const db = new Database(join(dir, "cache.db"))
  try {
    for (const [how, id] of Object.entries(ids) as [Damage, EntryId][]) damageRow(db, id, how)
  } finally {
    db.close()
  }
}

describe.each(BACKENDS)("%s: entries damaged on disk", (backend) => {
  it("each damaged key misses, every other key hits, counts stay exact, and the next put heals", async () => {
    const dir = scratchDir(`damage-${backend}`)
    const writer = await openCache(backend, dir)
    const indexes = Array.from({ length: COUNT }, (_, i) => i)
    await writer.putMany(indexes.map((i) => [keyOf(i), valueFor(i, sizeOf(i, 1024, 64 * 1024))]))
    await writer.persist()
    const ids = Object.fromEntries(Object.entries(DAMAGE).map(([how, i]) => [how, writer.entryId(keyOf(i))])) as Record<
      Damage,
      EntryId
    >
    await writer.close()
    damage(backend, dir, ids)

    const warnings: string[] = []
    const cache = await openCache(backend, dir, {}, { onWarning: (message) => warnings.push(message) })
    const damaged = new Set<number>(Object.values(DAMAGE))
    const values = await cache.getMany(indexes.map(keyOf))
    expect(values.map(contentHashOf)).toEqual(indexes.map((i) => (damaged.has(i) ? "not-a-value" : expected(i))))
    const info = await cache.inspect()
    expect({ errors: info.errors, misses: info.misses, hits: info.hits }).toEqual({ errors: 3, misses: 3, hits: COUNT - 3 })
    expect(warnings).toHaveLength(1)
    expect(info.entryCount).toBe(COUNT - 3)

    for (const i of damaged) expect(await cache.put(keyOf(i), valueFor(i, sizeOf(i, 1024, 64 * 1024)))).toBe(true)
    await cache.persist()
    expect((await cache.getMany([...damaged].map(keyOf))).map(contentHashOf)).toEqual([...damaged].map(expected))
    expect((await cache.inspect()).entryCount).toBe(COUNT)
    await cache.close()
  })
})
