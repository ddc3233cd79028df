/**
 * Plugin options and hooks that cannot be fingerprinted soundly, on real
 * Rollup builds: the transforms run every time, are never stored, and the
 * summary names the plugin and why.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createMemoryCache } from "@sitecache/core"
import { type Plugin as RollupPlugin, rollup } from "rollup"
import type { Plugin } from "vite"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type CacheTransformsOptions, cacheTransforms, type TransformCacheReport } from "../src/index.js"

let root: string
let transforms = 0

function upper(text: string): string {
  return text.toUpperCase()
}

/** `.txt` → a module exporting the text, through `options.format`. */
function textPlugin(options: { format: (text: string) => string }, name = "test-text"): RollupPlugin {
  return {
    name,
    transform(code, id) {
      if (!id.endsWith(".txt")) return null
      transforms++
      return { code: `export default ${JSON.stringify(options.format(code))}`, map: null }
    },
  }
}

async function build(
  plugin: RollupPlugin,
  options: Partial<CacheTransformsOptions>,
): Promise<{ report: TransformCacheReport; code: string }> {
  let report: TransformCacheReport | undefined
  const bundle = await rollup({
    input: join(root, "main.js"),
    plugins: cacheTransforms(plugin as Plugin, {
      root,
      log: false,
      onBuildEnd: (r) => {
        report = r
      },
      ...options,
    }) as RollupPlugin[],
  })
  const { output } = await bundle.generate({ format: "es" })
  await bundle.close()
  if (report === undefined) throw new Error("no report")
  return { report, code: output[0].code }
}

describe("cacheTransforms with what cannot be fingerprinted", () => {
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "sitecache-vite-fingerprint-"))
    writeFileSync(join(root, "main.js"), 'import a from "./a.txt"\nimport b from "./b.txt"\nexport default [a, b]\n')
    writeFileSync(join(root, "a.txt"), "alpha")
    writeFileSync(join(root, "b.txt"), "bravo")
  })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it("runs a plugin whose options hold a bound function on every build, and says which plugin and why", async () => {
    const cache = createMemoryCache()
    const pluginOptions = { format: upper.bind(null) }
    transforms = 0
    for (let i = 0; i < 2; i++) {
      const { report, code } = await build(textPlugin(pluginOptions), { cache, pluginOptions })
      expect(code).toContain('"ALPHA"')
      expect(report).toMatchObject({ hits: 0, misses: 2 })
      expect(report.line).toContain(
        "2 uncacheable (vite plugin test-text: option `format` is a bound function (bound upper): what it calls cannot be seen: 2)",
      )
    }
    expect(transforms).toBe(4)
  })

  it("runs a plugin of no known package whose hook is a bound function on every build", async () => {
    const cache = createMemoryCache()
    const plugin = textPlugin({ format: upper }, "test-bound-hook")
    const hook = plugin.transform as (...args: unknown[]) => unknown
    plugin.transform = hook.bind(plugin) as NonNullable<RollupPlugin["transform"]>
    const { report } = await build(plugin, { cache })
    expect(report.line).toContain("vite plugin test-bound-hook: hook `transform` is a bound function (bound transform)")
    expect((await build(plugin, { cache })).report.hits).toBe(0)
  })

  it("caches the same plugin when its options are plain functions", async () => {
    const cache = createMemoryCache()
    const pluginOptions = { format: upper }
    await build(textPlugin(pluginOptions), { cache, pluginOptions })
    const warm = await build(textPlugin(pluginOptions), { cache, pluginOptions })
    expect(warm.report).toMatchObject({ hits: 2, misses: 0, uncacheable: {} })
  })
})
