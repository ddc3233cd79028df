/**
 * The integration in real `astro build`s of a small site (test/fixtures/site).
 * Each build runs in this process, on a memory cache the test keeps. The
 * tests go on from one another's builds (the cache and the sources carry
 * over), and no state of the site is built twice just to look at it again:
 * the first three builds serve the first test and the last one.
 */
import { appendFileSync } from "node:fs"
import { join } from "node:path"
import { createMemoryCache, Key } from "@sitecache/core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { MARKDOWN_STEP, shapeProblem } from "../src/index.js"
import { type Built, createSite } from "./site.js"

const DOCUMENTS = ["src/content/guides/gamma.mdx", "src/pages/alpha.md", "src/pages/beta.mdx"]

describe("sitecache() in astro build", () => {
  const site = createSite()
  const elsewhere = createSite()
  afterAll(() => {
    site.remove()
    elsewhere.remove()
  })
  const cache = createMemoryCache()
  let off: Built
  let cold: Built
  let warm: Built
  /** What `shapeProblem` said of Astro's markdown plugin in the warm build. */
  let markdownShape: string | undefined = "not found"
  /** The build of the sources edited in the third test, with the default options. */
  let edited: Built

  beforeAll(async () => {
    off = await site.build({ cache, env: { SITECACHE: "off" } })
    cold = await site.build({ cache })
    // A plugin that only looks (no option of the key): the warm build is the build of the last test too.
    const inspect = {
      name: "test:inspect",
      configResolved(config: { plugins: Record<string, unknown>[] }) {
        const markdown = config.plugins.find((plugin) => plugin.name === "astro:markdown")
        markdownShape = markdown === undefined ? "not found" : shapeProblem(markdown, MARKDOWN_STEP)
      },
    }
    warm = await site.build({ cache, vitePlugins: [inspect] })
  })

  it("renders cold, restores warm with the same pages, and is off with SITECACHE=off", () => {
    expect(off.report).toMatchObject({ enabled: false, hits: 0, misses: 0 })
    expect(off.report.stepMs).toBeGreaterThan(0)
    expect(cold.report).toMatchObject({ enabled: true, hits: 0, misses: 3, unwrapped: [] })
    expect(warm.report).toMatchObject({ enabled: true, hits: 3, misses: 0, unwrapped: [], rejected: 0 })
    expect([...warm.report.stats!.documentRecords.keys()].sort()).toEqual(DOCUMENTS)
    expect(warm.report.stats!.uncacheable.size).toBe(0)
    expect(warm.report.savedMs).toBeGreaterThan(0)
    expect(cold.files).toEqual(off.files)
    expect(warm.files).toEqual(off.files)
    expect(warm.files.size).toBe(4)
    expect([...off.warnings, ...cold.warnings, ...warm.warnings]).toEqual([])
  })

  it("restores the entries of another checkout, with this checkout's paths", async () => {
    const moved = await elsewhere.build({ cache })
    expect(moved.report).toMatchObject({ hits: 3, misses: 0 })
    const fresh = await elsewhere.build({ cache: createMemoryCache() })
    expect(fresh.report).toMatchObject({ hits: 0, misses: 3 })
    expect(moved.files).toEqual(fresh.files)
  })

  it("renders again only the page that changed, and every page when a markdown option changes", async () => {
    appendFileSync(join(site.root, "src/pages/alpha.md"), "\nOne more paragraph.\n")
    edited = await site.build({ cache })
    expect(edited.report).toMatchObject({ hits: 2, misses: 1 })
    expect(edited.report.stats!.documentRecords.get("src/pages/alpha.md")?.hit).toBe(false)
    const smartypants = await site.build({ cache, markdown: { smartypants: false } })
    expect(smartypants.report).toMatchObject({ hits: 0, misses: 3 })
  })

  it("takes a forged entry for a miss, with one warning, renders the page and replaces the entry", async () => {
    // The last build of these sources and options: every entry it used is in the cache.
    const before = edited
    const record = before.report.stats!.documentRecords.get("src/pages/beta.mdx")!
    const key = Key.fromHex(record.key)
    await cache.delete(key)
    await cache.put(key, { value: { code: "export default 1", meta: { astro: { __proto__: null, x: 1 } }, extra: true }, ms: 1 })
    const forged = await site.build({ cache })
    expect(forged.report).toMatchObject({ hits: 2, misses: 1, rejected: 1 })
    expect(forged.warnings.join("\n")).toMatch(/an entry with `extra`/)
    expect(forged.files).toEqual(before.files)
    const after = await site.build({ cache })
    expect(after.report).toMatchObject({ hits: 3, misses: 0, rejected: 0 })
  })

  it("creates no markdown or MDX processor and highlights nothing when every document is a hit", async () => {
    // Astro's markdown plugin and MDX's create their unified processor (which runs every remark plugin's
    // attacher) at their first file, and Shiki's highlighter at the first tree they highlight: a build whose
    // every document is a hit must do neither. What these counters see is what ran, not how long it took.
    const seen = { attached: 0, documents: 0, highlighted: 0 }
    const remarkCount = () => {
      seen.attached++
      return () => {
        seen.documents++
      }
    }
    const countHighlights = {
      name: "test:count-highlights",
      preprocess() {
        seen.highlighted++
      },
    }
    const markdown = { remarkPlugins: [remarkCount], shikiConfig: { transformers: [countHighlights] } }
    const build = async (options: Parameters<typeof site.build>[0]) => {
      seen.attached = seen.documents = seen.highlighted = 0
      const built = await site.build({ cache, markdown, ...options })
      return { built, seen: { ...seen } }
    }
    const off = await build({ env: { SITECACHE: "off" } })
    // One markdown processor, one MDX processor (pages and the collection entry share the SSR build's).
    expect(off.seen).toEqual({ attached: 2, documents: 3, highlighted: 2 })
    const cold = await build({})
    expect(cold.built.report).toMatchObject({ hits: 0, misses: 3 })
    expect(cold.seen).toEqual(off.seen)
    const warm = await build({})
    expect(warm.built.report).toMatchObject({ hits: 3, misses: 0 })
    expect(warm.seen).toEqual({ attached: 0, documents: 0, highlighted: 0 })
    expect(warm.built.files).toEqual(off.built.files)
    // An edit renders its page alone: only the markdown processor is created, for that one file.
    appendFileSync(join(site.root, "src/pages/alpha.md"), "\nA paragraph the processor test added.\n")
    const edited = await build({})
    expect(edited.built.report).toMatchObject({ hits: 2, misses: 1 })
    expect(edited.seen).toEqual({ attached: 1, documents: 1, highlighted: 1 })
  })

  it("does not cache a step whose plugins it cannot see, and names why", async () => {
    // A bound function's source says nothing of what it calls: no key could tell two of them apart.
    const remarkNothing = function (this: unknown) {
      return () => {}
    }.bind(null)
    const first = await site.build({ cache, markdown: { remarkPlugins: [remarkNothing] } })
    const second = await site.build({ cache, markdown: { remarkPlugins: [remarkNothing] } })
    for (const built of [first, second]) {
      expect(built.report).toMatchObject({ hits: 0, misses: 3 })
      const reasons = [...built.report.stats!.uncacheable.keys()]
      expect(reasons.length).toBe(2)
      for (const reason of reasons) expect(reason).toMatch(/^(astro:markdown load|@astrojs\/mdx transform): .*bound function/)
    }
    expect(second.files).toEqual(first.files)
  })

  it("leaves a plugin of an unknown shape alone, with one warning, and the build goes on", async () => {
    // What a release of Astro that gave the markdown plugin's `load` hook options would look like.
    const reshape = {
      name: "test:reshape-astro-markdown",
      enforce: "pre",
      configResolved(config: { plugins: Record<string, unknown>[] }) {
        const markdown = config.plugins.find((plugin) => plugin.name === "astro:markdown")
        if (markdown !== undefined && typeof markdown.load === "function")
          markdown.load = { order: "pre", handler: markdown.load }
      },
    }
    const built = await site.build({ cache, vitePlugins: [reshape] })
    expect(built.report.unwrapped).toEqual([MARKDOWN_STEP.label])
    expect([...built.report.stats!.documentRecords.keys()].sort()).toEqual(DOCUMENTS.filter((d) => d.endsWith(".mdx")))
    expect(built.warnings).toEqual([
      "astro:markdown load is not cached: Astro's plugin astro:markdown is not of the shape this integration knows (its `load` hook has options (order, handler))",
    ])
    expect(built.files.get("alpha/index.html")).toBeDefined()
  })

  it("knows the shape of the installed Astro's markdown plugin", () => {
    // Seen in the warm build (beforeAll).
    expect(markdownShape).toBeUndefined()
  })
})
