import { describe, expect, it } from "vitest"
import { type Damage, damageEntry } from "../damage.js"
import type { Harness } from "../target.js"

export function corrupt(h: Harness): void {
  describe(`${h.target.name}: corrupt and truncated entries`, () => {
    const kinds: Damage[] = ["truncate", "flip", "empty", "garbage", "header"]
    for (const how of kinds) {
      it(`reads a ${how} entry as a miss, counts it, removes it, and the next put heals it`, async () => {
        const warnings: string[] = []
        const { cache } = await h.fresh({ onWarning: (message) => warnings.push(message) })
        await cache.putMany([
          ["damaged", { html: "<p>x</p>".repeat(100) }],
          ["intact", "fine"],
        ])
        await damageEntry(cache, "damaged", how)
        expect(await cache.get("damaged")).toBeUndefined()
        const info = await cache.inspect()
        expect(info.misses).toBe(1)
        expect(info.errors).toBe(1)
        expect(warnings).toHaveLength(1)
        expect(await cache.store.get(cache.entryId("damaged"))).toBeUndefined()
        expect(await cache.get("intact")).toBe("fine")
        expect(await cache.put("damaged", "healed")).toBe(true)
        expect(await cache.get("damaged")).toBe("healed")
      })
    }

    it("has() is false for a corrupt entry; getMany skips it; one warning per cause", async () => {
      const warnings: string[] = []
      const { cache } = await h.fresh({ onWarning: (message) => warnings.push(message) })
      await cache.putMany([
        ["a", 1],
        ["b", 2],
        ["c", 3],
      ])
      await damageEntry(cache, "a", "flip")
      await damageEntry(cache, "c", "truncate")
      expect(await cache.getMany(["a", "b", "c"])).toEqual([undefined, 2, undefined])
      expect(await cache.has("a")).toBe(false)
      expect(warnings).toHaveLength(1)
      expect((await cache.inspect()).errors).toBe(2)
    })

    it("does not throw on a corrupt entry in strict mode either (corruption is a miss, not a fault)", async () => {
      const { cache } = await h.fresh({ strict: true, onWarning: () => {} })
      await cache.put("k", "v")
      await damageEntry(cache, "k", "flip")
      expect(await cache.get("k")).toBeUndefined()
    })
  })
}
