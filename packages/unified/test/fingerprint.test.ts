import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { BuildStats, createMemoryCache, Key } from "@sitecache/core"
import rehypeStringify from "rehype-stringify"
import remarkGfm from "remark-gfm"
import remarkParse from "remark-parse"
import remarkRehype from "remark-rehype"
import { unified } from "unified"
import { VFile } from "vfile"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { cached, cacheStatus, PackageResolver, pipeline } from "../src/index.js"
import { fakeProject, PACKAGE_ROOT, removeDir, tempDir } from "./helpers.js"

let dir: string
beforeEach(async () => {
  dir = await tempDir()
})
afterEach(async () => {
  await removeDir(dir)
})

const base = () => unified().use(remarkParse).use(remarkGfm).use(remarkRehype).use(rehypeStringify)

describe("the fingerprint of a processor", () => {
  it("names each plugin by its package and installed version", async () => {
    const fingerprint = await cached(base(), { cache: createMemoryCache(), root: PACKAGE_ROOT }).fingerprint()
    expect(fingerprint.plugins.map((plugin) => plugin.label)).toEqual([
      "remark-parse@11.0.0",
      "remark-gfm@4.0.1",
      "remark-rehype@11.1.2",
      "rehype-stringify@10.0.1",
    ])
    expect(Object.keys(fingerprint.parts)).toEqual([
      "plugin:remark-parse@11.0.0",
      "plugin:remark-gfm@4.0.1",
      "plugin:remark-rehype@11.1.2",
      "plugin:rehype-stringify@10.0.1",
    ])
  })

  it("is the same for the same processor built twice, and for its pipeline description", async () => {
    const cache = createMemoryCache()
    const a = await cached(base(), { cache, root: PACKAGE_ROOT }).fingerprint()
    const b = await cached(base(), { cache, root: PACKAGE_ROOT }).fingerprint()
    const described = await cached(
      pipeline(["remark-parse", "remark-gfm", "remark-rehype", "rehype-stringify"], { root: PACKAGE_ROOT }),
      {
        cache,
      },
    ).fingerprint()
    expect(b).toEqual(a)
    expect(described.plugins).toEqual(a.plugins)
  })

  it("changes with a plugin's options (order of properties aside), and only that plugin's part changes", async () => {
    const fingerprint = (options: Record<string, unknown>) =>
      cached(unified().use(remarkParse).use(remarkGfm, options).use(remarkRehype).use(rehypeStringify), {
        cache: createMemoryCache(),
        root: PACKAGE_ROOT,
      }).fingerprint()
    const a = await fingerprint({ singleTilde: false, tablePipeAlign: true })
    const reordered = await fingerprint({ tablePipeAlign: true, singleTilde: false })
    const changed = await fingerprint({ singleTilde: true, tablePipeAlign: true })
    expect(reordered.pipeline).toBe(a.pipeline)
    expect(changed.pipeline).not.toBe(a.pipeline)
    const differing = Object.keys(a.parts).filter((name) => a.parts[name] !== changed.parts[name])
    expect(differing).toEqual(["plugin:remark-gfm@4.0.1"])
  })

  it("keys function-valued options by their source", async () => {
    const fingerprint = (handler: (value: string) => string) =>
      cached(
        unified()
          .use(remarkParse)
          .use(remarkRehype, { handlers: { custom: handler } } as never)
          .use(rehypeStringify),
        {
          cache: createMemoryCache(),
          root: PACKAGE_ROOT,
        },
      ).fingerprint()
    const a = await fingerprint((value) => value.toUpperCase())
    const same = await fingerprint((value) => value.toUpperCase())
    const other = await fingerprint((value) => value.toLowerCase())
    expect(same.pipeline).toBe(a.pipeline)
    expect(other.pipeline).not.toBe(a.pipeline)
  })

  it("hashes the source of plugins that come from no package", async () => {
    const fingerprint = (plugin: () => void) =>
      cached(base().use(plugin), { cache: createMemoryCache(), root: PACKAGE_ROOT }).fingerprint()
    const a = await fingerprint(function localPlugin() {
      return () => undefined
    })
    const edited = await fingerprint(function localPlugin() {
      return () => null
    })
    expect(a.plugins.at(-1)?.label).toBe("function:localPlugin")
    expect(edited.pipeline).not.toBe(a.pipeline)
  })

  it("finds a plugin among the project's unified packages by reading them, and imports none for a function of its own", async () => {
    const project = await fakeProject(dir)
    const modules = join(dir, "node_modules")
    // Two more unified packages of the project: one whose default export is a plugin under another name (defined in
    // a module its entry re-exports), one that records being imported.
    const { mkdir } = await import("node:fs/promises")
    await mkdir(join(modules, "remark-alpha", "lib"), { recursive: true })
    await writeFile(
      join(modules, "remark-alpha", "package.json"),
      JSON.stringify({ name: "remark-alpha", version: "2.3.4", type: "module", exports: "./index.js" }),
    )
    await writeFile(join(modules, "remark-alpha", "index.js"), 'export { default } from "./lib/plugin.js"\n')
    await writeFile(
      join(modules, "remark-alpha", "lib", "plugin.js"),
      "export default function somethingElse() {\n  return (tree) => { tree.alpha = true }\n}\n",
    )
    await mkdir(join(modules, "remark-beacon"), { recursive: true })
    await writeFile(
      join(modules, "remark-beacon", "package.json"),
      JSON.stringify({ name: "remark-beacon", version: "1.0.0", type: "module", exports: "./index.js" }),
    )
    await writeFile(
      join(modules, "remark-beacon", "index.js"),
      "globalThis.__remarkBeaconImported = true\nexport default function remarkBeacon() {}\n",
    )
    await writeFile(
      join(dir, "package.json"),
      JSON.stringify({
        name: "fake-project",
        private: true,
        type: "module",
        dependencies: { "remark-stamp": "1.0.0", "remark-alpha": "2.3.4", "remark-beacon": "1.0.0" },
      }),
    )
    const { default: somethingElse } = (await import(pathToFileURL(join(modules, "remark-alpha", "index.js")).href)) as {
      default: () => void
    }
    const fingerprint = (plugin: () => void) =>
      cached(unified().use(remarkParse).use(plugin).use(remarkRehype).use(rehypeStringify), {
        cache: createMemoryCache(),
        root: project.root,
      }).fingerprint()
    expect((await fingerprint(somethingElse)).plugins[1]?.label).toBe("remark-alpha@2.3.4")
    const local = await fingerprint(function localPlugin() {
      return () => undefined
    })
    expect(local.plugins[1]?.label).toBe("function:localPlugin")
    expect((globalThis as { __remarkBeaconImported?: boolean }).__remarkBeaconImported).toBeUndefined()
  })

  it("changes with the processor's settings", async () => {
    const a = await cached(base().data("settings", { bullet: "*" } as never), {
      cache: createMemoryCache(),
      root: PACKAGE_ROOT,
    }).fingerprint()
    const b = await cached(base().data("settings", { bullet: "-" } as never), {
      cache: createMemoryCache(),
      root: PACKAGE_ROOT,
    }).fingerprint()
    expect(a.pipeline).not.toBe(b.pipeline)
  })

  it("an upgraded plugin (a new installed version) makes every document miss", async () => {
    const project = await fakeProject(dir)
    const { default: remarkStamp } = (await import(
      pathToFileURL(join(dir, "node_modules", "remark-stamp", "index.js")).href
    )) as {
      default: () => void
    }
    const cache = createMemoryCache()
    const build = async () => {
      const stats = new BuildStats()
      const processor = cached(unified().use(remarkParse).use(remarkStamp).use(remarkRehype).use(rehypeStringify), {
        cache,
        stats,
        root: project.root,
      })
      for (const name of ["a", "b", "c"])
        await processor.process(new VFile({ path: join(dir, `${name}.md`), value: `# ${name}` }))
      return { stats, fingerprint: await processor.fingerprint() }
    }
    const first = await build()
    expect(first.fingerprint.plugins[1]?.label).toBe("remark-stamp@1.0.0")
    const again = await build()
    await project.setStampVersion("1.0.1")
    const upgraded = await build()
    expect([first.stats.misses, again.stats.hits, upgraded.stats.misses]).toEqual([3, 3, 3])
    expect(upgraded.fingerprint.plugins[1]?.label).toBe("remark-stamp@1.0.1")
    expect(Object.keys(upgraded.stats.documentRecords.get("a.md")?.parts ?? {})).toContain("plugin:remark-stamp@1.0.1")
  })

  it("an upgrade of a package a plugin depends on changes the plugin's fingerprint too", async () => {
    class BumpedResolver extends PackageResolver {
      override info(packageDir: string) {
        const info = super.info(packageDir)
        return info?.name === "micromark-extension-gfm-table" ? { ...info, version: `${info.version}-patched` } : info
      }
    }
    const a = await cached(base(), { cache: createMemoryCache(), root: PACKAGE_ROOT }).fingerprint()
    const b = await cached(base(), {
      cache: createMemoryCache(),
      root: PACKAGE_ROOT,
      resolver: new BumpedResolver(),
    }).fingerprint()
    expect(b.plugins[1]?.label).toBe("remark-gfm@4.0.1")
    expect(b.plugins[1]?.hash).not.toBe(a.plugins[1]?.hash)
    expect(b.plugins[0]?.hash).toBe(a.plugins[0]?.hash)
  })
})

describe("pipeline([...])", () => {
  it("is fingerprinted without loading anything, and loads on the first miss only", async () => {
    const cache = createMemoryCache()
    const describe = () =>
      pipeline(["remark-parse", ["remark-gfm", {}], "remark-rehype", "rehype-stringify"], { root: PACKAGE_ROOT })
    const cold = cached(describe(), { cache, root: dir })
    await cold.fingerprint()
    expect(cold.loaded).toBe(false)
    const file = await cold.process(new VFile({ path: join(dir, "a.md"), value: "| a |\n| - |\n| b |" }))
    expect(cold.loaded).toBe(true)
    expect(String(file)).toContain("<table>")
    const warm = cached(describe(), { cache, root: dir })
    const again = await warm.process(new VFile({ path: join(dir, "a.md"), value: "| a |\n| - |\n| b |" }))
    expect(cacheStatus(again)?.hit).toBe(true)
    expect(warm.loaded).toBe(false)
    expect(String(again)).toBe(String(file))
  })

  it("a hit reports the time processing took when it ran (the time saved)", async () => {
    const stats = new BuildStats()
    const processor = cached(pipeline(["remark-parse", "remark-rehype", "rehype-stringify"], { root: PACKAGE_ROOT }), {
      cache: createMemoryCache(),
      root: dir,
      stats,
    })
    await processor.process("# a")
    const hit = await processor.process("# a")
    expect(cacheStatus(hit)?.hit).toBe(true)
    expect(cacheStatus(hit)?.ms).toBe(stats.savedMs)
  })

  it("fingerprints local plugin modules by their source and the local modules they import", async () => {
    const plugin = join(dir, "plugin.js")
    const helper = join(dir, "helper.js")
    await writeFile(
      plugin,
      'import { word } from "./helper.js"\nexport default function stamp() { return (tree, file) => { file.data.word = word } }\n',
    )
    await writeFile(helper, 'export const word = "one"\n')
    const cache = createMemoryCache()
    const describe = () =>
      pipeline(["remark-parse", [pathToFileURL(plugin)], "remark-rehype", "rehype-stringify"], { root: PACKAGE_ROOT })
    const a = await cached(describe(), { cache }).fingerprint()
    await writeFile(helper, 'export const word = "two"\n')
    const b = await cached(describe(), { cache }).fingerprint()
    expect(a.plugins[1]?.label).toMatch(/^local:.*plugin\.js$/)
    expect(b.plugins[1]?.hash).not.toBe(a.plugins[1]?.hash)
    expect(b.plugins[0]).toEqual(a.plugins[0])
  })

  it("names a missing plugin package in its error", async () => {
    const processor = cached(pipeline(["remark-parse", "remark-nonexistent"], { root: PACKAGE_ROOT }), {
      cache: createMemoryCache(),
    })
    await expect(processor.fingerprint()).rejects.toThrow(/`remark-nonexistent`/)
    expect(() => pipeline([42 as never])).toThrow(/bad option `plugins\[0\]`/)
  })
})

describe("a plugin whose options cannot be fingerprinted soundly", () => {
  const bound = function render(value: string) {
    return value
  }.bind(null)

  it("makes the processor uncacheable, naming the plugin and the option", async () => {
    const processor = cached(
      unified()
        .use(remarkParse)
        .use(remarkRehype, { handlers: { custom: bound } } as never)
        .use(rehypeStringify),
      { cache: createMemoryCache(), root: PACKAGE_ROOT },
    )
    const fingerprint = await processor.fingerprint()
    expect(fingerprint.uncacheable).toEqual({
      step: "plugin remark-rehype@11.1.2",
      reason: "option `handlers.custom` is a bound function (bound render): what it calls cannot be seen",
    })
    expect(fingerprint.plugins.find((plugin) => plugin.label === "remark-rehype@11.1.2")?.uncacheable).toMatch(/bound function/)
  })

  it("processes every document on every build, never stores one, and says which plugin and why", async () => {
    const cache = createMemoryCache()
    let runs = 0
    const counting = () => () => {
      runs++
    }
    const build = async () => {
      const stats = new BuildStats()
      const processor = cached(
        unified()
          .use(remarkParse)
          .use(counting)
          .use(remarkRehype, { handlers: { custom: bound } } as never)
          .use(rehypeStringify),
        { cache, root: PACKAGE_ROOT, stats },
      )
      const file = await processor.process(new VFile({ path: join(PACKAGE_ROOT, "doc.md"), value: "# Hi" }))
      return { file, stats }
    }
    const first = await build()
    const second = await build()
    expect(runs).toBe(2)
    expect(String(second.file)).toBe("<h1>Hi</h1>")
    expect(await cache.has(Key.fromHex(cacheStatus(second.file)?.key as string))).toBe(false)
    expect(cacheStatus(second.file)).toMatchObject({
      hit: false,
      uncacheable:
        "plugin remark-rehype@11.1.2: option `handlers.custom` is a bound function (bound render): what it calls cannot be seen",
    })
    expect(second.stats.summary()).toContain(
      "1 uncacheable (plugin remark-rehype@11.1.2: option `handlers.custom` is a bound function (bound render): what it calls cannot be seen: 1)",
    )
    expect(second.stats.documentRecords.get("doc.md")?.uncacheable?.step).toBe("plugin remark-rehype@11.1.2")
    expect(first.stats.misses).toBe(1)
  })

  it("makes a document uncacheable when the data set on its file before processing cannot be fingerprinted", async () => {
    const cache = createMemoryCache()
    const processor = cached(base(), { cache, root: PACKAGE_ROOT })
    const file = new VFile({ path: join(PACKAGE_ROOT, "doc.md"), value: "# Hi" })
    file.data.render = bound
    await processor.process(file)
    expect(cacheStatus(file)?.uncacheable).toBe(
      "input `file.data.render` is a bound function (bound render): what it calls cannot be seen",
    )
    expect(await cache.has(Key.fromHex(cacheStatus(file)?.key as string))).toBe(false)
  })

  it("keeps a plugin with a self-referencing option, functions and a class instance with plain data cacheable", async () => {
    class Theme {
      name = "dark"
      colors = { background: "#000" }
    }
    const options: Record<string, unknown> = { theme: new Theme(), filter: (node: unknown) => node !== null }
    options.self = options
    const plugin = Object.assign(function remarkOwn(_options?: unknown) {}, { defaults: options })
    ;(plugin as unknown as { default: unknown }).default = plugin
    const fingerprint = async () =>
      cached(base().use(plugin, options), { cache: createMemoryCache(), root: PACKAGE_ROOT }).fingerprint()
    const first = await fingerprint()
    expect(first.uncacheable).toBeUndefined()
    expect((await fingerprint()).pipeline).toBe(first.pipeline)
  })
})

describe("what is remembered of installed packages between builds", () => {
  it("is reused while the packages are unchanged, and read again when one changes", async () => {
    const project = await fakeProject(dir)
    const cache = createMemoryCache()
    const describePipeline = () =>
      pipeline(["remark-parse", "remark-stamp", "remark-rehype", "rehype-stringify"], { root: project.root })
    const first = await cached(describePipeline(), { cache, root: project.root }).fingerprint()
    const second = await cached(describePipeline(), { cache, root: project.root }).fingerprint()
    expect(second).toEqual(first)
    await project.setStampVersion("2.0.0")
    const third = await cached(describePipeline(), { cache, root: project.root }).fingerprint()
    expect(third.plugins[1]?.label).toBe("remark-stamp@2.0.0")
    expect(third.plugins[1]?.hash).not.toBe(first.plugins[1]?.hash)
    expect(third.plugins[0]).toEqual(first.plugins[0])
  })
})
