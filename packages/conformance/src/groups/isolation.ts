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
      const second = await cache.get<typeof value>("k")
      expect(second?.list).toEqual([1, 2])
      expect(second?.map.get("a")).toBe(1)
      expect(second).not.toBe(first)
    })
  })
}
