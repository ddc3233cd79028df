import { describe, expect, it } from "vitest"
import type { Capabilities, Harness } from "../target.js"

const DAY = 86_400_000

/**
 * `sweep`: entries nobody read or wrote for `maxIdle` go, of every prefix but
 * the kept ones, judged by last access (not by prefix), so another build's
 * recent reads keep its entries. A store without `Store.sweep` (Redis, tiers
 * over one) sweeps nothing and says so with `undefined`.
 */
export function sweep(h: Harness, capabilities: Capabilities): void {
  describe(`${h.target.name}: sweep of entries unused for a while (injected clock)`, () => {
    it("removes what nobody used for maxIdle, keeps what was read since and every entry of a kept prefix", async () => {
      let now = Date.UTC(2030, 0, 1)
      const { cache } = await h.fresh({ clock: () => now })
      cache.setKeyPrefix("old")
      await cache.put("read-later", "a")
      await cache.put("never-read", "b")
      cache.setKeyPrefix("records")
      await cache.put("record", "r")
      await cache.persist()
      now += 10 * DAY
      cache.setKeyPrefix("old")
      expect(await cache.get("read-later")).toBe("a")
      cache.setKeyPrefix("new")
      await cache.put("fresh", "c")
      const result = await cache.sweep({ maxIdle: DAY, keep: ["records"] })
      cache.setKeyPrefix("old")
      if (cache.store.sweep === undefined) {
        expect(result).toBeUndefined()
        expect(await cache.get("never-read")).toBe("b")
        return
      }
      expect(result?.removedCount).toBe(1)
      expect(result?.removedSize).toBeGreaterThan(0)
      expect(await cache.get("never-read")).toBeUndefined()
      expect(await cache.get("read-later")).toBe("a")
      cache.setKeyPrefix("new")
      expect(await cache.get("fresh")).toBe("c")
      cache.setKeyPrefix("records")
      expect(await cache.get("record")).toBe("r")
      expect((await cache.inspect()).entryCount).toBe(3)
    })

    it("a read-only cache sweeps nothing", async () => {
      let now = Date.UTC(2030, 0, 1)
      const { cache, location } = await h.fresh({ clock: () => now })
      await cache.put("k", "v")
      await cache.persist()
      now += 10 * DAY
      const reader = await h.reopen(location, { clock: () => now, mode: "read-only" })
      expect(await reader.sweep({ maxIdle: DAY })).toBeUndefined()
      expect(await cache.get("k")).toBe("v")
    })

    if (capabilities.persistent) {
      it("keeps the entries another cache on the same location read since, whatever their prefix", async () => {
        let now = Date.UTC(2030, 0, 1)
        const { cache: sweeper, location } = await h.fresh({ clock: () => now })
        sweeper.setKeyPrefix("tool-a")
        const other = await h.reopen(location, { clock: () => now })
        other.setKeyPrefix("tool-b")
        await other.put("page", "html")
        await other.persist()
        // The sweeper knows the entry from before the other cache's read.
        expect((await sweeper.inspect()).entryCount).toBe(1)
        now += 10 * DAY
        expect(await other.get("page")).toBe("html")
        await other.persist()
        const kept = await sweeper.sweep({ maxIdle: DAY })
        if (sweeper.store.sweep === undefined) {
          expect(kept).toBeUndefined()
          return
        }
        expect(kept).toEqual({ removedCount: 0, removedSize: 0 })
        now += 10 * DAY
        expect((await sweeper.sweep({ maxIdle: DAY }))?.removedCount).toBe(1)
        expect(await other.get("page")).toBeUndefined()
      })
    }
  })
}
