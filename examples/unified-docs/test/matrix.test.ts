/**
 * The real-plugin matrix of `@sitecache/unified` (issue 17 §2): this site,
 * rendered through `cached()` with the plugins documentation sites install
 * (`@shikijs/rehype` or `rehype-pretty-code`, `remark-math` + `rehype-katex`,
 * `remark-directive`, `rehype-raw`, `remark-frontmatter` with a `yaml`
 * plugin, a plugin written as a class instance, options holding functions and
 * a self-reference), is built uncached, cold, warm, after an edit of one page
 * and after an edit of one partial (a file a plugin reads and declares with
 * `dependOn`). Every cached build must give every page exactly what the
 * uncached build of the same sources gives: the HTML, `file.data` and the
 * messages. Each build opens the fs cache anew, as a new process would.
 * Nothing here prints a time, so nothing needs normalizing.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { BuildStats, createCache } from "@sitecache/core"
import { cacheStatus } from "@sitecache/unified"
import type { VFile } from "vfile"
import { VFileMessage } from "vfile-message"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildSite, exampleRoot, type Highlighter, type SiteOptions } from "../src/site.js"

const PAGES = [
  "content/changelog.md",
  "content/guide/code.md",
  "content/guide/install.md",
  "content/guide/math.md",
  "content/guide/troubleshooting.md",
  "content/index.md",
]
/** The page whose message holds KaTeX's `ParseError` (a class instance): rendered every time, never stored. */
const NEVER_CACHED = "content/guide/troubleshooting.md"
const CACHEABLE = PAGES.filter((page) => page !== NEVER_CACHED)

/** Everything a caller can observe of a processed file. */
function observe(file: VFile) {
  return {
    value: String(file.value),
    valueType: typeof file.value,
    data: file.data,
    history: file.history,
    messages: file.messages.map((message) => ({
      isVFileMessage: message instanceof VFileMessage && Object.getPrototypeOf(message) === VFileMessage.prototype,
      own: Object.getOwnPropertyNames(message).sort(),
      enumerable: Object.keys(message).sort(),
      reason: message.reason,
      ruleId: message.ruleId,
      source: message.source,
      place: message.place,
      fatal: message.fatal,
      string: String(message),
    })),
  }
}

type Observed = Map<string, ReturnType<typeof observe>>

interface Build {
  readonly pages: Observed
  /** Pages that ran their processor (not restored). */
  readonly rendered: string[]
  readonly stats: BuildStats
}

for (const highlighter of ["shiki", "pretty-code"] satisfies Highlighter[]) {
  describe(`examples/unified-docs through cached() with ${highlighter === "shiki" ? "@shikijs/rehype" : "rehype-pretty-code"}`, () => {
    const root = mkdtempSync(join(tmpdir(), "sitecache-unified-docs-"))
    // Not under node_modules: that is a link to the example's own, which tests must not write into.
    const dir = join(root, ".cache")

    async function render(options: Omit<SiteOptions, "root" | "highlighter"> & { cached?: boolean } = {}): Promise<Build> {
      const stats = new BuildStats()
      const site = { ...options, root, highlighter }
      if (options.cached === false) {
        const files = await buildSite(site, false)
        return { pages: new Map([...files].map(([page, file]) => [page, observe(file)])), rendered: [...files.keys()], stats }
      }
      const cache = await createCache({ backend: "fs", dir, strict: true })
      try {
        const files = await buildSite({ ...site, cache, stats }, false)
        const rendered = [...files].filter(([, file]) => cacheStatus(file)?.hit !== true).map(([page]) => page)
        return { pages: new Map([...files].map(([page, file]) => [page, observe(file)])), rendered, stats }
      } finally {
        await cache.close()
      }
    }

    function edit(path: string, change: (text: string) => string): void {
      const file = join(root, path)
      const before = readFileSync(file, "utf8")
      const after = change(before)
      expect(after).not.toBe(before)
      writeFileSync(file, after)
    }

    let uncached: Build
    let cold: Build
    let warm: Build
    beforeAll(async () => {
      for (const item of ["content", "partials", "package.json"])
        cpSync(join(exampleRoot, item), join(root, item), { recursive: true })
      // The project's own node_modules: plugins resolve (and are fingerprinted) as installed.
      symlinkSync(join(exampleRoot, "node_modules"), join(root, "node_modules"), "dir")
      uncached = await render({ cached: false })
      cold = await render()
      warm = await render()
    })
    afterAll(() => rmSync(root, { recursive: true, force: true }))

    it("renders what the plugins are there for", () => {
      const html = (page: string) => uncached.pages.get(page)?.value ?? ""
      expect([...uncached.pages.keys()]).toEqual(PAGES)
      expect(html("content/guide/code.md")).toMatch(/<pre class="shiki|data-rehype-pretty-code-figure/)
      expect(html("content/guide/math.md")).toContain('<span class="katex">')
      expect(html("content/index.md")).toContain('<aside class="admonition note" data-title="How it is cached">')
      expect(html("content/guide/install.md")).toContain("<details>")
      expect(html("content/changelog.md")).toContain('<abbr title="continuous integration">CI</abbr>')
      expect(html("content/index.md")).toContain("Edit this page") // the included partial
      expect(uncached.pages.get("content/index.md")?.data).toMatchObject({
        matter: { title: "Docs home", tags: ["intro", "cache"] },
        toc: [{ depth: 1, text: "Welcome to the docs" }],
      })
      expect(uncached.pages.get("content/changelog.md")?.messages.map((m) => m.reason)).toEqual([
        "Cannot include `unreleased.md`: no such partial",
      ])
      expect(uncached.pages.get(NEVER_CACHED)?.messages.map((m) => m.reason)).toEqual(["Could not render math with KaTeX"])
    })

    it("cold: renders every page and gives the uncached build's files", () => {
      expect(cold.rendered).toEqual(PAGES)
      expect([cold.stats.hits, cold.stats.misses]).toEqual([0, PAGES.length])
      expect([...cold.stats.uncacheable.values()]).toEqual([1])
      expect(cold.pages).toEqual(uncached.pages)
    })

    it("warm: restores every cacheable page, identical to the uncached build", () => {
      expect(warm.rendered).toEqual([NEVER_CACHED])
      expect(warm.stats.hits).toBe(CACHEABLE.length)
      expect(warm.pages).toEqual(uncached.pages)
    })

    it("after an edit of one page: renders that page only, and every page is as uncached", async () => {
      edit("content/guide/math.md", (text) => text.replace("t_{\\text{warm}}", "t_{\\text{cold}}"))
      const reference = await render({ cached: false })
      const build = await render()
      expect(build.rendered).toEqual(["content/guide/math.md", NEVER_CACHED])
      expect(build.pages).toEqual(reference.pages)
      expect(reference.pages.get("content/guide/math.md")?.value).not.toEqual(uncached.pages.get("content/guide/math.md")?.value)
    })

    it("after an edit of one partial: renders the pages that include it only, and every page is as uncached", async () => {
      edit("partials/footer.md", (text) => text.replace("Edit this page", "Improve this page"))
      const reference = await render({ cached: false })
      const build = await render()
      expect(build.rendered).toEqual(["content/guide/install.md", NEVER_CACHED, "content/index.md"])
      expect(build.pages).toEqual(reference.pages)
      expect(build.pages.get("content/index.md")?.value).toContain("Improve this page")
    })

    it("after a partial that was missing appears: renders the page that asked for it", async () => {
      writeFileSync(join(root, "partials/unreleased.md"), "## Unreleased\n\n- Nothing yet.\n")
      const reference = await render({ cached: false })
      const build = await render()
      expect(build.rendered).toEqual(["content/changelog.md", NEVER_CACHED])
      expect(build.pages).toEqual(reference.pages)
      expect(build.pages.get("content/changelog.md")?.messages).toEqual([])
    })

    it("misses every page when a plugin option changes (the Shiki theme), and hits again when it changes back", async () => {
      const reference = await render({ cached: false, theme: "github-dark" })
      const dark = await render({ theme: "github-dark" })
      expect(dark.rendered).toEqual(PAGES)
      expect(dark.pages).toEqual(reference.pages)
      expect(dark.pages.get("content/guide/code.md")?.value).not.toEqual(uncached.pages.get("content/guide/code.md")?.value)
      const light = await render()
      expect(light.rendered).toEqual([NEVER_CACHED])
    })
  })
}
