import { describe, expect, it } from "vitest"
import { damageEntry } from "../damage.js"
import type { Harness } from "../target.js"

export function modes(h: Harness): void {
  describe(`${h.target.name}: read-only and write-only modes`, () => {
    it("read-only serves hits and never writes, deletes, clears or removes a corrupt entry", async () => {
      const { cache: writer, location } = await h.fresh()
      await writer.putMany([
        ["a", "A"],
        ["b", "B"],
        ["bad", "x"],
      ])
      await writer.persist()
      const reader = await h.reopen(location, { mode: "read-only", onWarning: () => {} })
      expect(await reader.get("a")).toBe("A")
      expect(await reader.put("new", 1)).toBe(false)
      expect(await reader.putMany([["new2", 2]])).toEqual([false])
      expect(await reader.delete("a")).toBe(false)
      expect(await reader.deleteMany(["a", "b"])).toBe(0)
      await reader.clear()
      await damageEntry(writer, "bad", "flip")
      await writer.persist()
      expect(await reader.get("bad")).toBeUndefined()
      await reader.persist()
      expect(await writer.store.get(writer.entryId("bad"))).toBeDefined()
      expect(await writer.getMany(["a", "b", "new", "new2"])).toEqual(["A", "B", undefined, undefined])
      expect((await reader.inspect()).puts).toBe(0)
    })

    it("read-only still rejects unserializable values (the same code path as a build that writes)", async () => {
      const { location } = await h.fresh()
      const reader = await h.reopen(location, { mode: "read-only" })
      await expect(reader.put("k", () => 1)).rejects.toMatchObject({ code: "SITECACHE_UNSERIALIZABLE" })
    })

    it("write-only writes but never serves a hit", async () => {
      const { cache: writer, location } = await h.fresh()
      await writer.put("a", "A")
      await writer.persist()
      const refresher = await h.reopen(location, { mode: "write-only" })
      expect(await refresher.get("a")).toBeUndefined()
      expect(await refresher.has("a")).toBe(false)
      expect(await refresher.put("b", "B")).toBe(true)
      await refresher.persist()
      expect(await writer.get("b")).toBe("B")
      expect((await refresher.inspect()).misses).toBe(1)
    })
  })
}
