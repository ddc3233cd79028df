import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

const KiB = 1024

/** `maxSize` given when the cache is opened: the least recently used entries are evicted past it (reads count as use). */
export function eviction(h: Harness): void {
  describe(`${h.target.name}: maxSize eviction`, () => {
    it("evicts the least recently used entries past maxSize, reads counting as use", async () => {
      let now = Date.UTC(2030, 0, 1)
      const { cache } = await h.fresh({ clock: () => now, maxSize: 100 * KiB })
      const keys = ["k0", "k1", "k2", "k3", "k4", "k5"]
      for (const k of keys.slice(0, 4)) {
        now += 1000
        await cache.put(k, randomBytes(20 * KiB))
      }
      await cache.persist()
      now += 1000
      expect(await cache.get("k0")).toBeDefined()
      await cache.persist()
      for (const k of keys.slice(4)) {
        now += 1000
        await cache.put(k, randomBytes(20 * KiB))
        await cache.persist()
      }
      const info = await cache.inspect()
      expect(info.size).toBeLessThanOrEqual(100 * KiB)
      expect(info.evictions).toBeGreaterThanOrEqual(2)
      // k1 and k2 were the least recently used: k0 was read after them.
      const present = await cache.getMany(keys)
      expect(present.map((value) => value !== undefined)).toEqual([true, false, false, true, true, true])
    })

    it("keeps evicting as a build goes on, never holding more than maxSize", async () => {
      let now = Date.UTC(2030, 0, 1)
      const { cache } = await h.fresh({ clock: () => now, maxSize: 20 * KiB })
      for (let i = 0; i < 40; i++) {
        now += 10
        await cache.put(`k${i}`, randomBytes(KiB))
        if (i % 5 === 0) {
          now += 1
          await cache.get("k0")
        }
      }
      await cache.persist()
      const info = await cache.inspect()
      expect(info.size).toBeLessThanOrEqual(20 * KiB)
      expect(info.evictions).toBeGreaterThan(10)
      expect(info.evictions + info.entryCount).toBe(40)
      expect(await cache.has("k0")).toBe(true)
      expect(await cache.has("k1")).toBe(false)
      expect(await cache.has("k39")).toBe(true)
    })

    it("does not store an entry larger than maxSize, and keeps the others", async () => {
      const { cache } = await h.fresh({ maxSize: 10 * KiB })
      expect(await cache.put("small", randomBytes(KiB))).toBe(true)
      expect(await cache.put("big", randomBytes(20 * KiB))).toBe(false)
      await cache.persist()
      expect(await cache.has("big")).toBe(false)
      expect(await cache.has("small")).toBe(true)
      expect((await cache.inspect()).entryCount).toBe(1)
    })
  })
}
