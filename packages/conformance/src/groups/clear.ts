import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

export function clear(h: Harness, options: { roundTrip: boolean }): void {
  describe(`${h.target.name}: clear and close`, () => {
    if (options.roundTrip)
      it("removes every entry of every prefix; the cache stays usable", async () => {
        const { cache } = await h.fresh()
        await cache.putMany([
          ["a", 1],
          ["b", 2],
        ])
        cache.setKeyPrefix("other")
        await cache.put("a", 3)
        await cache.clear()
        expect(await cache.get("a")).toBeUndefined()
        cache.setKeyPrefix("")
        expect(await cache.getMany(["a", "b"])).toEqual([undefined, undefined])
        expect((await cache.inspect()).entryCount).toBe(0)
        expect(await cache.put("a", "again")).toBe(true)
        expect(await cache.get("a")).toBe("again")
      })

    it("close is idempotent and a closed cache refuses work with SITECACHE_CLOSED", async () => {
      const { cache } = await h.fresh()
      await cache.put("k", 1)
      await cache.close()
      await cache.close()
      await expect(cache.get("k")).rejects.toMatchObject({ code: "SITECACHE_CLOSED" })
    })
  })
}
