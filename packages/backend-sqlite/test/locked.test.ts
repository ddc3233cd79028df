/**
 * A database locked by another process: operations wait at most
 * `busyTimeout`, then give up (a dropped write or a miss, counted as an
 * error), and stop waiting until the lock is gone. Each test resolves while
 * the other process still holds the lock, which is what "never blocked by a
 * lock" means; no test measures wall-clock time.
 */
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { createSqliteCache } from "../src/index.js"
import { holdLock, scratch } from "./helpers.js"

describe("sqlite: a database locked by another process", () => {
  it("drops writes within the bound, still serves reads (WAL), and recovers when the lock goes", async () => {
    const dir = scratch()
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, busyTimeout: 100, onWarning: (message) => warnings.push(message) })
    await cache.put("before", "stored before the lock")
    await cache.persist()

    const holder = await holdLock(join(dir, "cache.db"))
    expect(await cache.put("during", "x")).toBe(false)
    expect(holder.holding()).toBe(true)
    expect((await cache.inspect()).errors).toBe(1)
    // Later writes do not wait again: still dropped, still counted, and one warning in all.
    expect(
      await cache.putMany([
        ["during-2", 2],
        ["during-3", 3],
      ]),
    ).toEqual([false, false])
    expect(await cache.delete("before")).toBe(false)
    expect(holder.holding()).toBe(true)
    // In WAL mode a writer's lock does not stop readers.
    expect(await cache.get("before")).toBe("stored before the lock")
    const info = await cache.inspect()
    expect(info.errors).toBe(3)
    expect(info.hits).toBe(1)
    // One warning per cause, whichever operations it failed (put, delete).
    expect(warnings).toHaveLength(1)
    for (const warning of warnings) expect(warning).toMatch(/locked by another process/)

    await holder.release()
    expect(await cache.put("after", "y")).toBe(true)
    await cache.persist()
    expect(await cache.getMany(["before", "during", "after"])).toEqual(["stored before the lock", undefined, "y"])
    await cache.close()
  })

  it("a cache opened while another process shuts everyone out goes on without caching: misses, dropped writes", async () => {
    const dir = scratch()
    const first = await createSqliteCache({ dir })
    await first.put("k", "v")
    await first.close()

    const holder = await holdLock(join(dir, "cache.db"), { exclusiveMode: true })
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, busyTimeout: 100, onWarning: (message) => warnings.push(message) })
    expect(await cache.get("k")).toBeUndefined()
    expect(await cache.getMany(["k", "k2"])).toEqual([undefined, undefined])
    expect(await cache.has("k")).toBe(false)
    expect(await cache.put("k2", "v2")).toBe(false)
    expect(holder.holding()).toBe(true)
    const info = await cache.inspect()
    expect(info.misses).toBe(3)
    // get, getMany, has, put, and inspect's own statistics.
    expect(info.errors).toBe(5)
    expect(warnings.length).toBeGreaterThan(0)
    await cache.close()
    await holder.release()
    const later = await createSqliteCache({ dir })
    expect(await later.get("k")).toBe("v")
    await later.close()
  })

  it("strict mode turns the gave-up wait into a thrown CacheFaultError", async () => {
    const dir = scratch()
    const cache = await createSqliteCache({ dir, busyTimeout: 50, strict: true })
    await cache.put("warm", 1)
    await cache.persist()
    const holder = await holdLock(join(dir, "cache.db"))
    await expect(cache.put("k", 1)).rejects.toMatchObject({ code: "SITECACHE_FAULT", operation: "put" })
    expect(holder.holding()).toBe(true)
    await holder.release()
    await cache.close()
  })
})
