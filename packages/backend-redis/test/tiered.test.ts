import { runConformance } from "@sitecache/conformance"
import { MemoryStore, StoreCache, TieredStore } from "@sitecache/core"
import { afterAll, beforeAll } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer } from "../../../test/support/redis.js"
import { RedisStore } from "../src/index.js"

describeWithRedis("tiered [memory → redis]", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedisServer()
  })
  afterAll(() => server?.stop())

  // The memory tier of a location is shared by every cache opened on it, as the Redis namespace is.
  const memory = new Map<string, MemoryStore>()
  let next = 0
  runConformance({
    name: "tiered memory+redis",
    location: () => `tiered-${next++}`,
    open: async ({ location, ...options }) => {
      let front = memory.get(location)
      if (front === undefined) memory.set(location, (front = new MemoryStore()))
      const redis = await RedisStore.open({ url: server.url, namespace: location, readOnly: options.mode === "read-only" })
      return new StoreCache(new TieredStore([front, redis]), options)
    },
    dispose: (location) => void memory.delete(location),
    capabilities: { accessClock: false },
  })
})
