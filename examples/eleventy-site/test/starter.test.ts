/**
 * The real-plugin matrix: the starter-like site (starter/, src/starter.ts),
 * with the plugins the official Eleventy starter installs, built in this
 * process with each sitecache configuration uncached, cold, warm, after an
 * edit of one post and after an edit of one include used by two posts. Every
 * cached build writes the same files as the uncached build of the same
 * sources.
 *
 * Every page prints the time it was built (`{% currentBuildDate %}`, as the
 * starter's do): before pages are compared, that one timestamp is replaced by
 * a fixed text (`normalize`). Nothing else is normalized; images, bundles,
 * the feed and the sitemap are compared byte for byte.
 */
import { createHash } from "node:crypto"
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import Eleventy from "@11ty/eleventy"
import { describeDocument } from "@sitecache/core"
import { type EleventyCacheReport, HTML_TRANSFORMER, type SitecacheOptions } from "@sitecache/eleventy"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type StarterConfig, starterConfig, starterDirectories } from "../src/starter.js"

const starter = join(import.meta.dirname, "../starter")

interface ProgrammaticConfig {
  setUseTemplateCache(use: boolean): void
}

/** Where the configuration file finds the configuration function of the build that runs. */
const CONFIGURE = "sitecache.test.starterConfigure"

const BUILD_DATE = /was built on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g

/** The one text that changes every build: the build date the base layout prints. */
function normalize(text: string): string {
  return text.replace(BUILD_DATE, "was built on (the build date)")
}

class StarterSite {
  static #sites = 0
  readonly root = mkdtempSync(join(tmpdir(), "sitecache-starter-"))
  readonly id = ++StarterSite.#sites
  pathPrefix: string | undefined
  #builds = 0

  constructor() {
    cpSync(starter, this.root, { recursive: true })
    // starter.config.ts in JavaScript, since Eleventy imports a configuration file without TypeScript: the same
    // `config` export (less the output folder, each build's own), and a default export that runs the configuration
    // function of the build under way.
    const { output: _, ...dir } = starterDirectories.dir
    writeFileSync(
      join(this.root, "eleventy.config.mjs"),
      `export const config = ${JSON.stringify({ ...starterDirectories, dir })}\n` +
        `export default (eleventyConfig) => globalThis[Symbol.for("${CONFIGURE}")](eleventyConfig)\n`,
    )
  }

  /**
   * One build: cached into `_site`, kept from build to build as on a writer's machine; uncached into a new
   * folder. The sitecache report, or `undefined` uncached.
   */
  async build(sitecache: SitecacheOptions | false, into?: string): Promise<{ output: string; report?: EleventyCacheReport }> {
    // Names of this site's own: @11ty/eleventy-img remembers, for the process, the images it wrote by relative path
    // (so a folder emptied within the process is a folder of another name).
    const name = into ?? (sitecache === false ? `_site-${this.id}-off-${++this.#builds}` : `_site-${this.id}`)
    const output = join(this.root, name)
    let report: EleventyCacheReport | undefined
    const configure = starterConfig(
      sitecache === false
        ? { cached: false }
        : {
            sitecache: {
              root: this.root,
              dir: join(this.root, ".cache"),
              log: false,
              ...sitecache,
              onBuildEnd: (r) => {
                report = r
              },
            },
          },
    )
    ;(globalThis as Record<symbol, unknown>)[Symbol.for(CONFIGURE)] = (eleventyConfig: StarterConfig) => {
      configure(eleventyConfig)
      // What `--pathprefix` sets: no plugin's option, and read by HtmlBasePlugin when it runs.
      return this.pathPrefix === undefined ? {} : { pathPrefix: this.pathPrefix }
    }
    // Run from the site's folder with relative paths, as `npx @11ty/eleventy` does: with an absolute input path,
    // Eleventy 3.1 builds the feed plugin's virtual template with an empty collection.
    const cwd = process.cwd()
    process.chdir(this.root)
    const eleventy = new Eleventy("content", relative(this.root, output), {
      quietMode: true,
      configPath: "eleventy.config.mjs",
      config(eleventyConfig: ProgrammaticConfig) {
        // Eleventy keeps template contents in a process-wide cache: off, since these builds share a process and edit files.
        eleventyConfig.setUseTemplateCache(false)
      },
    })
    try {
      await eleventy.write()
    } finally {
      process.chdir(cwd)
    }
    if (sitecache !== false && report === undefined) throw new Error("no report: the sitecache plugin did not run")
    return report === undefined ? { output } : { output, report }
  }

  /** Every file of an output folder: its hash, after `normalize` for text. */
  files(output: string): Map<string, string> {
    const hashes = new Map<string, string>()
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) walk(path)
        else {
          const bytes = readFileSync(path)
          const text = /\.(html|xml|js|css)$/.test(path) ? normalize(bytes.toString("utf8")) : bytes
          hashes.set(relative(output, path), createHash("sha256").update(text).digest("hex"))
        }
      }
    }
    walk(output)
    return hashes
  }

  edit(path: string, change: (text: string) => string): void {
    const file = join(this.root, path)
    writeFileSync(file, change(readFileSync(file, "utf8")))
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true })
  }
}

function misses(report: EleventyCacheReport | undefined): string[] {
  return [...(report?.stats.documentRecords.values() ?? [])]
    .filter((record) => !record.hit)
    .map(describeDocument)
    .sort()
}

interface Configuration {
  readonly name: string
  readonly options: SitecacheOptions
  /** The documents of the pages at `paths` (in the output folder `output`) that this configuration caches. */
  readonly pages: (output: string, paths: readonly string[]) => string[]
}

const CONFIGURATIONS: readonly Configuration[] = [
  { name: "markdown cached (the default)", options: {}, pages: () => [] },
  {
    name: "markdown and Eleventy's HTML transforms cached",
    options: { transforms: [HTML_TRANSFORMER] },
    pages: (output, paths) => paths.map((path) => `${output}/${path} (${HTML_TRANSFORMER})`),
  },
]

const posts = ["first-build", "keys", "second-build"].map((post) => `content/blog/${post}.md`)
const markdownDocuments = [...posts, "content/blog/images/images.md", "content/en/about.md", "content/fr/about.md"]

describe.each(CONFIGURATIONS)("the starter-like site, $name", ({ options, pages }) => {
  const site = new StarterSite()
  const output = `_site-${site.id}`
  const steps: Record<string, { reference: Map<string, string>; files: Map<string, string>; report: EleventyCacheReport }> = {}
  const step = async (name: string, into?: string) => {
    const uncached = await site.build(false)
    const cached = await site.build(options, into)
    steps[name] = {
      reference: site.files(uncached.output),
      files: site.files(cached.output),
      report: cached.report as EleventyCacheReport,
    }
  }
  beforeAll(async () => {
    await step("cold")
    await step("warm")
    site.edit("content/blog/keys.md", (text) => text.replace("A key holds", "A key, 128 bits, holds"))
    await step("document edited")
    site.edit("_includes/partials/cache-rule.md", (text) => text.replace("The rule.", "The one rule."))
    await step("include edited")
    await step("output folder emptied", `${output}-clean`)
    site.pathPrefix = "/docs/"
    await step("path prefix changed")
  }, 240_000)
  afterAll(() => site.remove())

  it.each(["cold", "warm", "document edited", "include edited", "output folder emptied", "path prefix changed"])(
    "writes the uncached build's files: %s",
    (name) => {
      const { reference, files } = steps[name] as (typeof steps)[string]
      expect(reference.size).toBeGreaterThan(20)
      expect([...files.keys()].sort()).toEqual([...reference.keys()].sort())
      expect(files).toEqual(reference)
    },
  )

  it("builds every plugin's output: images, bundles, feed, ids, locales, rendered templates", () => {
    const { reference } = steps.cold as (typeof steps)[string]
    const paths = [...reference.keys()]
    expect(paths.filter((path) => path.startsWith("blog/images/") && /\.(avif|webp|png)$/.test(path))).toHaveLength(6)
    expect(paths).toEqual(
      expect.arrayContaining(["feed/feed.xml", "sitemap.xml", "fr/about/index.html", "tags/cache/index.html"]),
    )
    expect(paths.some((path) => /^dist\/.+\.js$/.test(path))).toBe(true)
    expect(paths).not.toContain("blog/draft-idea/index.html")
  })

  it("renders every markdown document cold and restores every one warm", () => {
    const cold = (steps.cold as (typeof steps)[string]).report
    const warm = (steps.warm as (typeof steps)[string]).report
    expect(misses(cold)).toEqual(expect.arrayContaining(markdownDocuments))
    expect(cold.hits).toBe(0)
    expect(warm.misses).toBe(0)
    expect(warm.hits).toBe(cold.misses)
    expect(warm.stats.uncacheable.size).toBe(0)
  })

  it("renders again exactly the edited post, then exactly the posts that include the edited include", () => {
    // The feed holds every post's content, so it changes with any post.
    expect(misses((steps["document edited"] as (typeof steps)[string]).report)).toEqual(
      [...pages(output, ["blog/keys/index.html", "feed/feed.xml"]), "content/blog/keys.md"].sort(),
    )
    expect(misses((steps["include edited"] as (typeof steps)[string]).report)).toEqual(
      [
        ...pages(output, ["blog/first-build/index.html", "blog/keys/index.html", "feed/feed.xml"]),
        "content/blog/first-build.md",
        "content/blog/keys.md",
      ].sort(),
    )
  })

  it("writes again the images a stored page names, when they are gone from the output folder", () => {
    const emptied = (steps["output folder emptied"] as (typeof steps)[string]).report
    expect(misses(emptied)).toEqual(pages(`${output}-clean`, ["blog/images/index.html"]))
  })

  it("renders every page again for another path prefix, which HtmlBasePlugin writes into links", () => {
    const { report, files } = steps["path prefix changed"] as (typeof steps)[string]
    expect(misses(report)).toEqual(
      pages(
        output,
        [...files.keys()].filter((path) => /\.(html|xml)$/.test(path)),
      ).sort(),
    )
  })

  it("says how many pages print the build date", () => {
    const warm = (steps.warm as (typeof steps)[string]).report
    if (pages(output, ["x"]).length === 0) expect(warm.line).not.toMatch(/build date/)
    else {
      expect(warm.buildDatePages).toEqual({ pages: 13, of: 15, uncached: 0 })
      expect(warm.line).toMatch(/; 13 of 15 pages change every build: they print the build date$/)
    }
  })
})
