import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

export function unserializable(h: Harness): void {
  describe(`${h.target.name}: unserializable values`, () => {
    const bad: [string, unknown][] = [
      ["a function", () => 1],
      ["an object holding a function", { render() {} }],
      ["a symbol", Symbol("s")],
      ["undefined", undefined],
      ["a nested symbol", { a: [Symbol("deep")] }],
    ]
    for (const [name, value] of bad) {
      it(`rejects ${name} with SITECACHE_UNSERIALIZABLE before writing`, async () => {
        const { cache } = await h.fresh()
        await expect(cache.put("k", value)).rejects.toMatchObject({
          code: "SITECACHE_UNSERIALIZABLE",
          name: "UnserializableError",
        })
        expect(await cache.has("k")).toBe(false)
        expect((await cache.inspect()).entryCount).toBe(0)
      })
    }

    it("rejects a whole putMany batch before writing any of it", async () => {
      const { cache } = await h.fresh()
      await expect(
        cache.putMany([
          ["ok-1", 1],
          ["bad", () => 2],
          ["ok-2", 3],
        ]),
      ).rejects.toMatchObject({
        code: "SITECACHE_UNSERIALIZABLE",
      })
      expect(await cache.getMany(["ok-1", "bad", "ok-2"])).toEqual([undefined, undefined, undefined])
      expect((await cache.inspect()).entryCount).toBe(0)
    })
  })
}
