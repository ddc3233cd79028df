/**
 * `cacheTransforms` on real Vite builds (`build()`) of a copy of
 * examples/vite-site: MDX pages compiled by @mdx-js/rollup with
 * rehype-highlight, and a local plugin that inlines partials.
 */
import { createHash } from "node:crypto"
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { type Cache, createMemoryCache } from "@sitecache/core"
import { build } from "vite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { exampleRoot, type SiteOptions, siteConfig } from "../../../examples/vite-site/src/site.js"
import type { TransformCacheReport } from "../src/index.js"

const pages = ["changelog.md", "configuration.mdx", "faq.mdx", "getting-started.md", "index.mdx", "internals.md"]
const plugins = ["@mdx-js/rollup", "example-include-partials"]
const documentsOf = (page: string) => plugins.map((plugin) => `content/${page} (${plugin})`)

describe("@sitecache/vite on a real Vite build of the example", () => {
  const root = mkdtempSync(join(tmpdir(), "sitecache-vite-"))
  for (const item of ["index.html", "src", "content"]) cpSync(join(exampleRoot, item), join(root, item), { recursive: true })
  const cache: Cache = createMemoryCache()

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
    await build({ ...config, build: { ...config.build, outDir } })
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

  const missed = (report: TransformCacheReport | undefined) =>
    [...(report?.stats.documentRecords ?? [])]
      .filter(([, record]) => !record.hit)
      .map(([document]) => document)
      .sort()

  function edit(path: string, change: (text: string) => string): void {
    writeFileSync(join(root, path), change(readFileSync(join(root, path), "utf8")))
  }

  let cold: TransformCacheReport | undefined
  let warm: TransformCacheReport | undefined
  let coldFiles: Map<string, string>
  beforeAll(async () => {
    await buildSite({ cached: false }, "dist-uncached")
    cold = await buildSite()
    coldFiles = files()
    warm = await buildSite()
  })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it("misses every page's transforms cold, and hits all of them warm", () => {
    expect(cold?.misses).toBe(pages.length * plugins.length)
    expect(cold?.hits).toBe(0)
    expect(warm?.hits).toBe(pages.length * plugins.length)
    expect(warm?.misses).toBe(0)
    expect(warm?.savedMs).toBeGreaterThan(0)
    expect(warm?.line).toMatch(/^sitecache: 12 documents, 12 hits, 0 misses, 100\.0% hit rate/)
  })

  it("emits byte-identical dist/, cold, warm and without the cache", () => {
    expect(files()).toEqual(coldFiles)
    expect(files("dist-uncached")).toEqual(coldFiles)
    expect([...coldFiles.keys()].filter((file) => file.startsWith("assets/faq-"))).toHaveLength(1)
  })

  it("misses exactly the edited page", async () => {
    edit("content/faq.mdx", (text) => text.replace("What is never cached?", "What is not cached?"))
    const report = await buildSite()
    expect(missed(report)).toEqual(documentsOf("faq.mdx"))
  })

  it("misses exactly the pages that include an edited partial (a watched file)", async () => {
    edit("content/_partials/note.md", (text) => text.replace("only the pages", "just the pages"))
    const report = await buildSite()
    expect(missed(report)).toEqual(["configuration.mdx", "faq.mdx", "index.mdx"].flatMap(documentsOf).sort())
    const faq = [...files().keys()].find((file) => file.startsWith("assets/faq-")) as string
    expect(readFileSync(join(root, "dist", faq), "utf8")).toContain("just the pages")
  })

  it("misses everything when a plugin option changes", async () => {
    const report = await buildSite({ highlight: { prefix: "hl-" } })
    expect(report?.hits).toBe(0)
    expect(report?.misses).toBe(pages.length * plugins.length)
  })

  it("neither reads nor writes with SITECACHE=off", async () => {
    const fresh = createMemoryCache()
    const off = await buildSite({ cache: fresh, env: { SITECACHE: "off" } }, "dist-off")
    expect(off?.enabled).toBe(false)
    const info = await fresh.inspect()
    expect([info.hits, info.misses, info.puts, info.entryCount]).toEqual([0, 0, 0, 0])
    // Nor does it open the backend it is configured with (SQLite, under node_modules/.cache/sitecache).
    const config = siteConfig({ root, logLevel: "silent", env: { SITECACHE: "off" } })
    await build({ ...config, build: { ...config.build, outDir: "dist-off" } })
    expect(existsSync(join(root, "node_modules/.cache/sitecache"))).toBe(false)
  })
})
