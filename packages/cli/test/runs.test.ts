/** Build records (core runs.ts): what `inspect` and `explain` read. */
import { join } from "node:path"
import {
  BuildStats,
  buildRecords,
  createCache,
  createMemoryCache,
  derivePrefix,
  FileHasher,
  finishBuild,
  Key,
  MAX_RUNS,
  MemoryStore,
  manifestKey,
  memoize,
  RECORDS_KEY_PREFIX,
  readManifest,
  readRuns,
  readTools,
  StoreCache,
} from "@sitecache/core"
import { beforeEach, describe, expect, it } from "vitest"
import { describeChange, explainDocument } from "../src/explain.js"
import { build, sitecache, tempProject, writeFiles } from "./helpers.js"

let root: string
beforeEach(async () => {
  root = await tempProject()
})

const plugins = { "remark-parse": "11.0.0" }

describe("run history", () => {
  it("records time, documents, hits, misses, bytes written, errors and time saved per build", async () => {
    const cache = createMemoryCache()
    await build(cache, root, { documents: { "a.md": { content: "a" }, "b.md": { content: "b" } }, plugins, keyPrefix: "p" })
    await build(cache, root, { documents: { "a.md": { content: "a" }, "b.md": { content: "b" } }, plugins, keyPrefix: "p" })
    const runs = await readRuns(cache, "blog")
    expect(runs).toHaveLength(2)
    const [cold, warm] = runs as [(typeof runs)[0], (typeof runs)[0]]
    expect(cold).toMatchObject({ tool: "blog", documents: 2, hits: 0, misses: 2, errors: 0, keyPrefix: cache.keyPrefix.hex })
    expect(cold.bytesWritten).toBeGreaterThan(0)
    expect(Date.parse(cold.startedAt)).not.toBeNaN()
    expect(warm).toMatchObject({ documents: 2, hits: 2, misses: 0, bytesWritten: 0 })
    expect(warm.savedMs).toBeGreaterThanOrEqual(0)
  })

  it("keeps the last MAX_RUNS builds", async () => {
    const cache = createMemoryCache()
    for (let i = 0; i < MAX_RUNS + 3; i++) await finishBuild(cache, new BuildStats(), "blog")
    expect(await readRuns(cache, "blog")).toHaveLength(MAX_RUNS)
    expect(await readTools(cache)).toEqual(["blog"])
  })

  it("lists every tool once, in the order they first recorded a build", async () => {
    const cache = createMemoryCache()
    await finishBuild(cache, new BuildStats(), "vite")
    await finishBuild(cache, new BuildStats(), "blog")
    await finishBuild(cache, new BuildStats(), "vite")
    expect(await readTools(cache)).toEqual(["vite", "blog"])
  })

  it("lives under its own prefix, so it survives a change of the cache's key prefix", async () => {
    const store = new MemoryStore()
    const cache = new StoreCache(store)
    await build(cache, root, { documents: { "a.md": { content: "a" } }, plugins, keyPrefix: "adapter@1" })
    cache.setKeyPrefix("adapter@2")
    expect(await readRuns(cache, "blog")).toHaveLength(1)
    const records = derivePrefix(cache.codec, RECORDS_KEY_PREFIX)
    const prefixes = new Set<string>()
    for await (const { id } of store.entries()) prefixes.add(id.prefix.hex)
    expect(prefixes).toEqual(new Set([records.hex, derivePrefix(cache.codec, "adapter@1").hex]))
    // A second cache on the same store, with another prefix, reads the same records.
    expect(await readManifest(new StoreCache(store, { keyPrefix: "other" }), "blog")).toMatchObject({ tool: "blog" })
  })

  it("keeps a write-only build's history, and writes none from a read-only one", async () => {
    const store = new MemoryStore()
    await build(new StoreCache(store), root, { documents: { "a.md": { content: "a" } }, plugins, keyPrefix: "p" })
    await build(new StoreCache(store, { mode: "write-only" }), root, {
      documents: { "a.md": { content: "a" } },
      plugins,
      keyPrefix: "p",
    })
    await build(new StoreCache(store, { mode: "read-only" }), root, {
      documents: { "a.md": { content: "a" } },
      plugins,
      keyPrefix: "p",
    })
    expect((await readRuns(new StoreCache(store), "blog")).map((run) => run.misses)).toEqual([1, 1])
  })

  it("signs records with the cache's secret", async () => {
    const store = new MemoryStore()
    const secret = "a secret of at least thirty-two bytes!"
    const cache = new StoreCache(store, { secret })
    await finishBuild(cache, new BuildStats(), "blog")
    expect(await readRuns(cache, "blog")).toHaveLength(1)
    for await (const { bytes } of store.entries()) expect(cache.check(bytes)).toMatchObject({ ok: true })
    // Without the secret the records read as misses, never as trusted values.
    expect(await readRuns(new StoreCache(store, { onWarning: () => {} }), "blog")).toEqual([])
  })

  it("counts bytes written and errors per build when one cache serves several builds (watch mode)", async () => {
    const cache = createMemoryCache()
    const files = new FileHasher({ root })
    for (const content of ["one", "two"]) {
      const stats = new BuildStats()
      await memoize(cache, { content }, () => content.repeat(1000), { stats, files, document: "a.md" })
      await finishBuild(cache, stats, "blog")
    }
    const runs = await readRuns(cache, "blog")
    const written = runs.map((run) => run.bytesWritten ?? 0)
    expect(written[0]).toBeGreaterThan(3000)
    expect(written[1]).toBeGreaterThan(3000)
    expect(written[1]).toBeLessThan((written[0] ?? 0) * 2)
  })
})

describe("manifest and explain", () => {
  it("keeps the previous record of the documents that missed, and only those", async () => {
    const cache = createMemoryCache()
    await writeFiles(root, { "_includes/footer.md": "v1" })
    const documents = {
      "hit.md": { content: "same" },
      "content.md": { content: "before" },
      "partial.md": { content: "p", partials: ["_includes/footer.md"] },
    }
    await build(cache, root, { documents, plugins, keyPrefix: "p" })
    let manifest = await readManifest(cache, "blog")
    expect(manifest?.previous).toBeUndefined()
    expect(explainDocument(manifest!, "content.md")?.changes).toEqual([{ kind: "first-build" }])

    await writeFiles(root, { "_includes/footer.md": "v2" })
    await build(cache, root, {
      documents: { ...documents, "content.md": { content: "after" }, "new.md": { content: "new" } },
      plugins,
      keyPrefix: "p",
    })
    manifest = await readManifest(cache, "blog")
    expect(Object.keys(manifest?.previous?.documents ?? {}).sort()).toEqual(["content.md", "partial.md"])

    expect(explainDocument(manifest!, "hit.md")).toMatchObject({ hit: true, changes: [] })
    expect(explainDocument(manifest!, "new.md")?.changes).toEqual([{ kind: "new-document" }])
    const content = explainDocument(manifest!, "content.md")
    expect(content?.changes).toEqual([expect.objectContaining({ kind: "part", part: "content", change: "changed" })])
    const partial = explainDocument(manifest!, "partial.md")
    expect(partial?.key).toBe(partial?.previous?.key)
    expect(partial?.changes).toEqual([
      expect.objectContaining({ kind: "dependency", path: "_includes/footer.md", change: "changed" }),
    ])
    expect(describeChange(partial!.changes[0]!)).toMatch(/^dependency `_includes\/footer\.md` changed/)
    expect(explainDocument(manifest!, "missing.md")).toBeUndefined()
  })

  it("reads a manifest of an older format as no record (never an error), and replaces it", async () => {
    const cache = createMemoryCache()
    const older = [
      {
        tool: "blog",
        startedAt: "2025-01-01T00:00:00.000Z",
        documents: { "a.md": { key: "0".repeat(32), hit: false, parts: { content: "c0" } } },
      },
      {
        format: 2,
        tool: "blog",
        startedAt: "2025-01-01T00:00:00.000Z",
        strings: [],
        documents: [["a.md", "0".repeat(32), true, null, null]],
      },
    ]
    for (const stored of older) {
      await buildRecords(cache).delete(manifestKey("blog"))
      await buildRecords(cache).put(manifestKey("blog"), stored)
      expect(await readManifest(cache, "blog")).toBeUndefined()
    }
    await build(cache, root, { documents: { "a.md": { content: "a" } }, plugins, keyPrefix: "p" })
    const manifest = await readManifest(cache, "blog")
    expect(manifest?.documents["a.md"]).toMatchObject({ path: "a.md", hit: false })
    expect(manifest?.previous).toBeUndefined()
    expect(explainDocument(manifest!, "a.md")?.changes).toEqual([{ kind: "first-build" }])
  })

  it("keeps each record's path, step and variant as fields; `explain` takes a path with spaces", async () => {
    const dir = join(root, "build-cache")
    const documents = [
      { path: "content/my first post.md" },
      { path: "src/pages/a b.mdx", step: "vite:mdx load" },
      { path: "src/pages/a b.mdx", step: "vite:mdx load", variant: "ssr" },
    ]
    for (const round of [1, 2]) {
      const cache = await createCache({ backend: "fs", dir })
      const stats = new BuildStats()
      for (const document of documents) {
        const content = document.path === "content/my first post.md" ? `post ${round}` : "page"
        await memoize(cache, { content, step: document.step ?? null, variant: document.variant ?? null }, () => "html", {
          stats,
          document,
        })
      }
      await finishBuild(cache, stats, "blog")
      await cache.close()
    }
    const cache = await createCache({ backend: "fs", dir })
    const manifest = (await readManifest(cache, "blog"))!
    await cache.close()
    expect(Object.values(manifest.documents).map(({ path, step, variant }) => ({ path, step, variant }))).toEqual(
      documents.map((document) => ({ step: undefined, variant: undefined, ...document })),
    )
    const post = await sitecache(["explain", "content/my first post.md", "--cache-backend", "fs", "--cache-dir", "build-cache"], {
      cwd: root,
    })
    expect(post.stderr).toBe("")
    expect(post.stdout).toMatch(/^content\/my first post\.md: miss in the last blog build/)
    expect(post.stdout).toContain("- the content changed")
    const page = await sitecache(["explain", "a b.mdx", "--json", "--cache-backend", "fs", "--cache-dir", "build-cache"], {
      cwd: root,
    })
    expect(page.code).toBe(0)
    const { explanations } = page.json<{ explanations: { document: string; step?: string; variant?: string; hit: boolean }[] }>()
    expect(explanations.map(({ document, step, variant, hit }) => ({ document, step, variant, hit }))).toEqual([
      { document: "src/pages/a b.mdx", step: "vite:mdx load", variant: undefined, hit: true },
      { document: "src/pages/a b.mdx", step: "vite:mdx load", variant: "ssr", hit: true },
    ])
    const text = await sitecache(["explain", "src/pages/a b.mdx", "--cache-backend", "fs", "--cache-dir", "build-cache"], {
      cwd: root,
    })
    expect(text.stdout).toContain("src/pages/a b.mdx (vite:mdx load) [ssr]: hit in the last blog build")
  })

  it("names the plugin whose part changed, and a change of key prefix", async () => {
    const cache = createMemoryCache()
    const documents = { "a.md": { content: "a" } }
    await build(cache, root, { documents, plugins: { "remark-parse": "11.0.0", "remark-gfm": "4.0.0" }, keyPrefix: "p1" })
    await build(cache, root, { documents, plugins: { "remark-parse": "11.0.0", "remark-gfm": "4.0.1" }, keyPrefix: "p2" })
    const changes = explainDocument((await readManifest(cache, "blog"))!, "a.md")?.changes ?? []
    expect(changes.map((change) => change.kind)).toEqual(["key-prefix", "part"])
    expect(changes[1]).toMatchObject({ part: "plugin:remark-gfm", plugin: "remark-gfm", change: "changed" })
    expect(describeChange(changes[1]!)).toMatch(/^plugin `remark-gfm` changed \(its version, source or options\)/)
    expect(describeChange(changes[0]!)).toMatch(/^the key prefix changed/)
  })

  it("says which plugin made a document uncacheable, and why, in the manifest and in `sitecache explain`", async () => {
    const dir = join(root, "build-cache")
    const uncacheable = { step: "plugin rehype-foo@1.2.0", reason: "option `highlighter` is a bound function (bound h)" }
    for (let build = 0; build < 2; build++) {
      const cache = await createCache({ backend: "fs", dir })
      const stats = new BuildStats()
      const files = new FileHasher({ root })
      await memoize(cache, { content: "a" }, () => "<p>a</p>", { stats, files, document: "a.md", uncacheable })
      await memoize(cache, { content: "b" }, () => "<p>b</p>", { stats, files, document: "b.md" })
      await memoize(cache, { content: "c" }, () => "c", { stats, files, document: "c.md", uncacheable: { reason: "no step" } })
      await finishBuild(cache, stats, "blog")
      await cache.close()
    }
    const cache = await createCache({ backend: "fs", dir })
    const manifest = (await readManifest(cache, "blog"))!
    await cache.close()
    expect(manifest.documents["a.md"]?.uncacheable).toEqual(uncacheable)
    expect(manifest.documents["c.md"]?.uncacheable).toEqual({ reason: "no step" })
    expect(manifest.documents["b.md"]).toMatchObject({ hit: true })
    expect(manifest.documents["b.md"]?.uncacheable).toBeUndefined()
    const explanation = explainDocument(manifest, "a.md")
    expect(explanation?.changes).toEqual([{ kind: "uncacheable", ...uncacheable }])
    const cli = await sitecache(["explain", "a.md", "--cache-backend", "fs", "--cache-dir", "build-cache"], { cwd: root })
    expect(cli.code).toBe(0)
    expect(cli.stdout).toContain(
      "- it cannot be cached, so it is processed on every build: plugin rehype-foo@1.2.0: option `highlighter` is a bound function (bound h)\n",
    )
  })

  it("says when the key did not change but the entry was gone", async () => {
    const cache = createMemoryCache()
    const documents = { "a.md": { content: "a" } }
    await build(cache, root, { documents, plugins, keyPrefix: "p" })
    // Remove the entry but keep the records, as an eviction would.
    expect(await cache.delete(Key.fromHex((await readManifest(cache, "blog"))!.documents["a.md"]!.key))).toBe(true)
    await build(cache, root, { documents, plugins, keyPrefix: "p" })
    const explanation = explainDocument((await readManifest(cache, "blog"))!, "a.md")
    expect(explanation?.changes).toEqual([{ kind: "not-stored" }])
    expect(describeChange(explanation!.changes[0]!)).toMatch(/entry was not in the cache/)
  })
})
