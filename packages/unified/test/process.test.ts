import { join } from "node:path"
import { BuildStats, contentHash, createMemoryCache, FileHasher, Key } from "@sitecache/core"
import rehypeStringify from "rehype-stringify"
import remarkGfm from "remark-gfm"
import remarkParse from "remark-parse"
import remarkRehype from "remark-rehype"
import { type Plugin, unified } from "unified"
import { VFile } from "vfile"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { cached, cacheStatus, UnsupportedError, valueBytes } from "../src/index.js"
import { BACKENDS, observe, openBackend, PACKAGE_ROOT, removeDir, tempDir } from "./helpers.js"

interface Node {
  type: string
  depth?: number
  children?: Node[]
  position?: { start: { line: number; column: number; offset?: number }; end: { line: number; column: number; offset?: number } }
}

/** Leaves a bit of everything in the file: messages of every kind, structured data, a moved path, a custom field. */
function remarkEverything() {
  return (tree: Node, file: VFile) => {
    const heading = tree.children?.find((node) => node.type === "heading")
    const warning = file.message("Heading found", {
      ancestors: heading ? [tree, heading] : [tree],
      ruleId: "found",
      source: "test",
    })
    warning.url = "https://example.com/rules/found"
    warning.note = "a note"
    warning.actual = "h1"
    warning.expected = ["h2", "h3"]
    ;(warning as unknown as Record<string, unknown>).custom = { level: 2 }
    file.info("Just so you know", { place: { line: 1, column: 1 }, ruleId: "fyi" })
    const options = { place: heading?.position ?? { line: 1, column: 1 }, source: "test", ruleId: "caused" }
    file.message(new Error("caused by this"), options as never)
    file.data.counts = new Map([["headings", tree.children?.filter((node) => node.type === "heading").length ?? 0]])
    file.data.tags = new Set(["a", "b"])
    file.data.when = new Date(0)
    file.data.bytes = new Uint8Array([1, 2, 3])
    file.data.nested = { list: [1, "two", { three: 3n }], empty: {}, nothing: null }
    ;(file as unknown as Record<string, unknown>).custom = { set: "on the file" }
  }
}

function rehypeMove() {
  return (_tree: unknown, file: VFile) => {
    if (file.path) file.extname = ".html"
  }
}

function createProcessor() {
  return unified()
    .use(remarkParse)
    .use(remarkGfm)
    .use(remarkEverything as Plugin)
    .use(remarkRehype)
    .use(rehypeMove as Plugin)
    .use(rehypeStringify)
}

const SOURCE = "# Title\n\nSome *text* with a [link](https://example.com).\n\n| a | b |\n| - | - |\n| 1 | 2 |\n"

/** A page long enough to be stored as UTF-8 bytes, with text past Latin-1 (v8 would keep it as UTF-16). */
const LONG_SOURCE = `# Ünïcödé — “quotes”\n\n${"Some *text* with 😀, ß, ñ, 中文 and a [link](https://example.com).\n\n".repeat(20)}`

let dir: string
beforeEach(async () => {
  dir = await tempDir()
})
afterEach(async () => {
  await removeDir(dir)
})

describe("cached(processor).process", () => {
  it("restores the file exactly as an uncached run leaves it: value, data, messages, history, custom fields", async () => {
    const cache = createMemoryCache()
    const stats = new BuildStats()
    const processor = cached(createProcessor(), { cache, stats, root: dir })
    const path = join(dir, "content", "page.md")
    const uncached = await createProcessor().process(new VFile({ path, value: SOURCE }))
    const cold = await processor.process(new VFile({ path, value: SOURCE }))
    const warm = await processor.process(new VFile({ path, value: SOURCE }))
    expect(cacheStatus(cold)?.hit).toBe(false)
    expect(cacheStatus(warm)?.hit).toBe(true)
    // A message made from an error keeps that error's stack, which differs from run to run: compare the rest.
    const withoutStacks = (file: VFile) => {
      const seen = observe(file)
      for (const message of seen.messages) delete message.properties.stack
      return seen
    }
    expect(withoutStacks(cold)).toEqual(withoutStacks(uncached))
    expect(observe(warm)).toEqual(observe(cold))
    expect(warm.history).toEqual([path, join(dir, "content", "page.html")])
    expect(warm.messages.map((message) => [message.ruleId, message.fatal, message.line, message.column])).toEqual([
      ["found", false, 1, 1],
      ["fyi", undefined, 1, 1],
      ["caused", false, 1, 1],
    ])
    const caused = warm.messages[2]
    expect(caused?.cause).toBeInstanceOf(Error)
    expect((caused?.cause as Error | undefined)?.message).toBe("caused by this")
    expect(stats.hits).toBe(1)
    expect(stats.misses).toBe(1)
  })

  it("restores into the caller's VFile, keeping the identity of file.data", async () => {
    const processor = cached(createProcessor(), { cache: createMemoryCache(), root: dir })
    await processor.process(new VFile({ path: join(dir, "a.md"), value: SOURCE }))
    const file = new VFile({ path: join(dir, "a.md"), value: SOURCE })
    const data = file.data
    const returned = await processor.process(file)
    expect(returned).toBe(file)
    expect(file.data).toBe(data)
    expect(file.data.tags).toEqual(new Set(["a", "b"]))
  })

  it("accepts what new VFile() accepts: a string, bytes, options", async () => {
    const processor = cached(unified().use(remarkParse).use(remarkRehype).use(rehypeStringify), {
      cache: createMemoryCache(),
      root: dir,
    })
    expect(String(await processor.process("# a"))).toBe("<h1>a</h1>")
    expect(String(await processor.process(new TextEncoder().encode("# a")))).toBe("<h1>a</h1>")
    const file = await processor.process({ value: "# a", path: join(dir, "x.md") })
    expect(file.path).toBe(join(dir, "x.md"))
  })

  it("stores a page of text as its UTF-8 bytes: restored as the same string, handed to writers undecoded", async () => {
    const processor = cached(createProcessor(), { cache: createMemoryCache(), root: dir })
    const path = join(dir, "long.md")
    const cold = await processor.process(new VFile({ path, value: LONG_SOURCE }))
    const warm = await processor.process(new VFile({ path, value: LONG_SOURCE }))
    expect(cacheStatus(warm)?.hit).toBe(true)
    expect(valueBytes(cold)).toBeUndefined()
    const html = String(cold.value)
    expect(html.length).toBeGreaterThan(1000)
    // The bytes before anything reads the value, and after: the UTF-8 of the very page.
    expect(Buffer.from(valueBytes(warm) as Uint8Array).toString("utf8")).toBe(html)
    expect(typeof warm.value).toBe("string")
    expect(warm.value).toBe(html)
    expect(String(warm)).toBe(html)
    expect(Buffer.from(valueBytes(warm) as Uint8Array).toString("utf8")).toBe(html)
    expect(observe(warm)).toEqual(observe(cold))
    expect(Object.keys(warm)).toEqual(Object.keys(cold))
    // A value set after the restore is the value; the stored bytes no longer stand for it.
    warm.value = "<p>changed</p>"
    expect(warm.value).toBe("<p>changed</p>")
    expect(valueBytes(warm)).toBeUndefined()
    // Set before any read, too.
    const again = await processor.process(new VFile({ path, value: LONG_SOURCE }))
    again.value = "<p>other</p>"
    expect(String(again)).toBe("<p>other</p>")
    expect(valueBytes(again)).toBeUndefined()
  })

  it("keeps a text that UTF-8 cannot carry (a lone surrogate) as a string, exactly", async () => {
    function compileLoneSurrogate(this: { compiler: unknown }) {
      this.compiler = () => `${"<p>x</p>".repeat(100)}\uD83D<p>end</p>`
    }
    const processor = cached(
      unified()
        .use(remarkParse)
        .use(compileLoneSurrogate as Plugin),
      { cache: createMemoryCache(), root: dir },
    )
    const cold = await processor.process("# a")
    const warm = await processor.process("# a")
    expect(cacheStatus(warm)?.hit).toBe(true)
    expect(warm.value).toBe(cold.value)
    expect(String(warm.value).includes("\uD83D<p>end")).toBe(true)
    expect(valueBytes(warm)).toBeUndefined()
  })

  it("keeps CJK text, smaller in UTF-16 than in UTF-8, as a string the codec stores in UTF-16", async () => {
    const page = `<p>${"静的サイトのキャッシュ。".repeat(200)}</p>`
    function compileCjk(this: { compiler: unknown }) {
      this.compiler = () => page
    }
    const cache = createMemoryCache()
    const processor = cached(
      unified()
        .use(remarkParse)
        .use(compileCjk as Plugin),
      { cache, root: dir },
    )
    const cold = await processor.process("# a")
    const warm = await processor.process("# a")
    expect(cacheStatus(warm)?.hit).toBe(true)
    expect(warm.value).toBe(page)
    expect(valueBytes(warm)).toBeUndefined()
    const stored = await cache.store.get(cache.entryId(Key.fromHex(cacheStatus(warm)?.key ?? "")))
    expect(stored?.length).toBeLessThan(page.length * 2 * 1.05)
    expect(String(cold.value)).toBe(page)
  })

  it("restores bytes as bytes and a non-string result as `file.result`", async () => {
    function compileBytes(this: { compiler: unknown }) {
      this.compiler = () => new TextEncoder().encode("<bytes>")
    }
    function compileObject(this: { compiler: unknown }) {
      this.compiler = (tree: Node) => ({ kind: "tree", children: tree.children?.length ?? 0 })
    }
    const cache = createMemoryCache()
    const bytes = cached(
      unified()
        .use(remarkParse)
        .use(compileBytes as Plugin),
      { cache, root: dir },
    )
    await bytes.process("# a")
    const warmBytes = await bytes.process("# a")
    expect(cacheStatus(warmBytes)?.hit).toBe(true)
    expect(warmBytes.value).toBeInstanceOf(Uint8Array)
    expect(new TextDecoder().decode(warmBytes.value as Uint8Array)).toBe("<bytes>")
    const objects = cached(
      unified()
        .use(remarkParse)
        .use(compileObject as Plugin),
      { cache, root: dir },
    )
    const cold = await objects.process("# a\n\nb")
    const warm = await objects.process("# a\n\nb")
    expect(cacheStatus(warm)?.hit).toBe(true)
    expect(observe(warm)).toEqual(observe(cold))
    expect((warm as unknown as { result: unknown }).result).toEqual({ kind: "tree", children: 2 })
  })

  it("keys by content with line endings normalized, and by project-relative path", async () => {
    const stats = new BuildStats()
    const processor = cached(createProcessor(), { cache: createMemoryCache(), stats, root: dir })
    await processor.process(new VFile({ path: join(dir, "a.md"), value: "# a\n\nb\n" }))
    const crlf = await processor.process(new VFile({ path: join(dir, "a.md"), value: "# a\r\n\r\nb\r\n" }))
    expect(cacheStatus(crlf)?.hit).toBe(true)
    const relative = await processor.process(new VFile({ cwd: dir, path: "a.md", value: "# a\n\nb\n" }))
    expect(cacheStatus(relative)?.hit).toBe(true)
    // Paths that are not normalized name the same document.
    for (const path of [`${dir}/./a.md`, `${dir}/sub/../a.md`, `${dir}//a.md`]) {
      const same = await processor.process(new VFile({ path, value: "# a\n\nb\n" }))
      expect(cacheStatus(same)?.hit, path).toBe(true)
    }
    expect([...stats.documentRecords.keys()]).toEqual(["a.md"])
    const moved = await processor.process(new VFile({ path: join(dir, "b.md"), value: "# a\n\nb\n" }))
    expect(cacheStatus(moved)?.hit).toBe(false)
    expect(stats.documentRecords.get("a.md")?.parts?.path).toBeDefined()
    expect(Object.keys(stats.documentRecords.get("b.md")?.parts ?? {})).toEqual(
      expect.arrayContaining([
        "content",
        "path",
        "pipeline",
        "stage",
        "plugin:function:remarkGfm",
        "plugin:function:remarkEverything",
      ]),
    )
  })

  it("reports the content hash its key took, on a miss and on a hit, for text and for bytes", async () => {
    const processor = cached(createProcessor(), { cache: createMemoryCache(), root: dir })
    const path = join(dir, "a.md")
    const text = "# a\r\n\r\nb\r\n"
    const cold = await processor.process(new VFile({ path, value: text }))
    const warm = await processor.process(new VFile({ path, value: "# a\n\nb\n" }))
    expect(cacheStatus(cold)?.content).toBe(contentHash(text))
    expect(cacheStatus(warm)?.content).toBe(contentHash(text))
    expect(cacheStatus(warm)?.hit).toBe(true)
    const bytes = new TextEncoder().encode("# bytes\n")
    const fromBytes = await processor.process(new VFile({ path: join(dir, "b.md"), value: bytes }))
    expect(cacheStatus(fromBytes)?.content).toBe(contentHash(bytes))
  })

  it("records the processing's own time as what a hit saves, not the snapshot's", async () => {
    // A clock that stands still, except that it jumps 10 s whenever the snapshot reads `file.data.probe`
    // (the render itself never does): no real time enters the figures.
    let jumped = 0
    const clock = vi.spyOn(performance, "now").mockImplementation(() => jumped)
    try {
      const probing = unified()
        .use(remarkParse)
        .use((() => (_tree: unknown, file: VFile) => {
          Object.defineProperty(file.data, "probe", {
            enumerable: true,
            get: () => {
              jumped += 10_000
              return 1
            },
          })
        }) as Plugin)
        .use(remarkRehype)
        .use(rehypeStringify)
      const processor = cached(probing, { cache: createMemoryCache(), root: dir })
      const cold = await processor.process(new VFile({ path: join(dir, "a.md"), value: "# a\n" }))
      expect(jumped).toBeGreaterThan(0)
      expect(cacheStatus(cold)?.hit).toBe(false)
      expect(cacheStatus(cold)?.ms).toBe(0)
      const warm = await processor.process(new VFile({ path: join(dir, "a.md"), value: "# a\n" }))
      expect(cacheStatus(warm)?.hit).toBe(true)
      expect(cacheStatus(warm)?.ms).toBe(cacheStatus(cold)?.ms)
    } finally {
      clock.mockRestore()
    }
  })

  it("restores paths under the current root, so a cache moves between checkouts", async () => {
    const cache = createMemoryCache()
    const first = join(dir, "checkout-1")
    const second = join(dir, "checkout-2")
    await cached(createProcessor(), { cache, root: first }).process(new VFile({ path: join(first, "doc.md"), value: SOURCE }))
    const file = await cached(createProcessor(), { cache, root: second }).process(
      new VFile({ path: join(second, "doc.md"), value: SOURCE }),
    )
    expect(cacheStatus(file)?.hit).toBe(true)
    expect(file.history).toEqual([join(second, "doc.md"), join(second, "doc.html")])
    expect(file.messages[0]?.file).toBe(join(second, "doc.md"))
    // vfile names a message `<path>:<place>`: the restored one names this checkout's file, as an uncached run would.
    const uncached = await createProcessor().process(new VFile({ path: join(second, "doc.md"), value: SOURCE }))
    expect(file.messages[0]?.name).toBe(uncached.messages[0]?.name)
    expect(file.messages[0]?.name.startsWith(`${join(second, "doc.md")}:`)).toBe(true)
  })

  it("keys by `version` and by data set on the file before processing", async () => {
    const cache = createMemoryCache()
    const path = join(dir, "a.md")
    await cached(createProcessor(), { cache, root: dir, version: 1 }).process(new VFile({ path, value: SOURCE }))
    const same = await cached(createProcessor(), { cache, root: dir, version: 1 }).process(new VFile({ path, value: SOURCE }))
    const bumped = await cached(createProcessor(), { cache, root: dir, version: 2 }).process(new VFile({ path, value: SOURCE }))
    expect([cacheStatus(same)?.hit, cacheStatus(bumped)?.hit]).toEqual([true, false])
    const processor = cached(createProcessor(), { cache, root: dir, version: 1 })
    const withData = (layout: string) => Object.assign(new VFile({ path, value: SOURCE }), { data: { layout } })
    await processor.process(withData("post"))
    expect(cacheStatus(await processor.process(withData("post")))?.hit).toBe(true)
    expect(cacheStatus(await processor.process(withData("page")))?.hit).toBe(false)
  })

  it("does not store what cannot round-trip (a function in data), and says why", async () => {
    function remarkFunction() {
      return (_tree: unknown, file: VFile) => {
        file.data.render = () => "no"
      }
    }
    const stats = new BuildStats()
    const cache = createMemoryCache()
    const processor = cached(
      unified()
        .use(remarkParse)
        .use(remarkFunction as Plugin)
        .use(remarkRehype)
        .use(rehypeStringify),
      {
        cache,
        stats,
        root: dir,
      },
    )
    const first = await processor.process("# a")
    const second = await processor.process("# a")
    expect(cacheStatus(first)?.uncacheable).toBe("`file.data.render` holds a function")
    expect(cacheStatus(second)?.hit).toBe(false)
    expect(typeof second.data.render).toBe("function")
    expect(stats.uncacheable.get("`file.data.render` holds a function")).toBe(2)
    expect(await cache.has(Key.fromHex(cacheStatus(second)?.key ?? ""))).toBe(false)
  })

  it("stores nothing when processing fails, and fails again", async () => {
    let runs = 0
    function remarkFail() {
      return (_tree: unknown, file: VFile) => {
        runs++
        file.fail("Broken document", { ruleId: "broken" })
      }
    }
    const cache = createMemoryCache()
    const processor = cached(
      unified()
        .use(remarkParse)
        .use(remarkFail as Plugin)
        .use(remarkRehype)
        .use(rehypeStringify),
      {
        cache,
        root: dir,
      },
    )
    await processor.fingerprint()
    const before = (await cache.inspect()).entryCount
    await expect(processor.process("# a")).rejects.toThrow("Broken document")
    await expect(processor.process("# a")).rejects.toThrow("Broken document")
    expect(runs).toBe(2)
    expect((await cache.inspect()).entryCount).toBe(before)
  })

  it("runs one processing for concurrent identical calls, and gives each caller its own copy", async () => {
    let runs = 0
    function remarkCount() {
      return async (_tree: unknown, file: VFile) => {
        runs++
        await new Promise((resolve) => setTimeout(resolve, 10))
        file.data.seen = { runs }
      }
    }
    const processor = cached(
      unified()
        .use(remarkParse)
        .use(remarkCount as Plugin)
        .use(remarkRehype)
        .use(rehypeStringify),
      {
        cache: createMemoryCache(),
        root: dir,
      },
    )
    const [a, b] = await Promise.all([processor.process("# same"), processor.process("# same")])
    expect(runs).toBe(1)
    expect(String(a)).toBe(String(b))
    expect(b?.data.seen).toEqual(a?.data.seen)
    expect(b?.data.seen).not.toBe(a?.data.seen)
  })

  it("refuses processSync with a typed error", () => {
    const processor = cached(createProcessor(), { cache: createMemoryCache(), root: dir })
    expect(() => processor.processSync("# a")).toThrow(UnsupportedError)
    try {
      processor.processSync("# a")
    } catch (error) {
      expect((error as UnsupportedError).code).toBe("SITECACHE_UNSUPPORTED")
      expect((error as Error).message).toContain("`processSync`")
      expect((error as Error).message).toContain("process(file)")
    }
  })

  it("checks its options", () => {
    expect(() => cached(createProcessor(), {} as never)).toThrow(/bad option `cache`/)
    expect(() => cached({} as never, { cache: createMemoryCache() })).toThrow(/bad option `processor`/)
    expect(() => cached(createProcessor(), { cache: createMemoryCache(), version: {} as never })).toThrow(/bad option `version`/)
  })

  it("withStats counts into other stats and shares the processor", async () => {
    const cache = createMemoryCache()
    const processor = cached(createProcessor(), { cache, root: dir, files: new FileHasher({ root: dir }) })
    const first = new BuildStats()
    const second = new BuildStats()
    await processor.withStats(first).process("# a")
    await processor.withStats(second).process("# a")
    expect([first.misses, first.hits, second.misses, second.hits]).toEqual([1, 0, 0, 1])
    // Asked once per document, as a renderer does: one facade per stats, and a facade's own stats give itself.
    const facade = processor.withStats(first)
    expect(processor.withStats(first)).toBe(facade)
    expect(facade.withStats(first)).toBe(facade)
    expect(facade.withStats(second)).toBe(processor.withStats(second))
    expect(processor.withStats(undefined)).not.toBe(facade)
  })
})

describe.each(BACKENDS)("on the %s backend", (backend) => {
  it("a warm build after reopening restores every document exactly", async () => {
    const opened = await openBackend(backend, join(dir, "cache"))
    try {
      const documents = ["# One\n\ntext", "# Two\n\n- [x] done", SOURCE, LONG_SOURCE].map((value, i) => ({
        path: join(dir, `doc-${i}.md`),
        value,
      }))
      const cold = new BuildStats()
      const coldFiles = []
      for (const document of documents) {
        coldFiles.push(
          await cached(createProcessor(), { cache: opened.cache, stats: cold, root: dir }).process(new VFile(document)),
        )
      }
      const cache = await opened.reopen()
      const warm = new BuildStats()
      const processor = cached(createProcessor(), { cache, stats: warm, root: dir })
      for (const [i, document] of documents.entries()) {
        const file = await processor.process(new VFile(document))
        expect(observe(file)).toEqual(observe(coldFiles[i] as VFile))
      }
      expect([cold.misses, warm.hits, warm.misses]).toEqual([4, 4, 0])
    } finally {
      await opened.close()
    }
  })
})

void PACKAGE_ROOT
