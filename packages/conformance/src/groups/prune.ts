import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import type { Capabilities, Harness } from "../target.js"

const KiB = 1024
const DAY = 86_400_000

/**
 * `prune({ orphans, olderThan, maxSize })` and the orphan counts of `inspect`:
 * what `sitecache prune` runs. Orphans are the entries of every key prefix but
 * the current one. Where the store keeps access times by the cache's clock
 * (`accessClock`), `olderThan` and the order of `maxSize` go by last use,
 * reads included, and every prune removes expired entries.
 */
export function prune(h: Harness, capabilities: Capabilities): void {
  const accessClock = capabilities.accessClock !== false
  describe(`${h.target.name}: orphans and prune`, () => {
    it("inspect counts the entries of other prefixes as orphaned; prune({ orphans }) removes them and only them", async () => {
      const { cache } = await h.fresh()
      cache.setKeyPrefix("v1")
      await cache.putMany([
        ["a", "x".repeat(1000)],
        ["b", "y".repeat(1000)],
      ])
      cache.setKeyPrefix("v2")
      await cache.putMany([
        ["a", "new"],
        ["c", "z".repeat(500)],
      ])
      await cache.persist()
      const info = await cache.inspect()
      expect(info.entryCount).toBe(4)
      expect(info.orphanedCount).toBe(2)
      expect(info.orphanedSize).toBeGreaterThanOrEqual(2000)
      expect(info.orphanedSize).toBeLessThan(info.size)
      // Seen from the old prefix, the new one's entries are the orphans.
      cache.setKeyPrefix("v1")
      expect((await cache.inspect()).orphanedCount).toBe(2)
      cache.setKeyPrefix("v2")
      const pruned = await cache.prune({ orphans: true })
      expect(pruned).toEqual({ removedCount: 2, removedSize: info.orphanedSize })
      await cache.persist()
      expect(await cache.inspect()).toMatchObject({ entryCount: 2, orphanedCount: 0, orphanedSize: 0 })
      expect(await cache.getMany(["a", "c"])).toEqual(["new", "z".repeat(500)])
      cache.setKeyPrefix("v1")
      expect(await cache.getMany(["a", "b"])).toEqual([undefined, undefined])
    })

    it("prune({ maxSize }) leaves at most maxSize bytes, removing the least recently used first", async () => {
      let now = Date.UTC(2030, 0, 1)
      const { cache } = await h.fresh({ clock: () => now })
      const keys = ["k0", "k1", "k2", "k3", "k4", "k5"]
      for (const k of keys) {
        now += DAY
        await cache.put(k, randomBytes(10 * KiB))
      }
      await cache.persist()
      now += DAY
      expect(await cache.get("k0")).toBeDefined()
      expect(await cache.get("k1")).toBeDefined()
      await cache.persist()
      const before = await cache.inspect()
      // Room for three and a half entries, as the store counts their bytes (a server counts its own overhead).
      const maxSize = Math.floor((before.size / keys.length) * 3.5)
      const result = await cache.prune({ maxSize })
      await cache.persist()
      const after = await cache.inspect()
      expect(after.size).toBeLessThanOrEqual(maxSize)
      expect(result.removedCount).toBe(3)
      expect(after.entryCount).toBe(3)
      expect(result.removedSize).toBe(before.size - after.size)
      if (accessClock) {
        // k2, k3 and k4 went unused the longest; k0 and k1 were read after k5 was written.
        const kept = (await cache.getMany(keys)).map((value) => value !== undefined)
        expect(kept).toEqual([true, true, false, false, false, true])
      }
    })

    if (accessClock) {
      it("prune({ olderThan }) removes what nobody read or wrote for that long; a read counts as use", async () => {
        let now = Date.UTC(2030, 0, 1)
        const { cache } = await h.fresh({ clock: () => now })
        await cache.putMany(Array.from({ length: 6 }, (_, i) => [`k${i}`, `value ${i}`] as const))
        await cache.persist()
        now += 10 * DAY
        expect(await cache.get("k0")).toBe("value 0")
        await cache.put("late", "written later")
        await cache.persist()
        now += DAY
        const result = await cache.prune({ olderThan: 5 * DAY })
        expect(result.removedCount).toBe(5)
        expect(result.removedSize).toBeGreaterThan(0)
        await cache.persist()
        expect(await cache.getMany(["k0", "k1", "k5", "late"])).toEqual(["value 0", undefined, undefined, "written later"])
        expect((await cache.inspect()).entryCount).toBe(2)
      })

      it("every prune removes expired entries, also ones nobody read since", async () => {
        let now = Date.UTC(2030, 0, 1)
        const { cache: writer, location } = await h.fresh({ clock: () => now })
        await writer.put("short-lived", "s", { ttl: 1000 })
        await writer.put("forever", "f")
        await writer.persist()
        now += 2000
        const cache = await h.reopen(location, { clock: () => now })
        expect(await cache.prune({})).toEqual({ removedCount: 1, removedSize: expect.any(Number) })
        await cache.persist()
        expect((await cache.inspect()).entryCount).toBe(1)
        expect(await cache.get("forever")).toBe("f")
      })
    }

    it("a read-only cache prunes nothing", async () => {
      const { cache: writer, location } = await h.fresh()
      writer.setKeyPrefix("v1")
      await writer.put("a", 1)
      writer.setKeyPrefix("v2")
      await writer.put("b", 2)
      await writer.persist()
      const reader = await h.reopen(location, { mode: "read-only" })
      reader.setKeyPrefix("v2")
      expect(await reader.prune({ orphans: true, olderThan: 0, maxSize: 0 })).toEqual({ removedCount: 0, removedSize: 0 })
      expect((await writer.inspect()).entryCount).toBe(2)
    })
  })
}
