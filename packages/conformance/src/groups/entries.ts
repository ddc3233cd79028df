import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

/**
 * `Store.entries()`: what `sitecache verify` and migrations walk. Every stored
 * entry of every prefix, once, with the bytes the cache would check.
 */
export function entries(h: Harness): void {
  describe(`${h.target.name}: entries()`, () => {
    it("lists every entry of every prefix once, with bytes that pass the cache's checks", async () => {
      const { cache } = await h.fresh()
      const list = cache.store.entries
      if (list === undefined) throw new Error(`${h.target.name}: the store has no \`entries()\``)
      const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
      cache.setKeyPrefix("old")
      await cache.putMany(keys.slice(0, 20).map((k) => [k, { old: k }] as const))
      const expected = new Set(keys.slice(0, 20).map((k) => slot(cache.entryId(k))))
      cache.setKeyPrefix("new")
      await cache.putMany(keys.map((k) => [k, { html: `<p>${k}</p>` }] as const))
      for (const k of keys) expected.add(slot(cache.entryId(k)))
      await cache.put("deleted", 1)
      await cache.delete("deleted")
      await cache.persist()
      const seen: string[] = []
      for await (const entry of list.call(cache.store)) {
        expect(entry.damage).toBeUndefined()
        expect(cache.check(entry.bytes).ok).toBe(true)
        seen.push(slot(entry.id))
      }
      expect(seen).toHaveLength(expected.size)
      expect(new Set(seen)).toEqual(expected)
    })

    it("lists nothing in an empty store, or after clear()", async () => {
      const { cache } = await h.fresh()
      const list = cache.store.entries
      if (list === undefined) throw new Error(`${h.target.name}: the store has no \`entries()\``)
      const count = async () => {
        let n = 0
        for await (const _ of list.call(cache.store)) n++
        return n
      }
      expect(await count()).toBe(0)
      await cache.putMany([
        ["a", 1],
        ["b", 2],
      ])
      await cache.persist()
      expect(await count()).toBe(2)
      await cache.clear()
      await cache.persist()
      expect(await count()).toBe(0)
    })
  })
}

function slot(id: { prefix: { hex: string }; key: { hex: string } }): string {
  return `${id.prefix.hex}/${id.key.hex}`
}
