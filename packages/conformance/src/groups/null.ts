import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

/** For caches that store nothing (`roundTrip: false`). */
export function storesNothing(h: Harness): void {
  describe(`${h.target.name}: stores nothing`, () => {
    it("every get misses, every put returns false, and misses are counted", async () => {
      const { cache } = await h.fresh()
      expect(await cache.put("k", "v")).toBe(false)
      expect(
        await cache.putMany([
          ["a", 1],
          ["b", 2],
        ]),
      ).toEqual([false, false])
      expect(await cache.get("k")).toBeUndefined()
      expect(await cache.getMany(["a", "b"])).toEqual([undefined, undefined])
      expect(await cache.has("k")).toBe(false)
      expect(await cache.delete("k")).toBe(false)
      expect(await cache.deleteMany(["a"])).toBe(0)
      await cache.persist()
      await cache.clear()
      expect(await cache.inspect()).toMatchObject({ size: 0, entryCount: 0, hits: 0, misses: 3, puts: 0, errors: 0 })
    })
  })
}
