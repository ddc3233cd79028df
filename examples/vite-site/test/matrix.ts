/**
 * The Vite matrix of `@sitecache/vite` (issue 17 §2), run once per Vite
 * major by `vite7.test.ts` here and `examples/vite8-site/test/vite8.test.ts`:
 * real `build()`s of a copy of this site (MDX and markdown pages compiled by
 * `@mdx-js/rollup` with remark-frontmatter, remark-mdx-frontmatter,
 * remark-gfm, rehype-slug and rehype-highlight; a local plugin inlining
 * partials with `this.addWatchFile`; a component the pages import), built
 * uncached, cold, warm, after an edit of one page, of one imported component
 * and of one partial. After each step, `dist/` must be byte-identical to an
 * uncached build of the same sources. Nothing in `dist/` holds a time.
 */
import { createHash } from "node:crypto"
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { type Cache, createMemoryCache, describeDocument } from "@sitecache/core"
import type { TransformCacheReport } from "@sitecache/vite"
import type { InlineConfig } from "vite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { exampleRoot, type SiteOptions, siteConfig } from "../src/site.js"

/** The Vite under test: its `build` and `version`. */
export interface ViteUnderTest {
  readonly build: (config: InlineConfig) => Promise<unknown>
  readonly version: string
}

const pages = ["changelog.md", "configuration.mdx", "faq.mdx", "getting-started.md", "index.mdx", "internals.md"]
const plugins = ["@mdx-js/rollup", "example-include-partials"]
const documentsOf = (page: string) => plugins.map((plugin) => `content/${page} (${plugin})`)

export function describeViteMatrix(vite: ViteUnderTest): void {
  describe(`@sitecache/vite on real builds of examples/vite-site with Vite ${vite.version}`, () => {
    const root = mkdtempSync(join(tmpdir(), "sitecache-vite-"))
    for (const item of ["index.html", "src", "content"]) cpSync(join(exampleRoot, item), join(root, item), { recursive: true })
    const cache: Cache = createMemoryCache()
    let builds = 0

    async function buildSite(options: SiteOptions = {}, outDir = "dist"): Promise<TransformCacheReport | undefined> {
      let report: TransformCacheReport | undefined
      const config = siteConfig({
        root,
        cache,
        logLevel: "silent",
        onBuildEnd: (r) => {
          report = r
        },
        ...options,
      })
      await vite.build({ ...config, build: { ...config.build, outDir } })
      return report
    }

    function files(outDir = "dist"): Map<string, string> {
      const hashes = new Map<string, string>()
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name)
          if (entry.isDirectory()) walk(path)
          else hashes.set(relative(join(root, outDir), path), createHash("sha256").update(readFileSync(path)).digest("hex"))
        }
      }
      walk(join(root, outDir))
      return hashes
    }

    /** Build cached into `dist/` and uncached into another directory; both trees, which must be equal. */
    async function buildBoth(options: SiteOptions = {}) {
      const uncachedDir = `dist-uncached-${++builds}`
      await buildSite({ ...options, cached: false }, uncachedDir)
      const report = await buildSite(options)
      return { report, cached: files(), uncached: files(uncachedDir) }
    }

    const missed = (report: TransformCacheReport | undefined) =>
      [...(report?.stats.documentRecords.values() ?? [])]
        .filter((record) => !record.hit)
        .map(describeDocument)
        .sort()

    function edit(path: string, change: (text: string) => string): void {
      const before = readFileSync(join(root, path), "utf8")
      const after = change(before)
      expect(after).not.toBe(before)
      writeFileSync(join(root, path), after)
    }

    const page = (tree: Map<string, string>, prefix: string) =>
      readFileSync(join(root, "dist", [...tree.keys()].find((file) => file.startsWith(prefix)) as string), "utf8")

    let cold: TransformCacheReport | undefined
    let warm: TransformCacheReport | undefined
    let uncachedFiles: Map<string, string>
    let coldFiles: Map<string, string>
    let warmFiles: Map<string, string>
    beforeAll(async () => {
      await buildSite({ cached: false }, "dist-uncached")
      uncachedFiles = files("dist-uncached")
      cold = await buildSite()
      coldFiles = files()
      warm = await buildSite()
      warmFiles = files()
    })
    afterAll(() => rmSync(root, { recursive: true, force: true }))

    it("misses every page's transforms cold, and hits all of them warm", () => {
      expect(cold?.misses).toBe(pages.length * plugins.length)
      expect(cold?.hits).toBe(0)
      expect(cold?.uncacheable).toEqual({})
      expect(warm?.hits).toBe(pages.length * plugins.length)
      expect(warm?.misses).toBe(0)
      expect(warm?.savedMs).toBeGreaterThan(0)
      expect(warm?.line).toMatch(/^sitecache: 12 documents, 12 hits, 0 misses, 100\.0% hit rate/)
    })

    it("emits a dist/ byte-identical to the uncached build, cold and warm", () => {
      expect([...uncachedFiles.keys()].filter((file) => file.startsWith("assets/faq-"))).toHaveLength(1)
      expect(coldFiles).toEqual(uncachedFiles)
      expect(warmFiles).toEqual(uncachedFiles)
      const faq = page(warmFiles, "assets/faq-")
      expect(faq).toContain("updated") // the imported component's use
      expect(faq).toMatch(/title:\s*["`]Questions["`]/) // remark-mdx-frontmatter's export (Rolldown minifies to a template literal)
    })

    it("after an edit of one page: misses exactly that page, and dist/ is as uncached", async () => {
      edit("content/faq.mdx", (text) => text.replace("What is never cached?", "What is not cached?"))
      const { report, cached, uncached } = await buildBoth()
      expect(missed(report)).toEqual(documentsOf("faq.mdx"))
      expect(cached).toEqual(uncached)
      expect(cached).not.toEqual(warmFiles)
    })

    it("after an edit of an imported component: hits every page, and dist/ is as uncached", async () => {
      edit("src/components/badge.js", (text) => text.replace("badge badge-", "pill pill-"))
      const { report, cached, uncached } = await buildBoth()
      expect(missed(report)).toEqual([])
      expect(report?.hits).toBe(pages.length * plugins.length)
      expect(cached).toEqual(uncached)
      expect(page(cached, "assets/faq-") + page(cached, "assets/index-")).toContain("pill pill-")
    })

    it("after an edit of a partial (a watched file): misses exactly the pages that include it, and dist/ is as uncached", async () => {
      edit("content/_partials/note.md", (text) => text.replace("only the pages", "just the pages"))
      const { report, cached, uncached } = await buildBoth()
      expect(missed(report)).toEqual(["configuration.mdx", "faq.mdx", "index.mdx"].flatMap(documentsOf).sort())
      expect(cached).toEqual(uncached)
      expect(page(cached, "assets/faq-")).toContain("just the pages")
    })

    it("misses everything when a plugin option changes, and dist/ is as uncached", async () => {
      const { report, cached, uncached } = await buildBoth({ highlight: { prefix: "hl-" } })
      expect(report?.hits).toBe(0)
      expect(report?.misses).toBe(pages.length * plugins.length)
      expect(cached).toEqual(uncached)
    })

    it("neither reads nor writes with SITECACHE=off", async () => {
      const fresh = createMemoryCache()
      const off = await buildSite({ cache: fresh, env: { SITECACHE: "off" } }, "dist-off")
      expect(off?.enabled).toBe(false)
      const info = await fresh.inspect()
      expect([info.hits, info.misses, info.puts, info.entryCount]).toEqual([0, 0, 0, 0])
      // Nor does it open the backend it is configured with (SQLite, under node_modules/.cache/sitecache).
      const config = siteConfig({ root, logLevel: "silent", env: { SITECACHE: "off" } })
      await vite.build({ ...config, build: { ...config.build, outDir: "dist-off" } })
      expect(existsSync(join(root, "node_modules/.cache/sitecache"))).toBe(false)
    })
  })
}
