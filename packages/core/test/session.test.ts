import { existsSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  adapterIdentity,
  BadOptionError,
  BuildSession,
  type BuildSessionOptions,
  createCache,
  createMemoryCache,
  readManifest,
  readRuns,
} from "../src/index.js"

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sitecache-session-"))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

/** A session on an fs cache under `root`, printing into `lines`, with no environment or command line of the test runner's. */
function session(lines: string[], options: Partial<BuildSessionOptions> = {}): BuildSession {
  return new BuildSession({
    tool: "test",
    root,
    config: { backend: "fs" },
    env: {},
    argv: [],
    log: (line) => lines.push(line),
    ...options,
  })
}

async function render(session: BuildSession, sources: Record<string, string>): Promise<string[]> {
  const build = await session.start()
  const out: string[] = []
  for (const [path, source] of Object.entries(sources)) {
    out.push(await build.memo({ path, source }, () => `<p>${source}</p>`, { document: path }))
  }
  return out
}

describe("BuildSession", () => {
  it("refuses a missing tool name and a bad configuration when it is made, naming the option", () => {
    expect(() => new BuildSession({ tool: "" })).toThrow(BadOptionError)
    expect(() => new BuildSession({ tool: "x", config: { maxSzie: "1 GB" } as never, root })).toThrow(/maxSzie/)
    expect(() => new BuildSession({ tool: "x", log: "yes" as never, root })).toThrow(/`log`/)
  })

  it("opens the cache from its configuration, records each build, prints one line and closes what it opened", async () => {
    const lines: string[] = []
    const builds = session(lines)
    expect(await render(builds, { "a.md": "A", "b.md": "B" })).toEqual(["<p>A</p>", "<p>B</p>"])
    const cold = await builds.finish()
    expect(cold?.enabled).toBe(true)
    expect(cold?.stats.misses).toBe(2)
    expect(lines).toEqual([cold?.line])
    expect(cold?.line).toMatch(/^sitecache: 2 documents, 0 hits, 2 misses/)
    // Closed: a build after it opens the cache again and finds the entries.
    await render(builds, { "a.md": "A", "b.md": "changed" })
    const warm = await builds.finish()
    expect([warm?.stats.hits, warm?.stats.misses]).toEqual([1, 1])
    expect(warm?.run?.tool).toBe("test")
    const cache = await createCache({ backend: "fs", root })
    expect((await readRuns(cache, "test")).map((run) => run.misses)).toEqual([2, 1])
    await cache.close()
  })

  it("leaves a cache it was given open, and records its builds there", async () => {
    const cache = createMemoryCache()
    const builds = session([], { cache })
    await render(builds, { "a.md": "A" })
    await builds.finish()
    expect((await readRuns(cache, "test")).length).toBe(1)
    expect(Object.keys((await readManifest(cache, "test"))?.documents ?? {})).toEqual(["a.md"])
    await render(builds, { "a.md": "A" })
    expect((await builds.finish())?.stats.hits).toBe(1)
    await cache.close()
  })

  it.each([
    ["SITECACHE=off", { env: { SITECACHE: "off" } }],
    ["--no-cache", { argv: ["--no-cache"] }],
    ['mode: "off"', { config: { backend: "fs", mode: "off" } }],
  ] as const)("%s gives the null cache: nothing read or written, one line", async (_, options) => {
    const lines: string[] = []
    const builds = session(lines, options as Partial<BuildSessionOptions>)
    const build = await builds.start()
    expect(build.enabled).toBe(false)
    expect(await build.memo("x", () => 1)).toBe(1)
    expect(await build.memo("x", () => 2)).toBe(2)
    const report = await builds.finish()
    expect(report?.enabled).toBe(false)
    expect(report?.run).toBeUndefined()
    expect(lines).toEqual([report?.line])
    expect(report?.line).toMatch(/^sitecache: 2 documents, cache off \(nothing read or written\), [\d.]+ m?s$/)
    expect(existsSync(join(root, "node_modules"))).toBe(false)
    // A build that did nothing through the cache says only that it was off.
    await builds.start()
    expect((await builds.finish())?.line).toBe("sitecache: off (no cache read or written)")
  })

  it("abort ends a failed build without recording it, and closes what it opened", async () => {
    const builds = session([])
    await render(builds, { "a.md": "A" })
    await builds.abort()
    expect(builds.current).toBeUndefined()
    expect(await builds.finish()).toBeUndefined()
    const cache = await createCache({ backend: "fs", root })
    expect(await readRuns(cache, "test")).toEqual([])
    await cache.close()
  })

  it("lets overlapping starts share one build: the last finish records it", async () => {
    const cache = createMemoryCache()
    const builds = session([], { cache })
    const [a, b] = await Promise.all([builds.start(), builds.start()])
    expect(a).toBe(b)
    await a.memo("k", () => 1, { document: "a.md" })
    expect(await builds.finish()).toBeUndefined()
    expect(builds.current).toBe(a)
    const report = await builds.finish()
    expect(report?.stats.documents).toBe(1)
    expect(builds.current).toBeUndefined()
    expect(await builds.finish()).toBeUndefined()
    await cache.close()
  })

  it("routes warnings through `warn`, once per build for entries that are not valid results", async () => {
    const warnings: string[] = []
    const builds = session([], { cache: createMemoryCache(), warn: (line) => warnings.push(line) })
    const build = await builds.start()
    build.reject("a.md", "not a module")
    build.reject("b.md", "not a module")
    expect(build.rejected).toBe(2)
    expect(warnings).toEqual([
      "sitecache: ignored a cache entry of a.md that is not a valid result (not a module); it is rebuilt and replaced",
    ])
    expect((await builds.finish())?.rejected).toBe(2)
  })

  it("warms the faster tiers from the last build's manifest", async () => {
    const tiers = { backend: ["memory", "fs"] } as const
    const builds = session([], { config: tiers })
    await render(builds, { "a.md": "A", "b.md": "B" })
    expect((await builds.finish())?.prefetched).toBe(0)
    const build = await builds.start()
    expect(build.prefetched).toBe(2)
    expect(Object.keys(build.previous?.documents ?? {}).sort()).toEqual(["a.md", "b.md"])
    await builds.finish()
  })

  it("keeps the last manifest's other documents after an incremental build", async () => {
    const cache = createMemoryCache()
    const builds = session([], { cache })
    await render(builds, { "a.md": "A", "b.md": "B" })
    await builds.finish()
    await render(builds, { "b.md": "B2" })
    await builds.finish({ incremental: true })
    const manifest = await readManifest(cache, "test")
    expect(Object.keys(manifest?.documents ?? {}).sort()).toEqual(["a.md", "b.md"])
    // A document whose source is gone is not kept.
    await render(builds, { "b.md": "B3" })
    await builds.finish({ incremental: true, removed: ["a.md"] })
    expect(Object.keys((await readManifest(cache, "test"))?.documents ?? {})).toEqual(["b.md"])
    await cache.close()
  })

  it("prints the summary with the label, bytes and time it is given", async () => {
    const lines: string[] = []
    const builds = session(lines, { cache: createMemoryCache(), label: "blog" })
    await render(builds, { "a.md": "A" })
    await builds.finish({ bytes: 2048, elapsedMs: 1500 })
    expect(lines[0]).toMatch(/^blog: 1 documents, 0 hits, 1 misses, 0\.0% hit rate, 2\.0 KiB, 1\.50 s, saved/)
  })
})

describe("Build.memoizeSync (a preloaded, synchronous lookup)", () => {
  it("needs a session opened with `preload: true`", async () => {
    const builds = session([], { cache: createMemoryCache() })
    const build = await builds.start()
    expect(() => build.memoizeSync("k", () => 1)).toThrow(/preload/)
    await builds.finish()
  })

  it("serves the last build's entries synchronously, and writes its misses when the build finishes", async () => {
    const builds = session([], { preload: true })
    let renders = 0
    const renderAll = async () => {
      const build = await builds.start()
      const values = ["A", "B"].map(
        (source) =>
          build.memoizeSync(
            { source },
            () => {
              renders++
              return `<p>${source}</p>`
            },
            { document: `${source}.md` },
          ).value,
      )
      return { values, report: await builds.finish() }
    }
    const cold = await renderAll()
    expect(cold.values).toEqual(["<p>A</p>", "<p>B</p>"])
    expect([cold.report?.stats.misses, renders]).toEqual([2, 2])
    const warm = await renderAll()
    expect(warm.values).toEqual(["<p>A</p>", "<p>B</p>"])
    expect([warm.report?.stats.hits, warm.report?.preloaded, renders]).toEqual([2, 2, 2])
  })

  it("misses when a dependency changed, and replaces the entry", async () => {
    await writeFile(join(root, "partial.md"), "one")
    const builds = session([], { preload: true })
    const once = async () => {
      const build = await builds.start()
      const result = build.memoizeSync(
        "page",
        (ctx) => {
          ctx.dependOn("partial.md")
          return "html"
        },
        { document: "page.md" },
      )
      const report = await builds.finish()
      return { hit: result.hit, deps: report?.stats.documentRecords.get("page.md")?.deps }
    }
    const cold = await once()
    expect(cold.hit).toBe(false)
    expect(Object.keys(cold.deps ?? {})).toEqual(["partial.md"])
    expect((await once()).hit).toBe(true)
    await writeFile(join(root, "partial.md"), "two, longer")
    expect((await once()).hit).toBe(false)
    expect((await once()).hit).toBe(true)
  })

  it("treats a stored value `validate` refuses as a miss with one warning", async () => {
    const warnings: string[] = []
    const cache = createMemoryCache()
    const builds = session([], { cache, preload: true, warn: (line) => warnings.push(line) })
    let build = await builds.start()
    build.memoizeSync("k", () => 42, { document: "a.md" })
    await builds.finish()
    build = await builds.start()
    const result = build.memoizeSync("k", () => "string", {
      document: "a.md",
      validate: (value) => (typeof value === "string" ? undefined : "not a string"),
    })
    expect([result.hit, result.value]).toEqual([false, "string"])
    await builds.finish()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/not a string/)
    build = await builds.start()
    expect(build.memoizeSync("k", () => "again").value).toBe("string")
    await builds.finish()
    await cache.close()
  })

  it("counts a value the cache cannot store as uncacheable, and stores the others", async () => {
    const cache = createMemoryCache()
    const builds = session([], { cache, preload: true })
    let build = await builds.start()
    build.memoizeSync("fine", () => "ok", { document: "a.md" })
    build.memoizeSync("bad", () => () => "a function", { document: "b.md" })
    const report = await builds.finish()
    expect([...(report?.stats.uncacheable.values() ?? [])]).toEqual([1])
    build = await builds.start()
    expect(build.memoizeSync("fine", () => "recomputed").hit).toBe(true)
    await builds.finish()
    await cache.close()
  })

  it("carries what it served and wrote to the next build while the cache stays open (watch mode)", async () => {
    const builds = session([], { preload: true, keepOpen: true })
    let build = await builds.start()
    build.memoizeSync("k", () => 1, { document: "a.md" })
    await builds.finish()
    build = await builds.start()
    expect(build.preloaded).toBe(0)
    expect(build.memoizeSync("k", () => 2).value).toBe(1)
    await builds.finish()
    await builds.close()
  })
})

it("adapterIdentity reads a package's name and version", () => {
  const identity = adapterIdentity(new URL("../package.json", import.meta.url))
  expect(identity.name).toBe("@sitecache/core")
  expect(identity.id).toBe(`@sitecache/core@${identity.version}`)
  expect(() => adapterIdentity(join(root, "missing.json"))).toThrow()
})
