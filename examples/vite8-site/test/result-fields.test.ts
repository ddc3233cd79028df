/**
 * Rolldown reads fields of a transform result that Rollup has no notion of:
 * `moduleType` tells it how to parse the code. A hit must give them back, or
 * the warm build parses the module as something else. Here a plugin turns
 * `.data` files into JSON text with `moduleType: "json"`: lost on a hit,
 * Rolldown would parse that text as JavaScript.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createMemoryCache } from "@sitecache/core"
import { cacheTransforms, type TransformCacheReport } from "@sitecache/vite"
import { build, type Plugin } from "vite"
import { afterAll, describe, expect, it } from "vitest"

const root = mkdtempSync(join(tmpdir(), "sitecache-vite8-fields-"))

function dataAsJson(): Plugin {
  return {
    name: "test-data-as-json",
    transform(code, id) {
      if (!id.endsWith(".data")) return null
      const entries = code
        .trim()
        .split("\n")
        .map((line) => line.split("="))
      return { code: JSON.stringify(Object.fromEntries(entries)), moduleType: "json", map: null }
    },
  }
}

async function buildOnce(cache: ReturnType<typeof createMemoryCache> | undefined, outDir: string) {
  let report: TransformCacheReport | undefined
  // @sitecache/vite is typed with the workspace's Vite 7 types (a project has one vite, so its own types).
  const plugins =
    cache === undefined
      ? [dataAsJson()]
      : (cacheTransforms(dataAsJson() as never, {
          cache,
          log: false,
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
})
