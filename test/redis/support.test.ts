/**
 * The Redis test helper decides what happens without `redis-server`: the
 * Redis suites are registered as skipped (shown as skips, never as passes),
 * and under `CI=true` a failing test says what is missing.
 */
import { afterEach, describe, expect, it, TestRunner } from "vitest"
import { describeWithRedis, redisCommand, redisTestPlan, startRedisServer } from "../support/redis.js"

const saved = { PATH: process.env.PATH, CI: process.env.CI, REDIS_SERVER_BIN: process.env.REDIS_SERVER_BIN }
function restoreEnvironment(): void {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
}
afterEach(restoreEnvironment)

/** Call `describeWithRedis` as a machine without redis-server would; what it registered is taken out again, never run. */
function collectWithoutRedis(ci: boolean) {
  process.env.PATH = ""
  delete process.env.REDIS_SERVER_BIN
  if (ci) process.env.CI = "true"
  else delete process.env.CI
  const parent = TestRunner.getCurrentSuite()
  const before = parent.tasks.length
  const warn = console.warn
  console.warn = () => {}
  try {
    describeWithRedis("a Redis suite", () => {
      it("a Redis test", () => {})
    })
  } finally {
    console.warn = warn
    restoreEnvironment()
  }
  return parent.tasks.splice(before).map((task) => ({ type: task.type, name: task.name, mode: task.mode }))
}

it("without redis-server: a failure under CI=true, a message elsewhere", () => {
  process.env.PATH = ""
  delete process.env.REDIS_SERVER_BIN
  process.env.CI = "true"
  expect(redisTestPlan()).toMatchObject({ run: false, fail: true, message: expect.stringMatching(/redis-server.*CI=true/) })
  delete process.env.CI
  expect(redisTestPlan()).toMatchObject({ run: false, fail: false, message: expect.stringMatching(/not found/) })
})

describe("describeWithRedis without redis-server", () => {
  const elsewhere = collectWithoutRedis(false)
  const underCi = collectWithoutRedis(true)

  it("registers the suite as skipped, and nothing that would pass", () => {
    expect(elsewhere).toEqual([{ type: "collector", name: "a Redis suite", mode: "skip" }])
  })

  it("under CI=true, also one failing test that says what is missing", () => {
    expect(underCi).toEqual([
      { type: "collector", name: "a Redis suite", mode: "skip" },
      { type: "test", name: expect.stringMatching(/^a Redis suite: redis-server is not installed but CI=true/), mode: "run" },
    ])
  })
})

describeWithRedis("a server of its own", () => {
  it("starts on a free loopback port, is killed and restarted, and cleans up", async () => {
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
})
