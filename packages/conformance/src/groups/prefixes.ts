import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

export function prefixes(h: Harness): void {
  describe(`${h.target.name}: key prefixes`, () => {
    it("isolates the same key under two prefixes, and hides without deleting", async () => {
      const { cache } = await h.fresh()
      cache.setKeyPrefix("build-a")
      expect(await cache.put("k", "a")).toBe(true)
      cache.setKeyPrefix("build-b")
      expect(await cache.get("k")).toBeUndefined()
      expect(await cache.has("k")).toBe(false)
      expect(await cache.put("k", "b")).toBe(true)
      expect(await cache.get("k")).toBe("b")
      cache.setKeyPrefix(new TextEncoder().encode("build-a"))
      expect(await cache.get("k")).toBe("a")
      expect((await cache.inspect()).entryCount).toBe(2)
    })

    it("delete under one prefix leaves the other", async () => {
      const { cache } = await h.fresh()
      cache.setKeyPrefix("one")
      await cache.put("k", 1)
      cache.setKeyPrefix("two")
      await cache.put("k", 2)
      expect(await cache.delete("k")).toBe(true)
      cache.setKeyPrefix("one")
      expect(await cache.get("k")).toBe(1)
    })

    it("refuses a prefix that is not a string or bytes", async () => {
      const { cache } = await h.fresh()
      expect(() => cache.setKeyPrefix(42 as unknown as string)).toThrow(expect.objectContaining({ code: "SITECACHE_BAD_OPTION" }))
    })
  })
}
