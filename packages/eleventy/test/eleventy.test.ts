/**
 * The plugin on real Eleventy builds (the programmatic API, in this process)
 * of a copy of examples/eleventy-site in a temporary directory.
 */
import { createHash } from "node:crypto"
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import Eleventy from "@11ty/eleventy"
import { type Cache, createMemoryCache, describeDocument, readManifest } from "@sitecache/core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
// The example's configuration, from its sources (the example depends on this package).
import { type EleventyConfig, type SiteOptions, siteConfig } from "../../../examples/eleventy-site/src/site.js"
import { type EleventyCacheReport, type SitecacheOptions, sitecache, TOOL, type TransformCallback } from "../src/index.js"

const example = join(import.meta.dirname, "../../../examples/eleventy-site")

interface EleventyDirectories {
  setUseTemplateCache(use: boolean): void
  setIncludesDirectory(dir: string): void
  setDataDirectory(dir: string): void
}

interface Site {
  readonly root: string
  /** Build; the plugin's report (`undefined` when the site was built without the plugin). */
  build(options?: { site?: SiteOptions; sitecache?: SitecacheOptions; output?: string }): Promise<EleventyCacheReport>
  files(output?: string): Map<string, string>
  edit(path: string, change: (text: string) => string): void
}

function copySite(): Site {
  const root = mkdtempSync(join(tmpdir(), "sitecache-eleventy-"))
  cpSync(join(example, "content"), join(root, "content"), { recursive: true })
  return {
    root,
    async build({ site = {}, sitecache = {}, output = "_site" } = {}) {
      let report: EleventyCacheReport | undefined
      const configure = siteConfig({
        ...site,
        sitecache: {
          root,
          log: false,
          ...site.sitecache,
          ...sitecache,
          onBuildEnd: (r) => {
            report = r
          },
        },
      })
      const eleventy = new Eleventy(join(root, "content"), join(root, output), {
        quietMode: true,
        config(eleventyConfig: EleventyConfig & EleventyDirectories) {
          // Eleventy keeps template contents in a process-wide cache: off, since these builds share a process and edit files.
          eleventyConfig.setUseTemplateCache(false)
          eleventyConfig.setIncludesDirectory("_includes")
          eleventyConfig.setDataDirectory("_data")
          configure(eleventyConfig)
        },
      })
      await eleventy.write()
      if (report === undefined && site.cached !== false) throw new Error("no report: the plugin did not run")
      return report as EleventyCacheReport
    },
    files(output = "_site") {
      const hashes = new Map<string, string>()
      const walk = (dir: string) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name)
          if (entry.isDirectory()) walk(path)
          else hashes.set(relative(join(root, output), path), createHash("sha256").update(readFileSync(path)).digest("hex"))
        }
      }
      walk(join(root, output))
      return hashes
    },
    edit(path, change) {
      const file = join(root, path)
      writeFileSync(file, change(readFileSync(file, "utf8")))
    },
  }
}

/** Documents of the last build that missed, sorted. */
function misses(report: EleventyCacheReport): string[] {
  return [...report.stats.documentRecords.values()]
    .filter((record) => !record.hit)
    .map(describeDocument)
    .sort()
}

const posts = [
  "cold-and-warm",
  "content-hash-keys",
  "minify-once",
  "sqlite-backend",
  "synchronous-hooks",
  "what-a-cache-cannot-touch",
]
const templates = ["content/about.md", "content/index.md", ...posts.map((post) => `content/posts/${post}.md`)]

describe("@sitecache/eleventy on a real Eleventy build", () => {
  const sites: Site[] = []
  const site = () => {
    const copy = copySite()
    sites.push(copy)
    return copy
  }
  afterAll(() => {
    for (const { root } of sites) rmSync(root, { recursive: true, force: true })
  })

  describe("cold, then warm", () => {
    let copy: Site
    let cache: Cache
    let cold: EleventyCacheReport
    let warm: EleventyCacheReport
    beforeAll(async () => {
      copy = site()
      cache = createMemoryCache()
      await copy.build({ site: { cached: false }, output: "_site-off" })
      cold = await copy.build({ sitecache: { cache } })
      warm = await copy.build({ sitecache: { cache } })
    })

    it("misses every template's markdown and minification, cold", () => {
      expect(cold.enabled).toBe(true)
      expect(cold.hits).toBe(0)
      expect(cold.misses).toBe(templates.length * 2)
      expect(misses(cold)).toContain("content/posts/minify-once.md")
      expect(misses(cold)).toContain("_site/posts/minify-once/index.html (htmlmin)")
    })

    it("hits every one, warm, from entries read before the build", () => {
      expect(warm.misses).toBe(0)
      expect(warm.hits).toBe(templates.length * 2)
      expect(warm.prefetched).toBe(templates.length * 2)
      expect(warm.savedMs).toBeGreaterThan(0)
      expect(warm.line).toMatch(/^sitecache: 16 documents, 16 hits, 0 misses, 100\.0% hit rate/)
    })

    it("writes the same bytes as a build without sitecache", () => {
      const off = copy.files("_site-off")
      expect(off.size).toBe(templates.length)
      expect(copy.files()).toEqual(off)
    })

    it("records the build's manifest under the eleventy tool", async () => {
      const manifest = await readManifest(cache, TOOL)
      const documents = Object.values(manifest?.documents ?? {})
      expect(documents).toContainEqual(expect.objectContaining({ path: "content/posts/minify-once.md" }))
      expect(documents).toContainEqual(expect.objectContaining({ path: "_site/posts/minify-once/index.html", step: "htmlmin" }))
    })
  })

  it("records project-relative paths when Eleventy runs from another working directory", async () => {
    // Eleventy gives paths relative to the working directory; the cache's root is the site's.
    // "/" differs in depth from any temporary folder, so a path resolved against the wrong one shows.
    const copy = site()
    const cache = createMemoryCache()
    const cwd = process.cwd()
    process.chdir("/")
    try {
      const cold = await copy.build({ sitecache: { cache } })
      expect(misses(cold)).toContain("content/posts/minify-once.md")
      expect(misses(cold)).toContain("_site/posts/minify-once/index.html (htmlmin)")
      copy.edit("content/posts/minify-once.md", (text) => text.replace("most pages do not change", "most pages stay the same"))
      const edited = await copy.build({ sitecache: { cache } })
      expect(misses(edited)).toEqual(["_site/posts/minify-once/index.html (htmlmin)", "content/posts/minify-once.md"])
    } finally {
      process.chdir(cwd)
    }
  })

  it("renders again exactly the edited page", async () => {
    const copy = site()
    const cache = createMemoryCache()
    await copy.build({ sitecache: { cache } })
    copy.edit("content/posts/minify-once.md", (text) => text.replace("most pages do not change", "most pages stay the same"))
    const report = await copy.build({ sitecache: { cache } })
    expect(misses(report)).toEqual(["_site/posts/minify-once/index.html (htmlmin)", "content/posts/minify-once.md"])
    expect(readFileSync(join(copy.root, "_site/posts/minify-once/index.html"), "utf8")).toContain("most pages stay the same")
  })

  it("renders again exactly the pages that include an edited include", async () => {
    const copy = site()
    const cache = createMemoryCache()
    await copy.build({ sitecache: { cache } })
    copy.edit("content/_includes/partials/cache-note.md", (text) => text.replace("How this page is cached.", "Cached."))
    const report = await copy.build({ sitecache: { cache } })
    const including = ["content-hash-keys", "minify-once", "sqlite-backend"]
    expect(misses(report)).toEqual(
      [
        ...including.map((post) => `content/posts/${post}.md`),
        ...including.map((post) => `_site/posts/${post}/index.html (htmlmin)`),
      ].sort(),
    )
  })

  it("misses a page whose declared dependency changed, and only it", async () => {
    const copy = site()
    const cache = createMemoryCache()
    writeFileSync(join(copy.root, "glossary.txt"), "cache: a place to keep things\n")
    const sitecache: SitecacheOptions = {
      cache,
      dependencies: (data) =>
        String((data.page as { inputPath?: string } | undefined)?.inputPath).endsWith("cold-and-warm.md") ? ["glossary.txt"] : [],
    }
    await copy.build({ sitecache })
    expect(misses(await copy.build({ sitecache }))).toEqual([])
    writeFileSync(join(copy.root, "glossary.txt"), "cache: a place to keep things for later\n")
    expect(misses(await copy.build({ sitecache }))).toEqual(["content/posts/cold-and-warm.md"])
    expect(misses(await copy.build({ sitecache }))).toEqual([])
  })

  it("misses everything when a plugin's option changes", async () => {
    const copy = site()
    const cache = createMemoryCache()
    await copy.build({ sitecache: { cache } })
    const report = await copy.build({ sitecache: { cache }, site: { highlight: { preAttributes: { tabindex: 0 } } } })
    expect(report.hits).toBe(0)
    expect(report.misses).toBe(templates.length * 2)
  })

  it("misses everything when `version` changes", async () => {
    const copy = site()
    const cache = createMemoryCache()
    await copy.build({ sitecache: { cache, version: 1 } })
    const report = await copy.build({ sitecache: { cache, version: 2 } })
    expect(report.hits).toBe(0)
  })

  it("names a transform that no plugin added, and the ones there are, at the first build", async () => {
    const copy = site()
    const failed = await copy
      .build({ sitecache: { cache: createMemoryCache(), transforms: ["htmlmni"] } })
      .catch((error) => error)
    const messages: string[] = []
    for (
      let error = failed;
      error instanceof Error;
      error = (error as { cause?: unknown; originalError?: unknown }).originalError ?? error.cause
    )
      messages.push(error.message)
    expect(messages.join("\n")).toMatch(
      /bad option `transforms`: no transform is named "htmlmni" \(the transforms are: .*"htmlmin"/,
    )
  })

  it("neither reads nor writes with SITECACHE=off", async () => {
    const copy = site()
    const cache = createMemoryCache()
    const report = await copy.build({ sitecache: { cache, env: { SITECACHE: "off" } } })
    expect(report.enabled).toBe(false)
    expect(report.line).toBe("sitecache: off (no cache read or written)")
    const info = await cache.inspect()
    expect({ hits: info.hits, misses: info.misses, puts: info.puts, entryCount: info.entryCount }).toEqual({
      hits: 0,
      misses: 0,
      puts: 0,
      entryCount: 0,
    })
    expect(copy.files().size).toBe(templates.length)
  })
})

describe("options", () => {
  const config = () => ({
    amendLibrary() {},
    addTransform() {},
    on() {},
  })

  it("names a bad option", () => {
    expect(() => sitecache(config(), { transforms: "htmlmin" as unknown as string[] })).toThrow(/bad option `transforms`/)
    expect(() => sitecache(config(), { renderData: [""] })).toThrow(/bad option `renderData`/)
    expect(() => sitecache(config(), { dependencies: [] as unknown as () => [] })).toThrow(/bad option `dependencies`/)
  })

  it("wraps named transforms added before and after it", () => {
    const transforms: Record<string, TransformCallback> = { htmlmin: async (content) => content, other: async (c) => c }
    const eleventyConfig = {
      ...config(),
      transforms,
      addTransform(name: string, callback: TransformCallback) {
        transforms[name] = callback
      },
    }
    const before = transforms.htmlmin
    const other = transforms.other
    sitecache(eleventyConfig, { transforms: ["htmlmin", "late"], cache: createMemoryCache() })
    expect(transforms.htmlmin).not.toBe(before)
    expect(transforms.other).toBe(other)
    const late: TransformCallback = async (content) => content
    eleventyConfig.addTransform("late", late)
    expect(transforms.late).not.toBe(late)
  })
})

describe("the build session across builds of one process", () => {
  /** A markdown library and the hooks Eleventy would call, without Eleventy. */
  function host(options: SitecacheOptions) {
    const events = new Map<string, (argument: Record<string, unknown>) => unknown>()
    const library: { render(source: string, env?: unknown): string } = { render: (source) => `<p>${source}</p>` }
    let renders = 0
    const plain = library.render
    library.render = (source, env) => {
      renders++
      return plain(source, env)
    }
    sitecache(
      {
        amendLibrary(_name, amend) {
          amend(library as never)
        },
        addTransform() {},
        on(event, callback) {
          events.set(event, callback as never)
        },
      },
      { log: false, ...options },
    )
    return {
      renders: () => renders,
      async build(runMode: string, sources: readonly string[]): Promise<string[]> {
        await events.get("eleventy.before")?.({ runMode })
        const html = sources.map((source, i) => library.render(source, { page: { inputPath: `./content/page-${i}.md` } }))
        await events.get("eleventy.after")?.({ runMode })
        return html
      },
    }
  }

  it("keeps an opened cache open while Eleventy watches, so the next build hits without reading it again", async () => {
    const root = mkdtempSync(join(tmpdir(), "sitecache-eleventy-watch-"))
    try {
      let last: EleventyCacheReport | undefined
      const eleventy = host({ root, backend: "memory", onBuildEnd: (report) => void (last = report) })
      expect(await eleventy.build("watch", ["one", "two"])).toEqual(["<p>one</p>", "<p>two</p>"])
      expect(eleventy.renders()).toBe(2)
      expect(await eleventy.build("watch", ["one", "two", "three"])).toEqual(["<p>one</p>", "<p>two</p>", "<p>three</p>"])
      expect(eleventy.renders()).toBe(3)
      expect({ hits: last?.hits, misses: last?.misses }).toEqual({ hits: 2, misses: 1 })
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it("closes the cache it opened after a one-off build: an in-memory cache starts over", async () => {
    const root = mkdtempSync(join(tmpdir(), "sitecache-eleventy-build-"))
    try {
      const eleventy = host({ root, backend: "memory" })
      await eleventy.build("build", ["one"])
      await eleventy.build("build", ["one"])
      expect(eleventy.renders()).toBe(2)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
