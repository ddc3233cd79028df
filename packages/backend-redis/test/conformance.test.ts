import { runConformance } from "@sitecache/conformance"
import { afterAll, beforeAll } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer } from "../../../test/support/redis.js"
import { createRedisCache } from "../src/index.js"

describeWithRedis("redis (single server)", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedisServer()
  })
  afterAll(() => server?.stop())

  let next = 0
  runConformance({
    name: "redis",
    // `<port>/<namespace>`: every location is a fresh namespace on the test's own server.
    location: () => `${server.port}/conformance-${next++}`,
    open: ({ location, ...options }) => {
      const [port, namespace] = location.split("/") as [string, string]
      return createRedisCache({ url: `redis://127.0.0.1:${port}`, namespace, ...options })
    },
    // Redis keeps its own time: idle times by the server's clock, expiry by the server.
    capabilities: { persistent: true, accessClock: false },
    childModule: new URL("./child.ts", import.meta.url).href,
  })
})
