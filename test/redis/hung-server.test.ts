/**
 * A server that accepts connections but never answers: a TCP server in the
 * test (a black-holing proxy), and a real Redis frozen with SIGSTOP after the
 * cache connected (its kernel still accepts and buffers, nothing replies).
 * Each operation ends within the command timeout, as a miss or a dropped
 * write, and after `breakerThreshold` failures the circuit breaker opens and
 * Redis is not asked at all until the cooldown ends.
 *
 * Strict caches, so that each operation's fault can be inspected.
 */
import { createRedisCache, RedisFaultError, type RedisStore } from "@sitecache/backend-redis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { describeWithRedis, type RedisServer, startRedisServer, startSilentServer } from "../support/redis.js"

/** The Redis fault behind a strict cache's `CacheFaultError`. */
async function faultOf(operation: Promise<unknown>): Promise<RedisFaultError> {
  const error = await operation.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toMatchObject({ code: "SITECACHE_FAULT" })
  const cause = (error as { cause?: unknown }).cause
  expect(cause).toBeInstanceOf(RedisFaultError)
  return cause as RedisFaultError
}

describe("a server that accepts connections and never answers", () => {
  it("every operation fails within the command timeout, then the breaker opens; a lenient cache reads misses", async () => {
    const silent = await startSilentServer()
    const url = `redis://127.0.0.1:${silent.port}`
    const options = { url, commandTimeout: 200, connectTimeout: 200, breakerThreshold: 3, breakerCooldown: 60_000 }
    const strict = await createRedisCache({ ...options, namespace: "strict", strict: true })
    const store = strict.store as RedisStore
    expect(silent.connections()).toBe(1)
    // The connection never becomes ready (the ready check gets no answer): commands are refused at once.
    const first = [await faultOf(strict.get("a")), await faultOf(strict.put("b", 1)), await faultOf(strict.get("c"))]
    for (const fault of first) expect(fault.circuitOpen).toBe(false)
    expect(store.health.breaker).toBe("open")
    const skipped = [await faultOf(strict.get("a")), await faultOf(strict.getMany(["a", "b"])), await faultOf(strict.put("d", 2))]
    for (const fault of skipped) expect(fault.circuitOpen).toBe(true)
    // The stuck connection is dropped after `connectTimeout` and tried again (with back-off), not held forever.
    const deadline = Date.now() + 10_000
    while (silent.connections() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(silent.connections()).toBeGreaterThanOrEqual(2)
    await strict.close()

    const warnings: string[] = []
    const lenient = await createRedisCache({ ...options, namespace: "lenient", onWarning: (message) => warnings.push(message) })
    expect(await lenient.get("a")).toBeUndefined()
    expect(await lenient.put("a", 1)).toBe(false)
    expect(await lenient.getMany(["a", "b"])).toEqual([undefined, undefined])
    expect(await lenient.has("a")).toBe(false)
    expect((await lenient.inspect()).errors).toBeGreaterThanOrEqual(4)
    expect(warnings.length).toBeLessThanOrEqual(4)
    await lenient.close()
    await silent.close()
  })
})

describeWithRedis("a Redis that stops answering after the cache connected (SIGSTOP)", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedisServer()
  })
  afterAll(() => server?.stop())

  it("commands time out (the command timeout bounds them), the breaker opens, and hits resume once Redis answers again", async () => {
    const cache = await createRedisCache({
      url: server.url,
      namespace: "frozen",
      // Long enough that the put before the freeze never times out on a loaded machine.
      commandTimeout: 1000,
      breakerThreshold: 3,
      breakerCooldown: 300,
      strict: true,
    })
    const store = cache.store as RedisStore
    await cache.put("kept", "value")
    server.pause()
    try {
      const timedOut = [await faultOf(cache.get("kept")), await faultOf(cache.put("x", 1)), await faultOf(cache.get("y"))]
      for (const fault of timedOut) expect(fault.code).toBe("ETIMEDOUT")
      expect(store.health.breaker).toBe("open")
      const skipped = await faultOf(cache.get("kept"))
      expect(skipped.circuitOpen).toBe(true)
    } finally {
      server.resume()
    }
    // The breaker dropped the hung connection; the client reconnects and the next probe (or the reconnection) closes it.
    const deadline = Date.now() + 15_000
    let value: unknown
    while (Date.now() < deadline) {
      value = await cache.get("kept").catch(() => undefined)
      if (value !== undefined) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(value).toBe("value")
    expect(store.health.breaker).toBe("closed")
    await cache.close()
  })
})
