import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

export function isolation(h: Harness): void {
  describe(`${h.target.name}: value isolation`, () => {
    it("mutating a value after put, or one returned by get, never changes what the cache holds", async () => {
      const { cache } = await h.fresh()
      const value = { list: [1, 2], map: new Map([["a", 1]]), bytes: new Uint8Array([1]) }
      await cache.put("k", value)
      value.list.push(3)
      value.map.set("b", 2)
      value.bytes[0] = 9
      const first = await cache.get<typeof value>("k")
      expect(first).toStrictEqual({ list: [1, 2], map: new Map([["a", 1]]), bytes: new Uint8Array([1]) })
      first?.list.push(4)
      first?.map.clear()
      if (first !== undefined) first.bytes[0] = 7
      const second = await cache.get<typeof value>("k")
      expect(second?.list).toEqual([1, 2])
      expect(second?.map.get("a")).toBe(1)
      expect(second?.bytes).toStrictEqual(new Uint8Array([1]))
      expect(second).not.toBe(first)
    })

    it("bytes of a plain value read back are the caller's to change: the entry stays whole", async () => {
      const { cache } = await h.fresh()
      await cache.put("plain", { page: new Uint8Array([1, 2, 3]), title: "t" })
      for (let round = 0; round < 2; round++) {
        const got = await cache.get<{ page: Uint8Array; title: string }>("plain")
        expect(got).toStrictEqual({ page: new Uint8Array([1, 2, 3]), title: "t" })
        if (got !== undefined) got.page.fill(9)
      }
      expect((await cache.inspect()).errors).toBe(0)
    })
  })
}
