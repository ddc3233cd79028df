import { encodeEntry } from "@sitecache/core"
import { Redis } from "ioredis"
import { afterAll, beforeAll, expect, it } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer } from "../../../test/support/redis.js"
import { createRedisCache, type RedisStore } from "../src/index.js"

describeWithRedis("the put-if-absent script on a real server", () => {
  let server: RedisServer
  let admin: Redis
  beforeAll(async () => {
    server = await startRedisServer()
    admin = new Redis(server.port, server.host)
  })
  afterAll(async () => {
    admin?.disconnect()
    await server?.stop()
  })

  it("keeps a live entry and replaces one expired by the cache's clock, alone and in a pipeline, loaded again after SCRIPT FLUSH", async () => {
    let now = 1_700_000_000_000
    const cache = await createRedisCache({ url: server.url, namespace: "script", clock: () => now })
    try {
      const id = (k: string) => cache.entryId(k)
      const entry = (value: string, expires: number) =>
        encodeEntry(Buffer.from(value), { codecId: 1, created: now, expires, secret: undefined })
      // Stored with expiries Redis does not enforce (no PX), so only the script's reading of the header decides.
      for (const k of ["a", "b", "c"]) await cache.store.set(id(k), entry("old", now + 1000), { created: now, expires: 0 })
      for (const k of ["live-1", "live-2"]) await cache.store.set(id(k), entry("old", 0), { created: now, expires: 0 })
      const meta = { created: now, expires: 0 }
      expect(await cache.store.add(id("a"), entry("new", 0), meta, now)).toBe(false)
      now += 2000
      expect(await cache.store.add(id("a"), entry("new", 0), meta, now)).toBe(true)
      expect(await admin.script("FLUSH")).toBe("OK")
      expect(
        await (cache.store as RedisStore).addMany(
          [
            [id("b"), entry("new", 0), meta],
            [id("live-1"), entry("new", 0), meta],
          ],
          now,
        ),
      ).toEqual([true, false])
      expect(await admin.script("FLUSH")).toBe("OK")
      expect(await cache.store.add(id("c"), entry("new", 0), meta, now)).toBe(true)
      expect(await cache.store.add(id("live-2"), entry("new", 0), meta, now)).toBe(false)
      const payload = async (k: string) =>
        Buffer.from((await cache.store.get(id(k))) as Uint8Array)
          .subarray(28, 31)
          .toString()
      expect([await payload("a"), await payload("b"), await payload("c")]).toEqual(["new", "new", "new"])
      expect([await payload("live-1"), await payload("live-2")]).toEqual(["old", "old"])
    } finally {
      await cache.close()
    }
  })
})
