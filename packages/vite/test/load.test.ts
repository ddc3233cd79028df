/**
 * `hooks: ["transform", "load"]`: a plugin that compiles files in its `load`
 * hook (as Astro does for `.md` pages), on real Rollup builds. A `load` is
 * keyed by the bytes of the file its id names, restored with the same checks
 * as a `transform`, and never cached for an id that names no file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Cache, createMemoryCache, describeDocument, documentId, Key } from "@sitecache/core"
import { type Plugin as RollupPlugin, rollup } from "rollup"
import type { Plugin } from "vite"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { type CacheTransformsOptions, cacheTransforms, relativeId, type TransformCacheReport } from "../src/index.js"
import { handingBack } from "./forging-cache.js"

let root: string
const loads: string[] = []

/** `.md` files compiled in `load` (`@include name` inlines a partial, watched); `\0virtual:pages` made from nothing on disk. */
function markdownPages(): RollupPlugin {
  return {
    name: "test-markdown-pages",
    resolveId(id) {
      return id === "virtual:pages" ? "\0virtual:pages" : null
    },
    load(id) {
      if (id === "\0virtual:pages") {
        loads.push(id)
        return `export default ${JSON.stringify(pageCount)}`
      }
      if (!id.endsWith(".md")) return null
      loads.push(relativeId(id, root))
      let text = readFileSync(id, "utf8")
      text = text.replace(/^@include (\S+)$/gm, (_line, name: string) => {
        const partial = join(root, name)
        this.addWatchFile(partial)
        return readFileSync(partial, "utf8").trim()
      })
      const title = /^# (.*)$/m.exec(text)?.[1] ?? ""
      if (text.includes("WARN")) this.warn({ message: `loud page ${title}`, code: "LOUD" })
      const html = text
        .trim()
        .split("\n")
        .map((line) => (line.startsWith("# ") ? `<h1>${line.slice(2)}</h1>` : `<p>${line}</p>`))
        .join("")
      return { code: `export default ${JSON.stringify(html)}`, map: null, meta: { page: { title } } }
    },
  }
}

let pageCount = 2

function write(files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text)
}

interface Build {
  readonly report: TransformCacheReport | undefined
  readonly code: string
  readonly warnings: string[]
  readonly watchFiles: string[]
}

/** `hooks: "default"`: the option left out. */
async function build(
  cache: Cache | undefined,
  options: Partial<CacheTransformsOptions> = {},
  hooks: CacheTransformsOptions["hooks"] | "default" = ["transform", "load"],
): Promise<Build> {
  let report: TransformCacheReport | undefined
  const warnings: string[] = []
  loads.length = 0
  const plugins = [markdownPages()] as Plugin[]
  const bundle = await rollup({
    input: join(root, "main.js"),
    plugins: (cache === undefined
      ? plugins
      : cacheTransforms(plugins, {
          cache,
          root,
          log: false,
          ...(hooks === "default" ? {} : { hooks }),
          onBuildEnd: (r) => {
            report = r
          },
          ...options,
        })) as RollupPlugin[],
    onLog: (level, log) => {
      if (level === "warn") warnings.push(`${log.plugin}: ${log.message}`)
    },
  })
  const { output } = await bundle.generate({ format: "es" })
  const watchFiles = bundle.watchFiles.map((file) => relativeId(file, root)).sort()
  await bundle.close()
  return { report, code: output[0].code, warnings, watchFiles }
}

const missed = (b: Build) =>
  [...(b.report?.stats.documentRecords.values() ?? [])]
    .filter((r) => !r.hit)
    .map(describeDocument)
    .sort()

describe('cacheTransforms with `hooks: ["transform", "load"]`', () => {
  let cache: Cache
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "sitecache-load-"))
    cache = createMemoryCache()
    pageCount = 2
    write({
      "main.js":
        'import a from "./a.md"\nimport b from "./b.md"\nimport count from "virtual:pages"\nexport default [a, b, count]\n',
      "a.md": "# Alpha\nFirst page WARN\n@include footer.txt\n",
      "b.md": "# Bravo\nSecond page\n",
      "footer.txt": "the footer\n",
    })
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  it("leaves `load` alone by default", async () => {
    await build(cache, {}, "default")
    const warm = await build(cache, {}, "default")
    expect(loads.sort()).toEqual(["\0virtual:pages", "a.md", "b.md"])
    expect(warm.report?.stats.documents).toBe(0)
  })

  it("names a bad `hooks`", () => {
    for (const hooks of [["lod"], [], "load", ["transform", "resolveId"]]) {
      expect(() => cacheTransforms(markdownPages() as Plugin, { hooks: hooks as never })).toThrow(/bad option `hooks`/)
    }
  })

  it("serves every file's `load` from the cache warm, with the uncached output, warnings and watch files", async () => {
    const reference = await build(undefined)
    const cold = await build(cache)
    expect(missed(cold)).toEqual(["a.md (load)", "b.md (load)"])
    const warm = await build(cache)
    expect(loads).toEqual(["\0virtual:pages"]) // a module from no file: never cached, never counted
    expect([warm.report?.hits, warm.report?.misses]).toEqual([2, 0])
    for (const b of [cold, warm]) {
      expect(b.code).toBe(reference.code)
      expect(b.warnings).toEqual(reference.warnings)
      expect(b.watchFiles).toEqual(reference.watchFiles)
    }
    expect(reference.watchFiles).toContain("footer.txt")
  })

  it("misses exactly the edited file, and a page whose included file changed", async () => {
    await build(cache)
    write({ "b.md": "# Bravo\nSecond page, edited\n" })
    const edited = await build(cache)
    expect(missed(edited)).toEqual(["b.md (load)"])
    expect(edited.code).toBe((await build(undefined)).code)
    write({ "footer.txt": "another footer\n" })
    const included = await build(cache)
    expect(missed(included)).toEqual(["a.md (load)"])
    expect(included.code).toContain("another footer")
    expect(included.code).toBe((await build(undefined)).code)
    // Back to the first text: its entry is still there.
    write({ "b.md": "# Bravo\nSecond page\n" })
    expect(missed(await build(cache))).toEqual([])
  })

  it("restores a `load` entry only in the shape it writes: a forged one is a miss, never a write through `__proto__`", async () => {
    const reference = await build(undefined)
    const cold = await build(cache)
    const key = Key.fromHex(cold.report?.stats.documentRecords.get(documentId({ path: "a.md", step: "load" }))?.key as string)
    expect(await cache.delete(key)).toBe(true)
    const forged = JSON.parse(
      `{"root": ${JSON.stringify(root)}, "code": "export default 1", "fields": {"meta": {"__proto__": {"polluted": "load"}}}}`,
    )
    // As forged (see handingBack: the default cache refuses own `__proto__` keys itself).
    const forging = handingBack(cache, key, { value: forged, ms: 1 })
    const warn = console.warn
    const warnings: string[] = []
    console.warn = (line: string) => warnings.push(line)
    let attacked: Build
    try {
      attacked = await build(forging)
    } finally {
      console.warn = warn
    }
    expect(attacked.code).toBe(reference.code)
    expect(attacked.report?.rejected).toBe(1)
    expect(warnings).toHaveLength(1)
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    expect((await build(cache)).report?.hits).toBe(2)
  })
})
