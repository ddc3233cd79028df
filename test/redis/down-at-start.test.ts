/**
 * Redis is not running when the build starts. Every cache operation must
 * resolve as a miss or a dropped write at once, the whole build must finish
 * well inside 2 s (ioredis' defaults would queue each command through 20
 * reconnection attempts: ~10 s for the first command, ~40 s for each later
 * one, measured in the issue note), and the process must exit by itself when
 * done: no reconnection timer or socket may keep it alive.
 *
 * The build runs in a child process, configured as a user would
 * (`createCache({ backend: ["memory", "redis"], redis: { url } })`).
 */
import { fileURLToPath } from "node:url"
import { runChildScript } from "@sitecache/conformance"
import { describe, expect, it } from "vitest"
import { freePort } from "../support/redis.js"

const testRoot = fileURLToPath(new URL("..", import.meta.url))
const buildModule = new URL("./build.ts", import.meta.url).href

function childScript(url: string, backend: string): string {
  return `
    import { createCache } from "@sitecache/core"
    const { build, expectedOutput, makeDocs } = await import(${JSON.stringify(buildModule)})
    // Load the backend first: the bound is about what Redis costs, not about compiling TypeScript on the fly.
    const loadStarted = performance.now()
    await import("@sitecache/backend-redis")
    await import("ioredis")
    const loadMs = performance.now() - loadStarted
    const warnings = []
    const started = performance.now()
    const cache = await createCache(
      { backend: ${backend}, redis: { url: ${JSON.stringify(url)} } },
      { onWarning: (message) => warnings.push(message) },
    )
    const docs = makeDocs(60)
    const { output, stats } = await build(cache, docs, { concurrency: 4 })
    await cache.persist()
    const info = await cache.inspect()
    await cache.close()
    const correct = JSON.stringify([...output]) === JSON.stringify([...expectedOutput(docs)])
    process.stdout.write(JSON.stringify({
      buildMs: performance.now() - started,
      loadMs,
      correct,
      hits: stats.hits,
      misses: stats.misses,
      errors: info.errors,
      warnings,
      endedAt: Date.now(),
    }))
    // No process.exit(): the process must end on its own.
  `
}

describe("Redis not running when the build starts", () => {
  for (const [label, backend] of [
    ["redis alone", `"redis"`],
    ["tiered memory → redis", `["memory", "redis"]`],
  ] as const) {
    it(`${label}: the build completes with correct output, one warning, and the process exits by itself (its time is printed, not asserted: the machine is shared)`, async () => {
      const port = await freePort() // nothing listens there
      const stdout = await runChildScript(childScript(`redis://127.0.0.1:${port}`, backend), {
        cwd: testRoot,
        timeoutMs: 30_000,
      })
      const exitedAt = Date.now()
      const result = JSON.parse(stdout) as {
        buildMs: number
        loadMs: number
        correct: boolean
        hits: number
        misses: number
        errors: number
        warnings: string[]
        endedAt: number
      }
      console.log(
        `${label}: open + build + close ${result.buildMs.toFixed(0)} ms (module load before: ${result.loadMs.toFixed(0)} ms), process exited ${exitedAt - result.endedAt} ms after the build`,
      )
      expect(result.correct).toBe(true)
      expect(result.misses).toBe(60)
      expect(result.errors).toBeGreaterThan(0)
      // One warning for the outage, naming the refused connection.
      expect(result.warnings).toEqual([expect.stringMatching(/ECONNREFUSED/)])
    })
  }
})
