/**
 * `cacheTransforms` on real Rollup builds: a small plugin that turns `.txt`
 * files into modules, with the hook context calls the adapter must honour.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { BadOptionError, type Cache, createCache, createMemoryCache, readRuns } from "@sitecache/core"
import { type Plugin as RollupPlugin, rollup } from "rollup"
import type { Plugin } from "vite"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { type CacheTransformsOptions, cacheTransforms, relativeId, type TransformCacheReport } from "../src/index.js"

let root: string
const calls: string[] = []

/** `.txt` → `export default "TEXT"`, with directives: `@dep file`, `WARN`, `EMIT`, `META`, `FNMETA`, `STRING`, `MAP`, `PATH`. */
function shout(): RollupPlugin {
  return {
    name: "test-shout",
    async transform(code, id) {
      if (!id.endsWith(".txt")) return null
      calls.push(relativeId(id, root))
      let text = code
      for (const [, file] of code.matchAll(/^@dep (\S+)$/gm)) {
        const path = join(root, file as string)
        this.addWatchFile(path)
        text += await readFile(path, "utf8")
      }
      if (code.includes("WARN")) this.warn({ message: "shouting", code: "SHOUT" })
      if (code.includes("EMIT")) this.emitFile({ type: "asset", fileName: "emitted.txt", source: "x" })
      let out = `export default ${JSON.stringify(text.toUpperCase())}`
      if (code.includes("PATH")) out += `\nexport const from = ${JSON.stringify(id)}`
      if (code.includes("STRING")) return out
      if (code.includes("FNMETA")) return { code: out, map: null, meta: { shout: { later: () => 1 } } }
      if (code.includes("META")) return { code: out, map: null, meta: { shout: { loud: true } } }
      if (code.includes("MAP")) return { code: out, map: { version: 3, sources: [id], names: [], mappings: "AAAA" } }
      return { code: out, map: null }
    },
  }
}

function write(files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text)
}

interface Build {
  readonly report: TransformCacheReport
  readonly code: string
  readonly warnings: string[]
  readonly watchFiles: string[]
  readonly assets: string[]
}

async function build(
  cache: Cache,
  options: Partial<CacheTransformsOptions> = {},
  plugins: RollupPlugin[] = [shout()],
): Promise<Build> {
  let report: TransformCacheReport | undefined
  const warnings: string[] = []
  calls.length = 0
  const bundle = await rollup({
    input: join(root, "main.js"),
    plugins: cacheTransforms(plugins as Plugin[], {
      cache,
      root,
      log: false,
      onBuildEnd: (r) => {
        report = r
      },
      ...options,
    }) as RollupPlugin[],
    onLog: (level, log) => {
      if (level === "warn") warnings.push(`${log.plugin}: ${log.message}`)
    },
  })
  const { output } = await bundle.generate({ format: "es" })
  const watchFiles = bundle.watchFiles.map((file) => relativeId(file, root)).sort()
  await bundle.close()
  if (report === undefined) throw new Error("no report")
  return {
    report,
    code: output[0].code,
    warnings,
    watchFiles,
    assets: output.filter((item) => item.type === "asset").map((item) => item.fileName),
  }
}

const missed = (build: Build) =>
  [...build.report.stats.documentRecords]
    .filter(([, r]) => !r.hit)
    .map(([d]) => d)
    .sort()

describe("cacheTransforms as a Rollup plugin", () => {
  let cache: Cache
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "sitecache-rollup-"))
    cache = createMemoryCache()
    write({
      "main.js": 'import a from "./a.txt"\nimport b from "./b.txt"\nimport c from "./c.txt"\nexport default [a, b, c]\n',
      "a.txt": "alpha STRING\n",
      "b.txt": "bravo MAP\n",
      "c.txt": "charlie\n",
    })
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  it("returns the plugins with `transform` wrapped, and a `sitecache` plugin", () => {
    const plain: Plugin = { name: "no-transform", load: () => null }
    const object: Plugin = { name: "object-hook", transform: { order: "pre", filter: { id: /\.txt$/ }, handler: () => null } }
    const plugins = cacheTransforms([plain, [object]], { cache: createMemoryCache() })
    expect(plugins.map((p) => p.name)).toEqual(["no-transform", "object-hook", "sitecache"])
    expect(plugins[0]).toBe(plain)
    const hook = plugins[1]?.transform as { order: string; filter: unknown; handler: unknown }
    expect(hook.order).toBe("pre")
    expect(hook.filter).toEqual({ id: /\.txt$/ })
    expect(hook.handler).not.toBe((object.transform as { handler: unknown }).handler)
  })

  it("names a bad option when the plugins are wrapped", () => {
    expect(() => cacheTransforms(shout() as Plugin, { cacheConfig: { bogus: 1 } as never })).toThrow(/bad option `bogus`/)
    // A backend name is checked when the cache opens (any installed backend package may provide it); its type at once.
    expect(() => cacheTransforms(shout() as Plugin, { cacheConfig: { backend: 42 as never } })).toThrow(/bad option `backend`/)
    expect(() => cacheTransforms(shout() as Plugin, { include: 42 as never })).toThrow(/bad option `include`/)
    expect(() => cacheTransforms(shout() as Plugin, { version: {} as never })).toThrow(/bad option `version`/)
  })

  it("serves every transform from the cache on the second build, with the same output", async () => {
    const cold = await build(cache)
    expect(cold.report.misses).toBe(3)
    expect(calls.sort()).toEqual(["a.txt", "b.txt", "c.txt"])
    const warm = await build(cache)
    expect(calls).toEqual([])
    expect(warm.report.hits).toBe(3)
    expect(warm.report.misses).toBe(0)
    expect(warm.code).toBe(cold.code)
    expect(warm.report.line).toMatch(/^sitecache: 3 documents, 3 hits, 0 misses, 100\.0% hit rate/)
  })

  it("restores a string result as a string and a map as it was", async () => {
    const seen: unknown[] = []
    const spy: RollupPlugin = {
      name: "spy",
      transform(code, id) {
        if (id.endsWith(".txt")) seen.push(code)
        return null
      },
    }
    await build(cache, {}, [shout(), spy])
    const first = [...seen]
    seen.length = 0
    const warm = await build(cache, {}, [shout(), spy])
    expect(warm.report.hits).toBe(3)
    expect([...seen].sort()).toEqual([...first].sort())
    // Rollup merges the returned maps into the chunk's map: the same chunk map, cold and warm, shows the maps came back.
    const withMaps = async (mapCache: Cache) => {
      const bundle = await rollup({
        input: join(root, "main.js"),
        plugins: cacheTransforms([shout()] as Plugin[], { cache: mapCache, root, log: false }) as RollupPlugin[],
        onLog: () => {},
      })
      const { output } = await bundle.generate({ format: "es", sourcemap: true })
      await bundle.close()
      return output[0].map?.toString()
    }
    const mapCache = createMemoryCache()
    const coldMap = await withMaps(mapCache)
    expect(coldMap).toContain("b.txt")
    expect(await withMaps(mapCache)).toBe(coldMap)
    expect((await mapCache.inspect()).hits).toBe(3)
  })

  it("serves a checkout in another directory, with its paths", async () => {
    write({ "main.js": 'export { from } from "./c.txt"\n', "c.txt": "charlie PATH\n" })
    const generate = async (at: string) => {
      const bundle = await rollup({
        input: join(at, "main.js"),
        plugins: cacheTransforms([shout()] as Plugin[], { cache, root: at, log: false }) as RollupPlugin[],
      })
      const { output } = await bundle.generate({ format: "es" })
      await bundle.close()
      return output[0].code
    }
    const first = root
    expect(await generate(first)).toContain(JSON.stringify(join(first, "c.txt")))
    root = mkdtempSync(join(tmpdir(), "sitecache-rollup-moved-"))
    cpSync(first, root, { recursive: true })
    rmSync(first, { recursive: true, force: true })
    calls.length = 0
    const moved = await generate(root)
    expect(calls).toEqual([])
    expect(moved).toContain(JSON.stringify(join(root, "c.txt")))
    expect(moved).not.toContain(first)
  })

  it("replays warnings on a hit", async () => {
    write({ "c.txt": "charlie WARN\n" })
    const cold = await build(cache)
    expect(cold.warnings).toHaveLength(1)
    expect(cold.warnings[0]).toMatch(/^test-shout: .*c\.txt: shouting$/)
    const warm = await build(cache)
    expect(warm.report.hits).toBe(3)
    expect(warm.warnings).toEqual(cold.warnings)
  })

  it("makes files registered with `this.addWatchFile` dependencies: a change misses exactly their dependents", async () => {
    write({ "shared.md": "one\n", "b.txt": "bravo\n@dep shared.md\n", "c.txt": "charlie\n@dep shared.md\n" })
    const cold = await build(cache)
    expect(cold.watchFiles).toContain("shared.md")
    const warm = await build(cache)
    expect(warm.report.hits).toBe(3)
    expect(warm.watchFiles).toContain("shared.md")
    write({ "shared.md": "two\n" })
    const changed = await build(cache)
    expect(missed(changed)).toEqual(["b.txt", "c.txt"])
    expect(changed.code).toContain("TWO")
    expect((await build(cache)).report.misses).toBe(0)
  })

  it("does not cache a transform that emits a file, and says why", async () => {
    write({ "c.txt": "charlie EMIT\n" })
    const cold = await build(cache)
    expect(cold.assets).toEqual(["emitted.txt"])
    expect(cold.report.uncacheable).toEqual({ "this.emitFile": 1 })
    expect(cold.report.line).toContain("1 uncacheable (this.emitFile: 1)")
    const warm = await build(cache)
    expect(warm.assets).toEqual(["emitted.txt"])
    expect(calls).toEqual(["c.txt"])
    expect(warm.report.uncacheable).toEqual({ "this.emitFile": 1 })
  })

  it("caches plain `meta` and refuses meta it cannot restore", async () => {
    write({ "b.txt": "bravo META\n", "c.txt": "charlie FNMETA\n" })
    const metas: unknown[] = []
    const reader: RollupPlugin = {
      name: "meta-reader",
      moduleParsed(info) {
        if (info.id.endsWith("b.txt")) metas.push(info.meta.shout)
      },
    }
    const cold = await build(cache, {}, [shout(), reader])
    expect(cold.report.uncacheable).toEqual({ meta: 1 })
    const warm = await build(cache, {}, [shout(), reader])
    expect(calls).toEqual(["c.txt"])
    expect(metas).toEqual([{ loud: true }, { loud: true }])
    expect(warm.report.hits).toBe(2)
  })

  it("misses everything when the plugin's options or `version` change", async () => {
    await build(cache, { pluginOptions: { loud: 1 } })
    expect((await build(cache, { pluginOptions: { loud: 1 } })).report.hits).toBe(3)
    expect((await build(cache, { pluginOptions: { loud: 2 } })).report.hits).toBe(0)
    expect((await build(cache, { pluginOptions: { loud: 2 }, version: "2" })).report.hits).toBe(0)
  })

  it("caches only included, not excluded ids", async () => {
    const report = (await build(cache, { include: "*.txt", exclude: [/c\.txt$/] })).report
    expect([...report.stats.documentRecords.keys()].sort()).toEqual(["a.txt", "b.txt"])
  })

  it("filters ids as Vite's `createFilter` does: globs resolved against the root, RegExps on the whole id", async () => {
    mkdirSync(join(root, "notes"))
    write({
      "main.js": 'import a from "./a.txt"\nimport n from "./notes/n.txt"\nexport default [a, n]\n',
      "notes/n.txt": "november\n",
    })
    const cached = async (options: Partial<CacheTransformsOptions>) =>
      [...(await build(createMemoryCache(), options)).report.stats.documentRecords.keys()].sort()
    expect(await cached({ include: "*.txt" })).toEqual(["a.txt"])
    expect(await cached({ include: "notes/*.txt" })).toEqual(["notes/n.txt"])
    expect(await cached({ include: "**/*.txt" })).toEqual(["a.txt", "notes/n.txt"])
    expect(await cached({ include: /\.txt$/, exclude: "notes/**" })).toEqual(["a.txt"])
    expect(() => cacheTransforms([shout()] as Plugin[], { include: [/x/, (() => true) as never] })).toThrow(BadOptionError)
    expect(() => cacheTransforms([shout()] as Plugin[], { include: [/x/, (() => true) as never] })).toThrow(/`include\[1\]`/)
    expect(() => cacheTransforms([shout()] as Plugin[], { exclude: "" })).toThrow(/`exclude`/)
  })

  it("does not record a build that failed, and closes the cache it opened; the next build records as usual", async () => {
    const failing: RollupPlugin = {
      name: "test-fail",
      transform(_code, id) {
        if (id.endsWith("c.txt")) throw new Error("cannot shout c")
        return null
      },
    }
    const cacheConfig = { backend: "fs", dir: join(root, "cache") } as const
    const reports: TransformCacheReport[] = []
    const options = { cacheConfig, root, log: false, onBuildEnd: (r: TransformCacheReport) => void reports.push(r) } as const
    await expect(
      rollup({
        input: join(root, "main.js"),
        plugins: cacheTransforms([shout(), failing] as Plugin[], options) as RollupPlugin[],
      }),
    ).rejects.toThrow(/cannot shout c/)
    expect(reports).toEqual([])
    const opened = await createCache({ ...cacheConfig, root })
    expect(await readRuns(opened, "vite")).toEqual([])
    await opened.close()
    const bundle = await rollup({
      input: join(root, "main.js"),
      plugins: cacheTransforms([shout()] as Plugin[], options) as RollupPlugin[],
    })
    await bundle.close()
    expect(reports.map((report) => report.run?.documents)).toEqual([3])
  })

  it("neither reads nor writes with SITECACHE=off", async () => {
    const off = await build(cache, { env: { SITECACHE: "off" } })
    expect(off.report.enabled).toBe(false)
    const info = await cache.inspect()
    expect([info.hits, info.misses, info.puts, info.entryCount]).toEqual([0, 0, 0, 0])
    expect(calls.sort()).toEqual(["a.txt", "b.txt", "c.txt"])
  })
})
