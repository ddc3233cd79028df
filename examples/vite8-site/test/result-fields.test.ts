/**
 * Rolldown reads fields of a transform result that Rollup has no notion of:
 * `moduleType` tells it how to parse the code. A hit must give them back, or
 * the warm build parses the module as something else. Here a plugin turns
 * `.data` files into JSON text with `moduleType: "json"`: lost on a hit,
 * Rolldown would parse that text as JavaScript. Once in `transform`, once in
 * a wrapped `load` (keyed by the file's bytes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createMemoryCache } from "@sitecache/core"
import { cacheTransforms, type TransformCacheReport } from "@sitecache/vite"
import { build, type Plugin } from "vite"
import { afterAll, describe, expect, it } from "vitest"

const root = mkdtempSync(join(tmpdir(), "sitecache-vite8-fields-"))

function toJson(code: string): string {
  const entries = code
    .trim()
    .split("\n")
    .map((line) => line.split("="))
  return JSON.stringify(Object.fromEntries(entries))
}

/** `.data` files as JSON modules, made in `transform` or in `load`. */
function dataAsJson(hook: "transform" | "load"): Plugin {
  if (hook === "load") {
    return {
      name: "test-data-as-json",
      load(id) {
        if (!id.endsWith(".data")) return null
        return { code: toJson(readFileSync(id, "utf8")), moduleType: "json" }
      },
    }
  }
  return {
    name: "test-data-as-json",
    transform(code, id) {
      if (!id.endsWith(".data")) return null
      return { code: toJson(code), moduleType: "json", map: null }
    },
  }
}

async function buildOnce(
  cache: ReturnType<typeof createMemoryCache> | undefined,
  outDir: string,
  hook: "transform" | "load" = "transform",
) {
  let report: TransformCacheReport | undefined
  // @sitecache/vite is typed with the workspace's Vite 7 types (a project has one vite, so its own types).
  const plugins =
    cache === undefined
      ? [dataAsJson(hook)]
      : (cacheTransforms(dataAsJson(hook) as never, {
          cache,
          log: false,
          hooks: [hook],
          onBuildEnd: (r) => void (report = r),
        }) as unknown as Plugin[])
  await build({
    root,
    configFile: false,
    logLevel: "silent",
    plugins,
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      lib: { entry: join(root, "main.js"), formats: ["es"], fileName: () => "main.js" },
    },
  })
  return { report, code: readFileSync(join(root, outDir, "main.js"), "utf8") }
}

describe("@sitecache/vite on Vite 8: result fields Rolldown reads", () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it("gives `moduleType` back on a hit", async () => {
    writeFileSync(join(root, "main.js"), 'import settings from "./settings.data"\nexport const theme = settings.theme\n')
    writeFileSync(join(root, "settings.data"), "theme=dark\nsize=12\n")
    const reference = await buildOnce(undefined, "dist-uncached")
    expect(reference.code).toContain("dark")
    const cache = createMemoryCache()
    const cold = await buildOnce(cache, "dist-cold")
    const warm = await buildOnce(cache, "dist-warm")
    expect([cold.report?.misses, warm.report?.hits]).toEqual([1, 1])
    expect(cold.code).toBe(reference.code)
    expect(warm.code).toBe(reference.code)
  })

  it("gives `moduleType` back on a hit of a wrapped `load`, and misses when the file changes", async () => {
    writeFileSync(join(root, "settings.data"), "theme=light\nsize=14\n")
    const reference = await buildOnce(undefined, "dist-uncached", "load")
    expect(reference.code).toContain("light")
    const cache = createMemoryCache()
    const cold = await buildOnce(cache, "dist-cold", "load")
    const warm = await buildOnce(cache, "dist-warm", "load")
    expect([cold.report?.misses, warm.report?.hits]).toEqual([1, 1])
    expect(warm.report?.line).toMatch(/^sitecache: 1 documents, 1 hits/)
    expect(cold.code).toBe(reference.code)
    expect(warm.code).toBe(reference.code)
    writeFileSync(join(root, "settings.data"), "theme=sepia\nsize=14\n")
    const edited = await buildOnce(cache, "dist-edited", "load")
    expect(edited.report?.misses).toBe(1)
    expect(edited.code).toContain("sepia")
    expect(edited.code).toBe((await buildOnce(undefined, "dist-uncached-edited", "load")).code)
  })
})
