/**
 * A Redis outage during a build, as a user's process lives it: Redis down
 * from the start, frozen (SIGSTOP) before or during the build, or killed
 * during it. The build runs in a child process the way the blog does
 * (documents one at a time, `finishBuild`, `close`). In every case:
 *
 * - the process ends right after the build: once the cache is closed,
 *   nothing (no timer, no socket) keeps its event loop alive, and it exits
 *   by itself;
 * - one outage gives one warning, whichever operations it failed and
 *   whatever way its commands failed (timeouts, closed, refused connections,
 *   the open breaker);
 * - a frozen server costs one command timeout: the first command that waits
 *   out `commandTimeout` drops the connection, and every later command fails
 *   at once instead of waiting too.
 *
 * How long the process lived after the build is printed for comparison,
 * never asserted (shared machines are noisy).
 */
import { fileURLToPath } from "node:url"
import { runChildScript } from "@sitecache/conformance"
import { afterEach, beforeEach, expect, it } from "vitest"
import {
  describeWithRedis,
  freePort,
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  startRedisServer,
} from "../support/redis.js"

const testRoot = fileURLToPath(new URL("..", import.meta.url))
const buildModule = new URL("./build.ts", import.meta.url).href

interface ChildReport {
  readonly correct: boolean
  readonly hits: number
  readonly misses: number
  readonly errors: number
  readonly warnings: string[]
  readonly timeouts: number
  readonly breakerThreshold: number
  /** What kept the event loop alive once the cache was closed (stdio pipes aside). */
  readonly alive: string[]
  readonly endedAt: number
}

/**
 * The child: open the cache, build 60 documents one at a time (the blog's
 * default), `finishBuild`, close, report. `signal` (SIGSTOP or SIGKILL) is sent
 * to the server's process before document `at`.
 */
function childScript(
  redis: string | { nodes: string[] },
  options: { pid?: number | undefined; signal?: "SIGSTOP" | "SIGKILL"; at?: number } = {},
): string {
  if (options.signal !== undefined && options.pid === undefined) throw new Error("childScript: no server process to signal")
  const where = typeof redis === "string" ? { url: redis } : redis
  return `
    import { createCache, finishBuild } from "@sitecache/core"
    const { build, expectedOutput, makeDocs } = await import(${JSON.stringify(buildModule)})
    const warnings = []
    const cache = await createCache(
      { backend: "redis", redis: { ...${JSON.stringify(where)}, namespace: "outage" } },
      { onWarning: (message) => warnings.push(message) },
    )
    const docs = makeDocs(60)
    const { output, stats } = await build(cache, docs, {
      beforeDocument: (i) => {
        if (i === ${options.at ?? -1}) process.kill(${options.pid ?? 0}, ${JSON.stringify(options.signal ?? "SIGCONT")})
      },
    })
    await finishBuild(cache, stats, "outage")
    const { timeouts } = cache.store.health
    const { errors } = await cache.inspect()
    await cache.close()
    // Let the teardown close() started run its course, whatever the load: the client ends when its socket closes
    // (a socket to a frozen server is destroyed on a zero-delay timer), and that close fails the ready check close()
    // cut short, which disconnects once more on another zero-delay timer. Then those timers, and what they call.
    const client = cache.store.client
    for (let turn = 0; turn < 1000 && client.status !== "end"; turn++) await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setTimeout(resolve, 5))
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
    const alive = process.getActiveResourcesInfo().filter((type) => type !== "PipeWrap" && type !== "TTYWrap")
    process.stdout.write(JSON.stringify({
      correct: JSON.stringify([...output]) === JSON.stringify([...expectedOutput(docs)]),
      hits: stats.hits,
      misses: stats.misses,
      errors,
      warnings,
      timeouts,
      breakerThreshold: cache.store.options.breakerThreshold,
      alive,
      endedAt: Date.now(),
    }))
    // No process.exit(): the process must end on its own.
  `
}

async function runBuild(label: string, script: string): Promise<ChildReport> {
  const stdout = await runChildScript(script, { cwd: testRoot, timeoutMs: 60_000 })
  const exitedAt = Date.now()
  const report = JSON.parse(stdout) as ChildReport
  console.log(
    `${label}: ${report.hits} hits, ${report.misses} misses, ${report.errors} errors, ${report.timeouts} command timeouts, ` +
      `${report.warnings.length} warning(s); the process exited ${exitedAt - report.endedAt} ms after its report`,
  )
  return report
}

/** What every outage must give: a correct build, one warning, a process that nothing holds. */
function expectOneOutage(report: ChildReport, cause: RegExp): void {
  expect(report.correct).toBe(true)
  expect(report.errors).toBeGreaterThan(0)
  expect(report.warnings).toEqual([expect.stringMatching(cause)])
  expect(report.alive).toEqual([])
}

describeWithRedis("a Redis outage during a build", () => {
  let server: RedisServer
  beforeEach(async () => {
    server = await startRedisServer()
  })
  afterEach(async () => {
    server?.resume()
    await server?.stop()
  })

  it("down from the start: every document a miss, one warning, and the process exits right after", async () => {
    const report = await runBuild("down", childScript(`redis://127.0.0.1:${await freePort()}`))
    expect(report.misses).toBe(60)
    expect(report.timeouts).toBe(0)
    expectOneOutage(report, /ECONNREFUSED/)
  })

  it("frozen before the build: no command waits, one warning, and the process exits right after", async () => {
    server.pause()
    const report = await runBuild("frozen before the build", childScript(server.url))
    expect(report.misses).toBe(60)
    expect(report.timeouts).toBe(0)
    expectOneOutage(report, /ETIMEDOUT/)
  })

  it("frozen mid-build: one command waits out the timeout, every later one fails at once; one warning", async () => {
    await runBuild("warm-up", childScript(server.url))
    const report = await runBuild("frozen mid-build", childScript(server.url, { pid: server.pid, signal: "SIGSTOP", at: 20 }))
    expect(report.hits).toBe(20)
    // Less than the breaker needs to open: the first timeout drops the connection that hangs.
    expect(report.timeouts).toBe(1)
    expect(report.timeouts).toBeLessThan(report.breakerThreshold)
    expectOneOutage(report, /ETIMEDOUT/)
  })

  it("killed mid-build: the rest of the build misses, one warning, and the process exits right after", async () => {
    await runBuild("warm-up", childScript(server.url))
    const report = await runBuild("killed mid-build", childScript(server.url, { pid: server.pid, signal: "SIGKILL", at: 20 }))
    expect(report.hits).toBe(20)
    expect(report.misses).toBe(40)
    expectOneOutage(report, /ECONNRESET|ECONNREFUSED|ENOTCONNECTED|closed/i)
  })
})

describeWithRedis(
  "one master of a Redis Cluster out during a build",
  () => {
    let cluster: RedisCluster
    beforeEach(async () => {
      cluster = await startRedisCluster({ masters: 3 })
    })
    afterEach(async () => {
      for (const node of cluster?.nodes ?? []) node.resume()
      await cluster?.stop()
    })
    const seeds = () => ({ nodes: cluster.seeds.map(({ host, port }) => `${host}:${port}`) })

    it("frozen: one command waits out the timeout (not one per document on that master); one warning", async () => {
      await runBuild("cluster warm-up", childScript(seeds()))
      const frozen = cluster.nodes[0] as RedisServer
      const report = await runBuild(
        "cluster, one master frozen",
        childScript(seeds(), { pid: frozen.pid, signal: "SIGSTOP", at: 20 }),
      )
      expect(report.hits).toBeGreaterThanOrEqual(20)
      expect(report.timeouts).toBe(1)
      expectOneOutage(report, /ETIMEDOUT/)
    })

    it("killed: its documents miss, one warning, and the process exits right after", async () => {
      await runBuild("cluster warm-up", childScript(seeds()))
      const killed = cluster.nodes[0] as RedisServer
      const report = await runBuild(
        "cluster, one master killed",
        childScript(seeds(), { pid: killed.pid, signal: "SIGKILL", at: 20 }),
      )
      expect(report.hits).toBeGreaterThanOrEqual(20)
      expect(report.misses).toBeGreaterThan(0)
      expectOneOutage(report, /./)
    })
  },
  { cluster: true },
)
