/** `inspect` shows how the cache stays bounded: its size limit, and what the sweeps of unused entries reclaimed. */
import { PassThrough } from "node:stream"
import { createCache, DEFAULT_MAX_IDLE, type SweepRecord } from "@sitecache/core"
import { beforeEach, describe, expect, it } from "vitest"
import { main } from "../src/main.js"
import { build, tempProject } from "./helpers.js"

async function run(argv: string[], cwd: string) {
  let stdout = ""
  let stderr = ""
  const out = new PassThrough().on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
  const err = new PassThrough().on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
  const stdin = Object.assign(new PassThrough(), { isTTY: false })
  const code = await main(argv, { stdout: out, stderr: err, stdin, env: {}, cwd })
  return { code, stdout, stderr }
}

let root: string
beforeEach(async () => {
  root = await tempProject()
})

const DAY = 86_400_000
const documents = { "index.md": { content: "# Home" }, "about.md": { content: "# About" } }

describe.each(["fs", "sqlite"] as const)("inspect on %s", (backend) => {
  it("shows the size limit, and what the sweep at the end of builds reclaimed", async () => {
    let now = Date.UTC(2030, 0, 1)
    const cache = await createCache({ backend, root }, { resolveFrom: import.meta.url, clock: () => now })
    try {
      await build(cache, root, { documents, plugins: { "remark-gfm": "4.0.0" }, keyPrefix: "" })
      now += DAY
      // A dependency bump: both documents get new keys.
      await build(cache, root, { documents, plugins: { "remark-gfm": "4.0.1" }, keyPrefix: "" })
      now += DEFAULT_MAX_IDLE
      await build(cache, root, { documents, plugins: { "remark-gfm": "4.0.1" }, keyPrefix: "" })
    } finally {
      await cache.close()
    }
    const json = await run(["inspect", "--json", "--cache-backend", backend], root)
    expect(json.code, json.stderr).toBe(0)
    const report = JSON.parse(json.stdout) as {
      limits: { maxSize: number; maxIdle: number; sweep: SweepRecord }
      tools: { runs: { swept?: { entries: number } }[] }[]
    }
    expect(report.limits).toMatchObject({
      maxSize: 1024 ** 3,
      maxIdle: DEFAULT_MAX_IDLE,
      sweep: { removedCount: 2, sweeps: 3, totalCount: 2, at: new Date(now).toISOString() },
    })
    expect(report.tools[0]?.runs.map((run) => run.swept?.entries)).toEqual([0, 0, 2])

    const text = await run(["inspect", "--cache-backend", backend], root)
    expect(text.stdout).toContain("size limit: 1.0 GiB (the default; `maxSize` sets another)")
    expect(text.stdout).toContain("unused entries: removed once unused for 7d (swept at the end of a build, at most once a day)")
    expect(text.stdout).toMatch(
      /\n {2}last sweep 2030-01-09 00:00:00 UTC: removed 2 entries, \d+ B; 3 sweeps since 2030-01-01 00:00:00 UTC: 2 entries, \d+ B\n/,
    )
  })
})
