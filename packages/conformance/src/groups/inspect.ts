import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

export function inspect(h: Harness): void {
  describe(`${h.target.name}: inspect`, () => {
    it("counts entries, bytes, hits, misses and puts", async () => {
      const { cache } = await h.fresh()
      const empty = await cache.inspect()
      expect(empty).toMatchObject({ size: 0, entryCount: 0, hits: 0, misses: 0, puts: 0, errors: 0 })
      expect(empty.name).toBe(cache.name)
      await cache.put("a", "x".repeat(10_000))
      await cache.put("b", "y".repeat(20_000))
      await cache.put("b", "again")
      await cache.get("a")
      await cache.get("missing")
      await cache.persist()
      const info = await cache.inspect()
      expect(info.entryCount).toBe(2)
      // Strings are stored at one or two bytes a character plus a header: at least the characters.
      expect(info.size).toBeGreaterThanOrEqual(30_000)
      expect(info.size).toBeLessThan(200_000)
      expect(info).toMatchObject({ hits: 1, misses: 1, puts: 2, errors: 0 })
      await cache.delete("b")
      await cache.persist()
      const after = await cache.inspect()
      expect(after.entryCount).toBe(1)
      expect(after.size).toBeLessThan(info.size)
    })
  })
}
