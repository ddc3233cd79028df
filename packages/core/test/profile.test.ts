import { describe, expect, it } from "vitest"
import {
  BuildKey,
  BuildStats,
  buildRecords,
  createMemoryCache,
  finishBuild,
  hitProfile,
  key,
  memoize,
  readRuns,
  runsKey,
} from "../src/index.js"

describe("a build's profile of its hits", () => {
  it("times each hit's key, entry read and dependency check, and keeps the means per hit in the run summary", async () => {
    const cache = createMemoryCache()
    const build = new BuildKey({ pipeline: key("pipeline"), stage: "process" })
    const paths = ["a.md", "b.md", "c.md"]
    const cold = new BuildStats()
    for (const path of paths)
      await memoize(cache, { content: `# ${path}`, path, build }, () => `<h1>${path}</h1>`, { stats: cold, document: path })
    expect(hitProfile(cold)).toBeUndefined()
    expect((await finishBuild(cache, cold, "site")).profile).toBeUndefined()

    const warm = new BuildStats()
    for (const path of paths)
      await memoize(cache, { content: `# ${path}`, path, build }, () => "rendered", { stats: warm, document: path })
    warm.timing.restoreMs += 0.003
    const profile = hitProfile(warm)
    expect(profile).toMatchObject({ hits: 3, restoreUs: 1 })
    expect(profile?.readUs).toBeGreaterThan(0)
    expect(profile?.keyUs).toBeGreaterThan(0)
    const summary = await finishBuild(cache, warm, "site")
    expect(summary.profile).toEqual(profile)
    expect((await readRuns(cache, "site")).at(-1)?.profile).toEqual(profile)
  })

  it("reads a stored run whose profile is not one as no run (never an error)", async () => {
    const cache = createMemoryCache()
    const stats = new BuildStats()
    await memoize(cache, ["x"], () => 1, { stats })
    await memoize(cache, ["x"], () => 1, { stats })
    const summary = await finishBuild(cache, stats, "site")
    const records = buildRecords(cache)
    await records.delete(runsKey("site"))
    await records.put(runsKey("site"), [summary, { ...summary, profile: { hits: 1, keyUs: "fast" } }])
    expect(await readRuns(cache, "site")).toEqual([summary])
  })
})
