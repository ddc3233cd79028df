import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

export function putIfAbsent(h: Harness): void {
  describe(`${h.target.name}: put-if-absent`, () => {
    it("keeps the first value under a key and returns false on the second put", async () => {
      const { cache } = await h.fresh()
      expect(await cache.put("k", "first")).toBe(true)
      expect(await cache.put("k", "second")).toBe(false)
      expect(await cache.get("k")).toBe("first")
      const info = await cache.inspect()
      expect(info.puts).toBe(1)
      expect(info.entryCount).toBe(1)
    })

    it("putMany reports per entry, duplicates within the batch included", async () => {
      const { cache } = await h.fresh()
      await cache.put("b", "old")
      expect(
        await cache.putMany([
          ["a", 1],
          ["b", 2],
          ["c", 3],
        ]),
      ).toEqual([true, false, true])
      expect(await cache.getMany(["a", "b", "c"])).toEqual([1, "old", 3])
    })

    it("adds again after delete", async () => {
      const { cache } = await h.fresh()
      await cache.put("k", 1)
      expect(await cache.delete("k")).toBe(true)
      expect(await cache.put("k", 2)).toBe(true)
      expect(await cache.get("k")).toBe(2)
    })
  })
}
