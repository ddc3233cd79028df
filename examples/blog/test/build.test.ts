import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { PackageResolver } from "@sitecache/unified"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { reportMessages } from "../src/index.js"
import { BACKENDS, builder, DOCUMENTS, hashTree, makeSite, misses, removeDir, tempDir, writeText } from "./helpers.js"

const ALL = Object.keys(DOCUMENTS)
  .filter((path) => path.startsWith("content/"))
  .sort()

let dir: string
beforeEach(async () => {
  dir = await tempDir()
  await makeSite(dir)
})
afterEach(async () => {
  await removeDir(dir)
})

describe.each(BACKENDS)("the blog on the %s backend", (backend) => {
  it("builds cold, then warm with 100% hits, without loading the pipeline, byte-identical to --no-cache", async () => {
    const blog = builder(dir, backend)
    const cold = await blog.build()
    expect(misses(cold)).toEqual(ALL)
    expect(cold.pipelineLoaded).toBe(true)
    const coldTree = await hashTree(join(dir, "dist"))
    const warm = await blog.build()
    expect(warm.stats.hits).toBe(ALL.length)
    expect(warm.stats.misses).toBe(0)
    expect(warm.stats.hitRate).toBe(1)
    expect(warm.pipelineLoaded).toBe(false)
    expect(warm.summary).toMatch(/^blog: 6 documents, 6 hits, 0 misses, 100\.0% hit rate, .+, saved ~/)
    const warmTree = await hashTree(join(dir, "dist"))
    await blog.build(["--no-cache", "--out", join(dir, "uncached")])
    const uncachedTree = await hashTree(join(dir, "uncached"))
    expect(Object.keys(warmTree)).toContain("guide/a.html")
    expect(Object.keys(warmTree)).toContain("index.html")
    expect(warmTree).toEqual(uncachedTree)
    expect(coldTree).toEqual(uncachedTree)
  })

  it("editing one document misses exactly that document", async () => {
    const blog = builder(dir, backend)
    await blog.build()
    await writeText(join(dir, "content/two.md"), `${DOCUMENTS["content/two.md"]}\nOne more line.\n`)
    const edited = await blog.build()
    expect(misses(edited)).toEqual(["content/two.md"])
    expect(await readFile(join(dir, "dist/two.html"), "utf8")).toContain("One more line.")
  })

  it("editing a partial misses exactly the documents that include it", async () => {
    const blog = builder(dir, backend)
    await blog.build()
    await writeText(join(dir, "partials/note.md"), "> The note, edited.\n")
    expect(misses(await blog.build())).toEqual(["content/guide/a.md", "content/one.md"])
    await writeText(join(dir, "partials/guide-nav.html"), "<nav>guide nav, edited</nav>\n")
    expect(misses(await blog.build())).toEqual(["content/guide/a.md", "content/guide/b.md"])
    await writeText(join(dir, "layouts/post.html"), "<!doctype html>\n<title>{{title}}</title>\n{{content}}\n")
    expect(misses(await blog.build())).toEqual(["content/posts/p.md"])
    expect(misses(await blog.build())).toEqual([])
  })

  it("changing a plugin's option, or upgrading a plugin, misses every document", async () => {
    const blog = builder(dir, backend)
    await blog.build()
    await writeText(
      join(dir, "blog.config.json"),
      JSON.stringify({ title: "Test site", highlight: { detect: false, prefix: "hl-" } }),
    )
    const optionChanged = await blog.build()
    expect(misses(optionChanged)).toEqual(ALL)
    expect(await readFile(join(dir, "dist/two.html"), "utf8")).toContain('class="hl-')
    expect(misses(await blog.build())).toEqual([])
    // A new installed version of rehype-slug, as the fingerprint reads it.
    class Upgraded extends PackageResolver {
      override info(packageDir: string) {
        const info = super.info(packageDir)
        return info?.name === "rehype-slug" ? { ...info, version: "6.0.1" } : info
      }
    }
    const upgraded = await blog.build([], { resolver: new Upgraded() })
    expect(misses(upgraded)).toEqual(ALL)
    expect(upgraded.run?.documents).toBe(ALL.length)
  })

  it("--no-cache renders everything, reads nothing and writes nothing", async () => {
    const blog = builder(dir, backend)
    const off = await blog.build(["--no-cache"])
    expect(off.summary).toMatch(/^blog: 6 documents, cache off \(nothing read or written\), [\d.]+ KiB, [\d.]+ m?s$/)
    expect(off.run).toBeUndefined()
    expect(off.stats.hits).toBe(0)
    expect(off.stats.misses).toBe(ALL.length)
    expect(off.cache?.puts).toBe(0)
    expect(existsSync(join(dir, "cache"))).toBe(false)
    await blog.build()
    const before = await blog.build()
    expect(before.stats.hits).toBe(ALL.length)
    const offAgain = await blog.build(["--no-cache"])
    expect([offAgain.stats.hits, offAgain.cache?.hits, offAgain.cache?.puts]).toEqual([0, 0, 0])
  })

  it("--cache=read serves hits and writes nothing", async () => {
    const blog = builder(dir, backend)
    await blog.build()
    const stored = await blog.entryCount()
    await writeText(join(dir, "content/one.md"), `${DOCUMENTS["content/one.md"]}\nChanged in a pull request.\n`)
    const read = await blog.build(["--cache=read"])
    expect(read.stats.hits).toBe(ALL.length - 1)
    expect(misses(read)).toEqual(["content/one.md"])
    expect(read.cache?.puts).toBe(0)
    expect(await blog.entryCount()).toBe(stored)
    // Nothing was written: a normal build misses the changed page again.
    expect(misses(await blog.build())).toEqual(["content/one.md"])
  })

  it("a warning comes back from the cache as it was", async () => {
    const blog = builder(dir, backend)
    const lines = (result: Awaited<ReturnType<typeof blog.build>>) => reportMessages(result.documents, { color: false })
    const cold = await blog.build()
    const warm = await blog.build()
    expect(lines(cold)).toBe(
      [
        "content/lint.md",
        "3:1-3:20 warning Heading levels should increase by one: expected h2, found h3 heading-increment blog-lint",
        "",
        "⚠ 1 warning",
      ].join("\n"),
    )
    expect(lines(warm)).toEqual(lines(cold))
    const message = warm.documents.find((document) => document.source === "content/lint.md")?.messages[0]
    expect(message).toBeInstanceOf(Error)
    expect(message?.url).toBe("https://www.w3.org/WAI/tutorials/page-structure/headings/")
    expect(message?.fatal).toBe(false)
  })
})
