import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

export function ttl(h: Harness): void {
  describe(`${h.target.name}: time to live (injected clock)`, () => {
    it("expires an entry at its ttl, counts a miss and lets it be added again", async () => {
      let now = Date.now()
      const { cache } = await h.fresh({ clock: () => now })
      expect(await cache.put("k", "v", { ttl: 1000 })).toBe(true)
      now += 999
      expect(await cache.get("k")).toBe("v")
      now += 2
      expect(await cache.get("k")).toBeUndefined()
      expect(await cache.has("k")).toBe(false)
      expect(await cache.put("k", "new", { ttl: 1000 })).toBe(true)
      expect(await cache.get("k")).toBe("new")
      expect((await cache.inspect()).misses).toBe(1)
    })

    it("put on an expired entry replaces it", async () => {
      let now = Date.now()
      const { cache } = await h.fresh({ clock: () => now })
      await cache.put("k", "old", { ttl: 10 })
      now += 11
      expect(await cache.put("k", "new")).toBe(true)
      expect(await cache.get("k")).toBe("new")
      now += 1e12
      expect(await cache.get("k")).toBe("new")
    })

    it("refuses a bad ttl", async () => {
      const { cache } = await h.fresh()
      await expect(cache.put("k", 1, { ttl: -1 })).rejects.toMatchObject({ code: "SITECACHE_BAD_OPTION" })
      await expect(cache.put("k", 1, { ttl: Number.NaN })).rejects.toMatchObject({ code: "SITECACHE_BAD_OPTION" })
      expect(await cache.has("k")).toBe(false)
    })
  })
}
