/**
 * Size and age: `maxSize` with least-recently-used eviction, `prune`,
 * orphaned entries of older key prefixes, hits and access times, `entries()`.
 */
import { join } from "node:path"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { createSqliteCache } from "../src/index.js"
import { scratch } from "./helpers.js"

const KiB = 1024

/** A cache of `dir` under key prefix `v1`, holding two entries of 1,000 characters. */
async function twoEntriesUnderV1(dir: string) {
  const cache = await createSqliteCache({ dir, keyPrefix: "v1" })
  await cache.putMany([
    ["a", "x".repeat(1000)],
    ["b", "y".repeat(1000)],
  ])
  return cache
}

describe("sqlite: size, age and orphans", () => {
  it("evicts the least recently used entries past maxSize, reads counting as use", async () => {
    const dir = scratch()
    let now = 1_700_000_000_000
    const cache = await createSqliteCache({ dir, maxSize: 100 * KiB, clock: () => now })
    for (let i = 0; i < 4; i++) {
      now += 1000
      await cache.put(`k${i}`, Buffer.alloc(20 * KiB, i))
    }
    await cache.persist()
    now += 1000
    expect(await cache.get("k0")).toBeDefined()
    await cache.persist()
    for (let i = 4; i < 6; i++) {
      now += 1000
      await cache.put(`k${i}`, Buffer.alloc(20 * KiB, i))
    }
    await cache.persist()
    const info = await cache.inspect()
    expect(info.size).toBeLessThanOrEqual(100 * KiB)
    expect(info.evictions).toBe(2)
    // k1 and k2 were the least recently used; k0 was read after them.
    const present = await cache.getMany(["k0", "k1", "k2", "k3", "k4", "k5"])
    expect(present.map((value) => value !== undefined)).toEqual([true, false, false, true, true, true])
    await cache.close()
  })

  it("does not store an entry larger than maxSize", async () => {
    const dir = scratch()
    const cache = await createSqliteCache({ dir, maxSize: 10 * KiB })
    expect(await cache.put("big", Buffer.alloc(20 * KiB))).toBe(false)
    expect(await cache.put("small", Buffer.alloc(KiB))).toBe(true)
    expect((await cache.inspect()).entryCount).toBe(1)
    await cache.close()
  })

  it("counts entries of older key prefixes as orphaned, and prune({ orphans }) removes them", async () => {
    const dir = scratch()
    const cache = await twoEntriesUnderV1(dir)
    cache.setKeyPrefix("v2")
    await cache.put("a", "new")
    const info = await cache.inspect()
    expect(info.entryCount).toBe(3)
    expect(info.orphanedCount).toBe(2)
    expect(info.orphanedSize).toBeGreaterThan(2000)
    const pruned = await cache.prune({ orphans: true })
    expect(pruned.removedCount).toBe(2)
    expect(pruned.removedSize).toBe(info.orphanedSize)
    expect(await cache.inspect()).toMatchObject({ entryCount: 1, orphanedCount: 0, orphanedSize: 0 })
    expect(await cache.get("a")).toBe("new")
    await cache.close()
  })

  it("counts orphans from an index by prefix, which a database made without it gets when opened for writing", async () => {
    const dir = scratch()
    const cache = await twoEntriesUnderV1(dir)
    await cache.close()
    const plan = (db: Database.Database) =>
      (
        db.prepare("EXPLAIN QUERY PLAN SELECT count(*), total(size) FROM entries WHERE prefix != ?").all(Buffer.alloc(16)) as {
          detail: string
        }[]
      ).map((row) => row.detail)
    // As the first release made it: no such index.
    const db = new Database(join(dir, "cache.db"))
    expect(plan(db).join()).toMatch(/COVERING INDEX entries_by_prefix/)
    db.exec("DROP INDEX entries_by_prefix")
    db.close()
    const reader = await createSqliteCache({ dir, keyPrefix: "v2", mode: "read-only" })
    expect(await reader.inspect()).toMatchObject({ entryCount: 2, orphanedCount: 2 })
    await reader.close()
    const check = new Database(join(dir, "cache.db"), { readonly: true })
    expect(plan(check).join()).not.toMatch(/entries_by_prefix/)
    check.close()
    const writer = await createSqliteCache({ dir, keyPrefix: "v2" })
    expect(await writer.inspect()).toMatchObject({ entryCount: 2, orphanedCount: 2 })
    await writer.close()
    const after = new Database(join(dir, "cache.db"), { readonly: true })
    expect(plan(after).join()).toMatch(/COVERING INDEX entries_by_prefix/)
    after.close()
  })

  it("prune({ olderThan }) keeps what was read recently; prune({ maxSize }) evicts by use", async () => {
    const dir = scratch()
    let now = 1_700_000_000_000
    const day = 86_400_000
    const cache = await createSqliteCache({ dir, clock: () => now })
    await cache.putMany(Array.from({ length: 6 }, (_, i) => [`k${i}`, Buffer.alloc(10 * KiB, i)] as const))
    now += 10 * day
    expect(await cache.get("k0")).toBeDefined()
    expect(await cache.get("k1")).toBeDefined()
    now += day
    const old = await cache.prune({ olderThan: 5 * day })
    expect(old.removedCount).toBe(4)
    expect(await cache.getMany(["k0", "k1", "k2"])).toEqual([expect.anything(), expect.anything(), undefined])
    now += day
    expect(await cache.get("k1")).toBeDefined()
    const bySize = await cache.prune({ maxSize: 15 * KiB })
    expect(bySize.removedCount).toBe(1)
    expect(await cache.has("k0")).toBe(false)
    expect(await cache.has("k1")).toBe(true)
    await cache.close()
  })

  it("prune removes expired entries", async () => {
    const dir = scratch()
    let now = 1_700_000_000_000
    const cache = await createSqliteCache({ dir, clock: () => now })
    await cache.put("short", 1, { ttl: 1000 })
    await cache.put("long", 2)
    now += 2000
    expect(await cache.prune({})).toMatchObject({ removedCount: 1 })
    expect((await cache.inspect()).entryCount).toBe(1)
    await cache.close()
  })

  it("records hits and access times without a write per read, at persist()", async () => {
    const dir = scratch()
    let now = 1_700_000_000_000
    const cache = await createSqliteCache({ dir, clock: () => now })
    await cache.put("k", "v")
    await cache.persist()
    const other = new Database(join(dir, "cache.db"), { readonly: true })
    const access = () => other.prepare("SELECT accessed, hits FROM access").get() as { accessed: number; hits: number }
    expect(access()).toEqual({ accessed: now, hits: 0 })
    now += 5000
    for (let i = 0; i < 3; i++) expect(await cache.get("k")).toBe("v")
    expect(access().hits).toBe(0)
    await cache.persist()
    expect(access()).toEqual({ accessed: now, hits: 3 })
    other.close()
    await cache.close()
  })

  it("entries() lists every stored entry with its prefix and key, for verify", async () => {
    const dir = scratch()
    const cache = await createSqliteCache({ dir })
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
    await cache.putMany(keys.map((k) => [k, k] as const))
    const seen = new Set<string>()
    for await (const { id, bytes } of cache.store.entries!()) {
      expect(id.prefix.equals(cache.keyPrefix)).toBe(true)
      expect(cache.check(bytes).ok).toBe(true)
      seen.add(id.key.hex)
    }
    expect(seen).toEqual(new Set(keys.map((k) => cache.entryId(k).key.hex)))
    await cache.close()
  })

  it("clear() empties the file and gives the space back", async () => {
    const dir = scratch()
    const cache = await createSqliteCache({ dir })
    await cache.putMany(Array.from({ length: 100 }, (_, i) => [`k${i}`, Buffer.alloc(20 * KiB, i)] as const))
    await cache.persist()
    await cache.clear()
    await cache.persist()
    expect(await cache.inspect()).toMatchObject({ entryCount: 0, size: 0 })
    const other = new Database(join(dir, "cache.db"), { readonly: true })
    expect(other.pragma("freelist_count", { simple: true })).toBe(0)
    other.close()
    await cache.close()
  })
})
