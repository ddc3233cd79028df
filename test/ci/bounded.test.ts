/**
 * A CI cache restored and saved on every run stays bounded: twenty nightly
 * runs of the example blog with a dependency bump every fifth (every page
 * gets a new key). The entries of a pipeline nobody used for a week go, so
 * the saved cache levels off at two generations of keys (three for the week
 * after a bump), where it used to keep every generation: `pnpm bench
 * ci-cache` prints both series (docs/ci.md has the figures).
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import { main } from "@sitecache/cli"
import { describe, expect, it } from "vitest"
import { nightlyRuns } from "./simulate.js"

/** `sitecache inspect --json` in `cwd`. */
async function inspect(cwd: string): Promise<Record<string, unknown>> {
  let stdout = ""
  const out = new PassThrough().on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
  const stdin = Object.assign(new PassThrough(), { isTTY: false })
  const code = await main(["inspect", "--json"], { stdout: out, stderr: new PassThrough(), stdin, env: {}, cwd })
  expect(code).toBe(0)
  return JSON.parse(stdout) as Record<string, unknown>
}

describe("twenty nightly CI runs, a dependency bump every five", () => {
  it("the saved cache levels off: a generation of keys goes a week after its last use", async () => {
    let report: Record<string, unknown> = {}
    const { bytes, misses, swept } = await nightlyRuns({ backend: "sqlite" }, 20, 5, async (ci) => {
      const checkout = await mkdtemp(join(tmpdir(), "sitecache-ci-inspect-"))
      try {
        await ci.restore(checkout)
        report = await inspect(checkout)
      } finally {
        await rm(checkout, { recursive: true, force: true })
      }
    })
    // Cold at each bump, warm in between.
    misses.forEach((n, i) => {
      expect(n > 0, `run ${i}: ${n} misses`).toBe(i % 5 === 0)
    })
    // What one generation of keys adds: the first bump's run against the warm run before it (nothing swept yet).
    const first = bytes[4] as number
    const generation = (bytes[5] as number) - first
    expect(generation).toBeGreaterThan(0.5 * first)
    // The generations of runs 0-4 and 5-9 go a week after their last use (runs 12 and 17): never more than three
    // generations at once, two from then on, where every run used to keep them all (four at the end).
    expect(swept.map((n, i) => (n > 0 ? i : -1)).filter((i) => i >= 0)).toEqual([12, 17])
    expect(swept[12]).toBe(misses[0])
    expect(swept[17]).toBe(misses[0])
    expect(Math.max(...bytes)).toBeLessThanOrEqual(first + 2.1 * generation)
    expect(bytes[19]).toBeLessThanOrEqual(first + 1.1 * generation)
    // `sitecache inspect` on the saved cache shows what the sweeps reclaimed.
    expect(report).toMatchObject({
      backend: "sqlite",
      limits: { maxSize: 1024 ** 3, sweep: { sweeps: 20, totalCount: 2 * (misses[0] as number), removedCount: 0 } },
    })
  })
})
