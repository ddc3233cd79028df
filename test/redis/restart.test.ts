/**
 * Redis killed (SIGKILL) in the middle of a build of a few hundred documents,
 * then restarted: the build completes with correct output, the operations
 * during the outage are misses that fail at once (refused or skipped by the
 * circuit breaker), and hits resume after the restart.
 *
 * The server keeps an append-only file, as a shared cache server would, so
 * its entries survive the kill.
 */

import { createRedisCache, type RedisStore } from "@sitecache/backend-redis"
import { afterAll, beforeAll, expect, it } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer } from "../support/redis.js"
import { build, expectedOutput, makeDocs } from "./build.js"

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describeWithRedis("Redis killed mid-build and restarted", () => {
  let server: RedisServer
  beforeAll(async () => {
    // Redis writes the append-only file before it replies; fsync only matters if the machine dies, not the
    // process. `always` would make every write wait for the disk, which stalls on a loaded CI machine.
    server = await startRedisServer({ args: ["--appendonly", "yes", "--appendfsync", "no"] })
  })
  afterAll(() => server?.stop())

  it("completes with correct output; outage operations are fast misses; hits resume after the restart", async () => {
    const docs = makeDocs(300)
    const expected = expectedOutput(docs)
    const warnings: string[] = []
    const cache = await createRedisCache({
      url: server.url,
      namespace: "site",
      // Generous: outage operations must fail by refusal or the open breaker, which takes no time, so
      // a timeout of a slow but live server on a loaded CI machine must not pass for an outage miss.
      commandTimeout: 5_000,
      breakerCooldown: 200,
      onWarning: (message) => warnings.push(message),
    })
    const store = cache.store as RedisStore

    const cold = await build(cache, docs, { concurrency: 8 })
    expect(cold.stats.misses).toBe(300)
    expect(cold.output).toEqual(expected)
    expect(warnings).toEqual([])

    // Kill before document 100, restart before document 200; 8 documents are in flight at any time,
    // and no document after a kill or restart starts before it is done.
    let killed: Promise<void> | undefined
    let restarted: Promise<void> | undefined
    const breakerDuringOutage: string[] = []
    const warm = await build(cache, docs, {
      concurrency: 8,
      beforeDocument: async (i) => {
        if (i >= 100) await (killed ??= server.kill("SIGKILL"))
        if (i === 150) breakerDuringOutage.push(store.health.breaker)
        if (i >= 200) {
          await (restarted ??= server
            .restart()
            .then(() => waitFor(() => store.health.status === "ready", "the store to reconnect")))
        }
      },
    })
    expect(warm.output).toEqual(expected)
    const before = warm.hits.slice(0, 100 - 8)
    const outage = warm.hits.slice(100 + 8, 200 - 8)
    const after = warm.hits.slice(200 + 8)
    expect(before.every(Boolean)).toBe(true)
    expect(outage.some(Boolean)).toBe(false)
    expect(after.every(Boolean)).toBe(true)
    expect(breakerDuringOutage).toEqual(["open"])

    // Faults are refused or closed connections or the open circuit. Known issue: on a heavily loaded
    // machine, about one run in four, one operation at the kill or restart boundary waits out
    // `commandTimeout` before failing (the outage documents are still misses, the breaker still opens).
    // At most one such timeout is tolerated, and warnings stay one per cause.
    expect(warnings.length).toBeGreaterThan(0)
    expect(warnings.length).toBeLessThanOrEqual(6)
    // One stall reaches the documents in flight: at most one timed-out `get` and one `put` (a warning each).
    expect(warnings.filter((message) => /ETIMEDOUT|no reply within/.test(message)).length).toBeLessThanOrEqual(2)
    expect((await cache.inspect()).errors).toBeGreaterThan(0)
    // A stall near the end may leave the breaker open for a cooldown: reads resume once it lets a probe through.
    const deadline = Date.now() + 15_000
    let resumed = false
    while (!resumed && Date.now() < deadline) {
      await cache.put("probe-after-restart", 1)
      resumed = (await cache.get("probe-after-restart")) === 1
      if (!resumed) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(resumed).toBe(true)
    expect(store.health).toMatchObject({ status: "ready", breaker: "closed" })
    await cache.close()
  })
})
