import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

export function deleteAndBatches(h: Harness): void {
  describe(`${h.target.name}: delete and batches`, () => {
    it("delete is idempotent", async () => {
      const { cache } = await h.fresh()
      await cache.put("k", 1)
      expect(await cache.delete("k")).toBe(true)
      expect(await cache.delete("k")).toBe(false)
      expect(await cache.delete("never-there")).toBe(false)
      expect(await cache.get("k")).toBeUndefined()
    })

    it("getMany keeps the order of the keys with misses mixed in", async () => {
      const { cache } = await h.fresh()
      await cache.putMany([
        ["a", "A"],
        ["c", "C"],
        ["e", "E"],
      ])
      expect(await cache.getMany(["a", "b", "c", "d", "e", "a"])).toEqual(["A", undefined, "C", undefined, "E", "A"])
      expect(await cache.getMany([])).toEqual([])
      const info = await cache.inspect()
      expect(info.hits).toBe(4)
      expect(info.misses).toBe(2)
    })

    it("getMany and putMany over many keys", async () => {
      const { cache } = await h.fresh()
      const entries = Array.from({ length: 500 }, (_, i) => [`key-${i}`, { i, html: `<p>${i}</p>` }] as const)
      expect((await cache.putMany(entries)).every(Boolean)).toBe(true)
      const values = await cache.getMany(entries.map(([k]) => k))
      expect(values).toEqual(entries.map(([, v]) => v))
    })

    it("deleteMany counts what it removed", async () => {
      const { cache } = await h.fresh()
      await cache.putMany([
        ["a", 1],
        ["b", 2],
        ["c", 3],
      ])
      expect(await cache.deleteMany(["a", "b", "x", "a"])).toBe(2)
      expect(await cache.getMany(["a", "b", "c"])).toEqual([undefined, undefined, 3])
      expect(await cache.deleteMany([])).toBe(0)
    })
  })
}
