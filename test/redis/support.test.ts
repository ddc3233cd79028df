/**
 * The Redis test helper decides what happens without `redis-server`: under
 * `CI=true` the Redis suites fail with a clear message; elsewhere they pass
 * with one explaining test. Nothing is ever registered as skipped.
 */
import { afterEach, expect, it } from "vitest"
import { redisCommand, redisTestPlan, startRedisServer } from "../support/redis.js"

const saved = { PATH: process.env.PATH, CI: process.env.CI, REDIS_SERVER_BIN: process.env.REDIS_SERVER_BIN }
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

it("without redis-server: a failure under CI=true, a message elsewhere", () => {
  process.env.PATH = ""
  delete process.env.REDIS_SERVER_BIN
  process.env.CI = "true"
  expect(redisTestPlan()).toMatchObject({ run: false, fail: true, message: expect.stringMatching(/redis-server.*CI=true/) })
  delete process.env.CI
  expect(redisTestPlan()).toMatchObject({ run: false, fail: false, message: expect.stringMatching(/not found/) })
})

it("starts a server on a free loopback port, kills and restarts it, and cleans up", async () => {
  const plan = redisTestPlan()
  if (!plan.run) {
    // Without redis-server the plan above is what the Redis suites get; under CI that fails.
    if (plan.fail) throw new Error(plan.message)
    return
  }
  const server = await startRedisServer()
  expect(server.url).toBe(`redis://127.0.0.1:${server.port}`)
  expect(await server.command("SET", "k", "v")).toBe("OK")
  await server.kill()
  expect(server.running).toBe(false)
  await expect(redisCommand(server.port, ["PING"], { timeoutMs: 500 })).rejects.toThrow()
  await server.restart()
  expect(await server.command("PING")).toBe("PONG")
  expect(await server.command("GET", "k")).toBeNull() // no persistence
  await server.stop()
  expect(server.running).toBe(false)
})
