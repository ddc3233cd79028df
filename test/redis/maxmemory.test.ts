/**
 * Redis at `maxmemory` with `noeviction`: it refuses writes with an `OOM`
 * error reply. Writes are dropped with one warning, reads keep hitting, and
 * the circuit breaker stays closed (the server answers: it is not down).
 */
import { createRedisCache, type RedisStore } from "@sitecache/backend-redis"
import { Redis } from "ioredis"
import { afterAll, beforeAll, expect, it } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer } from "../support/redis.js"
import { build, expectedOutput, makeDocs } from "./build.js"

describeWithRedis("Redis full (maxmemory, noeviction)", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedisServer({ args: ["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"] })
  })
  afterAll(() => server?.stop())

  it("drops writes with one warning while reads keep hitting", async () => {
    const warnings: string[] = []
    const cache = await createRedisCache({ url: server.url, namespace: "full", onWarning: (message) => warnings.push(message) })
    const docs = makeDocs(120)
    const first = await build(cache, docs.slice(0, 40))
    expect(first.stats.misses).toBe(40)
    expect(warnings).toEqual([])

    // Someone else fills the server to its limit, to within a few bytes (big values, then smaller ones).
    const filler = new Redis(server.port, server.host)
    try {
      let i = 0
      for (const size of [64 * 1024, 4096, 256, 16]) {
        for (; ; i++) {
          const refused = await filler.set(`filler:${i}`, Buffer.alloc(size, i % 256)).then(
            () => false,
            (error: Error) => /OOM/.test(error.message),
          )
          if (refused) break
        }
      }
    } finally {
      filler.disconnect()
    }
    // Clients' buffers count as used memory too, and the filler's are freed as it leaves:
    // pin the limit just below what the data holds now, so the server stays full.
    const info = String(await server.command("INFO", "memory"))
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1])
    expect(await server.command("CONFIG", "SET", "maxmemory", String(used - 128 * 1024))).toBe("OK")

    // The whole site: the first 40 documents hit, the 80 new ones are rendered and their writes dropped.
    const second = await build(cache, docs)
    expect(second.output).toEqual(expectedOutput(docs))
    expect(second.hits.slice(0, 40).every(Boolean)).toBe(true)
    expect(second.stats.misses).toBe(80)
    expect(await cache.putMany(docs.slice(40).map((doc) => [doc.path, doc.source] as const))).toEqual(Array(80).fill(false))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/`put` failed: .*OOM/)
    expect((await cache.inspect()).errors).toBeGreaterThanOrEqual(81)
    expect((cache.store as RedisStore).health.breaker).toBe("closed")
    // Still hitting after all those refused writes.
    expect((await build(cache, docs.slice(0, 40))).stats.hits).toBe(40)
    await cache.close()
  })
})
