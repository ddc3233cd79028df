import { execFileSync } from "node:child_process"
import { mkdir, mkdtemp, readFile, rename, rm, utimes, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  BuildStats,
  buildRecords,
  contentHash,
  createMemoryCache,
  createNullCache,
  FileHasher,
  finishBuild,
  key,
  manifestDigestKey,
  manifestKey,
  memo,
  memoize,
  readManifest,
  readRuns,
} from "../src/index.js"

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sitecache-memo-"))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe("memo", () => {
  it("computes once, then serves the stored value", async () => {
    const cache = createMemoryCache()
    let runs = 0
    const render = async () => {
      runs++
      return `<p>${runs}</p>`
    }
    expect(await memo(cache, ["doc", "source"], render)).toBe("<p>1</p>")
    expect(await memo(cache, ["doc", "source"], render)).toBe("<p>1</p>")
    expect(await memo(cache, ["doc", "changed"], render)).toBe("<p>2</p>")
    expect(runs).toBe(2)
  })

  it("runs compute once for concurrent calls with one key (single flight)", async () => {
    const cache = createMemoryCache()
    let runs = 0
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const compute = async () => {
      runs++
      await gate
      return { html: "x" }
    }
    const calls = Array.from({ length: 10 }, () => memo(cache, ["same"], compute))
    release()
    const results = await Promise.all(calls)
    expect(runs).toBe(1)
    expect(results.every((r) => r.html === "x")).toBe(true)
  })

  it("a changed dependency is a miss; the new result replaces the entry", async () => {
    const cache = createMemoryCache()
    const files = new FileHasher({ root })
    const partial = join(root, "footer.md")
    await writeFile(partial, "footer v1")
    let runs = 0
    const compute = async (ctx: { dependOn(path: string): void }) => {
      ctx.dependOn(partial)
      return ++runs
    }
    expect(await memo(cache, ["page"], compute, { files })).toBe(1)
    expect(await memo(cache, ["page"], compute, { files })).toBe(1)
    await writeFile(partial, "footer v2, longer")
    files.invalidate(partial)
    const result = await memoize(cache, ["page"], compute, { files })
    expect(result).toMatchObject({ value: 2, hit: false, deps: ["footer.md"] })
    expect(await memo(cache, ["page"], compute, { files })).toBe(2)
    await rm(partial)
    files.refresh()
    expect(await memo(cache, ["page"], compute, { files })).toBe(3)
  })

  it("without `files`, a dependency changed on disk is a miss in the same process (the README's example)", async () => {
    const cache = createMemoryCache()
    const footer = join(root, "_includes", "footer.md")
    await mkdir(dirname(footer), { recursive: true })
    await writeFile(footer, "footer v1")
    let renders = 0
    const render = () =>
      memo(cache, { path: "index.md", content: "# Home" }, async (ctx) => {
        ctx.dependOn(footer)
        renders++
        return `<h1>Home</h1>${await readFile(footer, "utf8").catch(() => "")}`
      })
    expect(await render()).toBe("<h1>Home</h1>footer v1")
    expect(await render()).toBe("<h1>Home</h1>footer v1")
    expect(renders).toBe(1)
    // Same size, within the same tick of the file clock: only the content tells.
    await writeFile(footer, "footer v2")
    expect(await render()).toBe("<h1>Home</h1>footer v2")
    expect(renders).toBe(2)
    await rm(footer)
    expect(await render()).toBe("<h1>Home</h1>")
    expect(renders).toBe(3)
    await writeFile(footer, "footer v3")
    expect(await render()).toBe("<h1>Home</h1>footer v3")
    expect(renders).toBe(4)
  })

  it("the file hasher re-reads a file only when it may have changed, and normalizes line endings", async () => {
    const files = new FileHasher({ root })
    expect(files.recheck).toBe("every-lookup")
    const path = join(root, "a.md")
    await writeFile(path, "a\r\nb")
    const first = await files.hash("a.md")
    expect(first).toBe(await new FileHasher({ root }).hash(path))
    expect(files.relative(path)).toBe("a.md")
    expect(await files.hash("missing.md")).toBeNull()
    // Same size, same tick: read again, since a file this fresh cannot be told apart by its times.
    await writeFile(path, "c\r\nd")
    const second = await files.hash("a.md")
    expect(second).not.toBe(first)
    // Replaced by a rename (another inode) with an old mtime: a stat tells.
    const other = join(root, "b.md")
    await writeFile(other, "e\r\nf")
    const old = new Date(Date.now() - 60_000)
    await utimes(other, old, old)
    await rename(other, path)
    const third = await files.hash("a.md")
    expect(third).toBe(contentHash("e\nf"))
    // Settled (its times are a minute old), then rewritten with another size: a stat tells.
    await utimes(path, old, old)
    expect(await files.hash("a.md")).toBe(third)
    await writeFile(path, "g")
    expect(await files.hash("a.md")).toBe(contentHash("g"))
  })

  it('`recheck: "per-build"` serves a file from memory until `refresh()` or `invalidate(path)`', async () => {
    const files = new FileHasher({ root, recheck: "per-build" })
    const path = join(root, "a.md")
    await writeFile(path, "a\r\nb")
    const first = await files.hash("a.md")
    await writeFile(path, "a\nb, longer")
    expect(await files.hash("a.md")).toBe(first) // served from memory until refresh
    files.refresh()
    expect(await files.hash("a.md")).toBe(contentHash("a\nb, longer"))
    await writeFile(path, "c\nd")
    await utimes(path, new Date(0), new Date(0))
    files.invalidate(path)
    expect(await files.hash(path)).toBe(contentHash("c\nd"))
    expect(() => new FileHasher({ recheck: "sometimes" as never })).toThrow(/bad option `recheck`/)
  })

  it("`knownHash` answers without a read only what `hash` would serve without one", async () => {
    const files = new FileHasher({ root, recheck: "per-build" })
    const path = join(root, "layout.html")
    await writeFile(path, "v1")
    expect(files.knownHash("layout.html")).toBeUndefined() // never read
    const first = await files.hash("layout.html")
    expect(files.knownHash("layout.html")).toBe(first)
    expect(files.knownHash(path)).toBe(first) // absolute or relative, one file
    await writeFile(path, "v2, longer")
    files.refresh()
    expect(files.knownHash("layout.html")).toBeUndefined() // a new build checks it again
    expect(await files.hash("layout.html")).toBe(contentHash("v2, longer"))
    files.invalidate(path)
    expect(files.knownHash(path)).toBeUndefined()
    expect(await files.hash("missing.html")).toBeNull()
    expect(files.knownHash("missing.html")).toBeNull()
    // Checked at every lookup: a file this fresh cannot be told apart by a stat, so `hash` would read it again.
    const everyLookup = new FileHasher({ root })
    await everyLookup.hash(path)
    expect(everyLookup.knownHash(path)).toBeUndefined()
  })

  it("a hit whose dependencies the hasher knows is checked without reading them, and a changed one still misses", async () => {
    const files = new FileHasher({ root, recheck: "per-build" })
    const partial = join(root, "footer.html")
    await writeFile(partial, "footer v1")
    const cache = createMemoryCache()
    let renders = 0
    const render = (path: string) =>
      memoize(
        cache,
        [path],
        (context) => {
          renders++
          context.dependOn(partial)
          return `${path}+footer`
        },
        { files },
      )
    await render("a.md")
    await render("b.md")
    expect((await render("a.md")).hit).toBe(true)
    expect(renders).toBe(2)
    await writeFile(partial, "footer v2, longer")
    files.refresh()
    expect((await render("a.md")).hit).toBe(false) // looked at again after refresh: changed
    expect((await render("b.md")).hit).toBe(false) // now known, and known to differ
    expect(renders).toBe(4)
  })

  it("a dependency that is not a regular file is never read: a directory or a pipe is an error, and a forged one a miss", async () => {
    const files = new FileHasher({ root })
    await mkdir(join(root, "dir"))
    await expect(files.hash("dir")).rejects.toThrow(/not a regular file/)
    const fifo = join(root, "pipe")
    execFileSync("mkfifo", [fifo])
    // Opening a named pipe for reading would wait for a writer forever; reading /dev/zero would never end.
    await expect(files.hash(fifo)).rejects.toThrow(/not a regular file/)
    await expect(files.hash("/dev/zero")).rejects.toThrow(/not a regular file/)
    // The same paths as a stored entry's dependencies: a miss, and compute runs.
    const cache = createMemoryCache()
    const parts = ["page"]
    await cache.put(key(...parts), { value: "forged", ms: 1, deps: { [fifo]: "0", "/dev/zero": null } })
    expect(await memoize(cache, parts, () => "rendered", { files })).toMatchObject({ value: "rendered", hit: false })
  })

  it("a stored entry of the wrong shape is a counted miss with one warning, and the result replaces it", async () => {
    const forged: unknown[] = [
      "a string",
      [1, 2],
      { ms: 1 },
      { value: "x", ms: "a lot" },
      { value: "x", ms: -1 },
      { value: "x", ms: 1, deps: ["index.md"] },
      { value: "x", ms: 1, deps: { "index.md": 42 } },
      { value: "x", ms: 1, deps: { "": null } },
      new Map([["value", "x"]]),
    ]
    for (const [i, entry] of forged.entries()) {
      const cache = createMemoryCache()
      const warnings: string[] = []
      const stats = new BuildStats()
      const parts = { document: `d${i}` }
      await cache.put(key({ document: key(`d${i}`) }), entry)
      const result = await memoize(cache, parts, () => "rendered", { stats, onWarning: (message) => warnings.push(message) })
      expect(result, String(i)).toMatchObject({ value: "rendered", hit: false })
      expect(stats.misses, String(i)).toBe(1)
      expect(warnings, String(i)).toEqual([expect.stringMatching(/an entry cannot be used \(.*\); it reads as a miss/)])
      expect(await memoize(cache, parts, () => "again", { stats }), String(i)).toMatchObject({ value: "rendered", hit: true })
      expect(stats.savedMs, String(i)).toBeTypeOf("number")
    }
  })

  it("`validate` refuses a stored value an adapter cannot restore: a miss, replaced", async () => {
    const cache = createMemoryCache()
    await memo(cache, ["v"], () => ({ html: "<p>1</p>" }))
    await cache.delete(key("v"))
    await cache.put(key("v"), { value: { html: 42 }, ms: 1 })
    const validate = (value: unknown) =>
      typeof (value as { html?: unknown }).html === "string" ? undefined : "`html` is not a string"
    const warnings: string[] = []
    const onWarning = (message: string) => warnings.push(message)
    const result = await memoize(cache, ["v"], () => ({ html: "<p>2</p>" }), { validate, onWarning })
    expect(result).toMatchObject({ hit: false, value: { html: "<p>2</p>" } })
    expect(warnings).toEqual([expect.stringContaining("`html` is not a string")])
    expect(await memoize(cache, ["v"], () => ({ html: "never" }), { validate })).toMatchObject({ hit: true })
  })

  it("a result the cache refuses to store is returned and counted as uncacheable, never thrown", async () => {
    const cache = createMemoryCache()
    const stats = new BuildStats()
    const value = JSON.parse('{"data": {"__proto__": {"polluted": true}}}') as unknown
    const result = await memoize(cache, ["proto"], () => value, { stats })
    expect(result.value).toBe(value)
    expect(result.uncacheable?.reason).toMatch(/own `__proto__` key/)
    expect(stats.summary()).toMatch(/1 uncacheable/)
    expect(await cache.has(key("proto"))).toBe(false)
  })

  it("uncacheable results are returned but not stored, and counted", async () => {
    const cache = createMemoryCache()
    const stats = new BuildStats()
    const result = await memoize(
      cache,
      ["emits"],
      (ctx) => {
        ctx.uncacheable("emitFile")
        return 1
      },
      { stats },
    )
    expect(result).toMatchObject({ value: 1, uncacheable: { reason: "emitFile" } })
    expect(await cache.has(key("emits"))).toBe(false)
    expect(stats.summary()).toMatch(/1 uncacheable \(emitFile: 1\)/)
  })

  it("runs a step declared uncacheable every time: no lookup, no entry, no sharing, the reason counted and recorded", async () => {
    const cache = createMemoryCache()
    const stats = new BuildStats()
    const uncacheable = { step: "plugin rehype-foo@1.0.0", reason: "option `highlighter` is a bound function" }
    // An entry under the same key, as an earlier build with a sound fingerprint could have left: never served.
    await memoize(cache, ["doc"], () => "stale")
    let runs = 0
    const compute = async () => {
      runs++
      await new Promise((resolve) => setTimeout(resolve, 5))
      return "fresh"
    }
    const [a, b] = await Promise.all([
      memoize(cache, ["doc"], compute, { stats, uncacheable, document: "a.md" }),
      memoize(cache, ["doc"], compute, { stats, uncacheable, document: "b.md" }),
    ])
    expect(runs).toBe(2)
    expect(a).toMatchObject({ value: "fresh", hit: false, uncacheable })
    expect(b.value).toBe("fresh")
    expect(await cache.get(a.key)).toMatchObject({ value: "stale" })
    expect(stats.misses).toBe(2)
    expect(stats.summary()).toContain("2 uncacheable (plugin rehype-foo@1.0.0: option `highlighter` is a bound function: 2)")
    expect(stats.documentRecords.get("a.md")?.uncacheable).toEqual(uncacheable)
  })

  it("saves what compute reports with took(ms), and refuses a bad figure", async () => {
    const cache = createMemoryCache()
    const cold = await memoize(cache, "took", (context) => {
      context.took(1234.5)
      return "value"
    })
    expect(cold.hit).toBe(false)
    const warm = await memoize(cache, "took", () => "never")
    expect(warm).toMatchObject({ hit: true, value: "value", savedMs: 1234.5 })
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, "5"]) {
      await expect(
        memoize(cache, ["bad", String(bad)], (context) => {
          context.took(bad as number)
          return 1
        }),
      ).rejects.toMatchObject({ code: "SITECACHE_BAD_OPTION", option: "took" })
    }
  })

  it("records stats, time saved, the manifest and the run history", async () => {
    const cache = createMemoryCache()
    const first = new BuildStats()
    const slow = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      return "html"
    }
    await memoize(cache, { content: "a", pipeline: "p1" }, slow, { stats: first, document: "a.md" })
    await memoize(cache, { content: "b", pipeline: "p1" }, slow, { stats: first, document: "b.md" })
    await finishBuild(cache, first, "test")
    const second = new BuildStats()
    const hit = await memoize(cache, { content: "a", pipeline: "p1" }, slow, { stats: second, document: "a.md" })
    expect(hit.hit).toBe(true)
    expect(hit.savedMs).toBeGreaterThan(0)
    await memoize(cache, { content: "b2", pipeline: "p1" }, slow, { stats: second, document: "b.md" })
    expect(second.summary({ label: "test" })).toMatch(/^test: 2 documents, 1 hits, 1 misses, 50\.0% hit rate/)
    const summary = await finishBuild(cache, second, "test")
    expect(summary).toMatchObject({ tool: "test", documents: 2, hits: 1, misses: 1 })
    const runs = await readRuns(cache, "test")
    expect(runs.map((run) => run.hits)).toEqual([0, 1])
    const manifest = await readManifest(cache, "test")
    expect(manifest?.documents["a.md"]).toMatchObject({ hit: true, key: hit.key.hex })
    expect(manifest?.documents["b.md"]?.parts?.content).toBe(key("b2").hex)
  })

  it("a build that missed nothing keeps the stored manifest, which then reads as that build's", async () => {
    const cache = createMemoryCache()
    const records = buildRecords(cache)
    const build = async (documents: Record<string, string>) => {
      const stats = new BuildStats()
      for (const [document, content] of Object.entries(documents))
        await memoize(cache, { content, pipeline: "p1" }, () => `html of ${content}`, { stats, document })
      return { stats, summary: await finishBuild(cache, stats, "test") }
    }
    const stored = () => records.get<{ startedAt: string }>(manifestKey("test"))
    const cold = await build({ "a.md": "a", "b.md": "b" })
    const written = (await stored())?.startedAt
    expect(written).toBe(cold.summary.startedAt)
    await new Promise((resolve) => setTimeout(resolve, 5))

    // Warm, same documents: the stored manifest is not written again, and reads as the warm build's.
    const warm = await build({ "b.md": "b", "a.md": "a" })
    expect(warm.summary.manifest).toBe(cold.summary.manifest)
    expect((await stored())?.startedAt).toBe(written)
    const read = await readManifest(cache, "test")
    expect(read?.startedAt).toBe(warm.summary.startedAt)
    expect(read?.startedAt).not.toBe(written)
    expect(Object.values(read?.documents ?? {}).map((record) => record.hit)).toEqual([true, true])
    expect(read?.previous).toBeUndefined()
    expect(read?.documents["a.md"]?.parts?.content).toBe(key("a").hex)

    // One miss: written again, with what the document was before.
    const edited = await build({ "a.md": "a2", "b.md": "b" })
    const afterEdit = await readManifest(cache, "test")
    expect(afterEdit?.startedAt).toBe(edited.summary.startedAt)
    expect(afterEdit?.documents["a.md"]).toMatchObject({ hit: false, key: edited.stats.documentRecords.get("a.md")?.key })
    expect(afterEdit?.documents["b.md"]?.hit).toBe(true)
    expect(afterEdit?.previous?.documents["a.md"]?.parts?.content).toBe(key("a").hex)

    // All hits, but one document fewer: a different set of documents, written again.
    const fewer = await build({ "b.md": "b" })
    expect(Object.keys((await readManifest(cache, "test"))?.documents ?? {})).toEqual(["b.md"])
    expect((await stored())?.startedAt).toBe(fewer.summary.startedAt)

    // The stored manifest gone (evicted, say) while its digest stays: written again.
    await records.delete(manifestKey("test"))
    const again = await build({ "b.md": "b" })
    expect((await stored())?.startedAt).toBe(again.summary.startedAt)
    // Its digest gone: written again too.
    await records.delete(manifestDigestKey("test"))
    const once = await build({ "b.md": "b" })
    expect((await stored())?.startedAt).toBe(once.summary.startedAt)
    expect((await readRuns(cache, "test")).map((run) => run.misses)).toEqual([2, 0, 1, 0, 0, 0])
  })

  it("works on the null cache: always computes", async () => {
    const cache = createNullCache()
    let runs = 0
    await memo(cache, ["x"], () => ++runs)
    await memo(cache, ["x"], () => ++runs)
    expect(runs).toBe(2)
  })
})

describe("memoize with named parts", () => {
  it("takes a `Key` part as its own hash", async () => {
    const cache = createMemoryCache()
    const fingerprint = key("pipeline", 1)
    const result = await memoize(cache, { content: "a", pipeline: fingerprint }, () => "x")
    expect(result.parts).toEqual({ content: key("a").hex, pipeline: fingerprint.hex })
  })
})
