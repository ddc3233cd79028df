/**
 * Every subcommand on a Redis started by the test, found through the
 * environment (SITECACHE_BACKEND, SITECACHE_REDIS_URL) and the namespace in
 * `sitecache.config.mjs`. `clear` must leave every key outside the namespace.
 */
import { expect } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer } from "../../../test/support/redis.js"
import { writeFiles } from "./helpers.js"
import { describeCli } from "./scenario.js"

describeWithRedis("redis", () => {
  let server: RedisServer | undefined
  describeCli({
    backend: "redis",
    async setup(root) {
      server = await startRedisServer()
      await server.command("SET", "another-app:setting", "kept")
      await server.command("SET", "sitecache-neighbour:entry", "kept")
      await writeFiles(root, {
        "sitecache.config.mjs": `export default { backend: "fs", redis: { namespace: "blog-cache" } }\n`,
      })
      return {
        config: { backend: "redis", redis: { url: server.url, namespace: "blog-cache" } },
        env: { SITECACHE_BACKEND: "redis", SITECACHE_REDIS_URL: server.url },
      }
    },
    async checkUntouched() {
      expect(await server?.command("GET", "another-app:setting")).toBe("kept")
      expect(await server?.command("GET", "sitecache-neighbour:entry")).toBe("kept")
    },
    async teardown() {
      await server?.stop()
    },
  })
})
