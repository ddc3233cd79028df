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
  it("counts orphans from an index by prefix, not by reading every row", async () => {
    const dir = scratch()
    const cache = await twoEntriesUnderV1(dir)
    await cache.close()
    const db = new Database(join(dir, "cache.db"), { readonly: true })
    const plan = (
      db.prepare("EXPLAIN QUERY PLAN SELECT count(*), total(size) FROM entries WHERE prefix != ?").all(Buffer.alloc(16)) as {
        detail: string
      }[]
    ).map((row) => row.detail)
    db.close()
    expect(plan.join()).toMatch(/COVERING INDEX entries_by_prefix/)
    const reader = await createSqliteCache({ dir, keyPrefix: "v2", mode: "read-only" })
    expect(await reader.inspect()).toMatchObject({ entryCount: 2, orphanedCount: 2 })
    await reader.close()
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
