import { runConformance } from "@sitecache/conformance"
import { key } from "@sitecache/core"
import { Redis } from "ioredis"
import { afterAll, beforeAll, expect, it } from "vitest"
import { describeWithRedis, type RedisCluster, startRedisCluster } from "../../../test/support/redis.js"
import { createRedisCache, type RedisStore } from "../src/index.js"

describeWithRedis(
  "redis cluster (3 masters)",
  () => {
    let cluster: RedisCluster
    beforeAll(async () => {
      cluster = await startRedisCluster({ masters: 3 })
    })
    afterAll(() => cluster?.stop())

    let next = 0
    const open = (namespace: string, options = {}) =>
      createRedisCache({ nodes: cluster.seeds.map(({ host, port }) => ({ host, port })), namespace, ...options })

    runConformance({
      name: "redis cluster",
      location: () => `cluster-${next++}`,
      open: ({ location, ...options }) => open(location, options),
      capabilities: { accessClock: false },
    })

    it("getMany and putMany span every master, hundreds of slots, in one call each", async () => {
      const cache = await open("spread")
      const entries = Array.from({ length: 2000 }, (_, i) => [key("doc", i), { i, html: `<p>${i}</p>` }] as const)
      expect((await cache.putMany(entries)).every(Boolean)).toBe(true)
      const values = await cache.getMany(entries.map(([k]) => k))
      expect(values).toEqual(entries.map(([, v]) => v))
      // Every master holds a share, and the entries use (almost) every one of the 256 hash tags.
      const counts = await Promise.all(
        cluster.nodes.map(async (node) => {
          const client = new Redis(node.port, node.host)
          try {
            let count = 0
            let cursor = "0"
            do {
              const [next, names] = await client.scan(cursor, "MATCH", "spread:*", "COUNT", 1000)
              cursor = next
              count += names.length
            } while (cursor !== "0")
            return count
          } finally {
            client.disconnect()
          }
        }),
      )
      expect(counts.reduce((a, b) => a + b, 0)).toBe(2000)
      for (const count of counts) expect(count).toBeGreaterThan(300)
      const store = cache.store as RedisStore
      const tags = new Set(entries.map(([k]) => store.layout.tag(store.layout.name(cache.entryId(k)))))
      expect(tags.size).toBeGreaterThan(250)
      expect(await cache.deleteMany(entries.slice(0, 1000).map(([k]) => k))).toBe(1000)
      expect((await cache.inspect()).entryCount).toBe(1000)
      await cache.clear()
      expect((await cache.inspect()).entryCount).toBe(0)
      await cache.close()
    })
  },
  { cluster: true },
)
