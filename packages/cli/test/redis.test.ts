/**
 * Every subcommand on a Redis started by the test, found through the
 * environment (SITECACHE_BACKEND, SITECACHE_REDIS_URL) and the namespace in
 * `sitecache.config.mjs`. `clear` must leave every key outside the namespace.
 */
import { expect, it } from "vitest"
import { describeWithRedis, freePort, type RedisServer, startRedisServer } from "../../../test/support/redis.js"
import { sitecache, writeFiles } from "./helpers.js"
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
        // Patient timeouts: on a loaded machine a dropped write (the build fails open) would change the counts.
        config: { backend: "redis", redis: { url: server.url, namespace: "blog-cache", commandTimeout: 10_000 } },
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

  it("a Redis that is down is a fault: exit code 1 and the cause", async () => {
    const port = await freePort()
    const run = await sitecache(["verify", "--cache-backend", "redis", "--redis-url", `redis://127.0.0.1:${port}`])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(new RegExp(`^sitecache: redis \\(127\\.0\\.0\\.1:${port}, namespace sitecache\\): .*ECONNREFUSED`))
  })
})
