/**
 * Fingerprints of Eleventy's own plugin objects (which crashed the first
 * version: `HtmlBasePlugin.default === HtmlBasePlugin`), and a plugin whose
 * options cannot be fingerprinted: a real build, uncacheable, says so.
 */
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import Eleventy from "@11ty/eleventy"
import { createMemoryCache, fingerprint, Key } from "@sitecache/core"
import { afterAll, describe, expect, it } from "vitest"
import { type EleventyCacheReport, sitecache } from "../src/index.js"

const require = createRequire(import.meta.url)
const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url))
const PLUGINS = ["HtmlBasePlugin", "I18nPlugin", "RenderPlugin", "InputPathToUrlTransformPlugin", "IdAttributePlugin"]

/** Run an ES module script in a new Node.js process from this package (TypeScript through tsx); resolves with its stdout. */
function runNode(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [
        "--conditions=@sitecache/source",
        "--import",
        pathToFileURL(require.resolve("tsx")).href,
        "--input-type=module",
        "--eval",
        script,
      ],
      { cwd: PACKAGE_ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(Object.assign(error, { stderr })) : resolve(stdout)),
    )
    child.stdin?.end()
  })
}

describe("fingerprints of Eleventy's own plugins", () => {
  it("finish, soundly, stably, in bounded work, with the same keys in another process", async () => {
    const eleventy = (await import("@11ty/eleventy")) as unknown as Record<string, unknown>
    const keys: Record<string, string> = {}
    for (const name of PLUGINS) {
      const plugin = eleventy[name]
      expect(typeof plugin, name).toBe("function")
      const print = fingerprint(plugin)
      expect(print.unsound, name).toEqual([])
      expect(fingerprint(plugin).key.hex, name).toBe(print.key.hex)
      expect(print.nodes, name).toBeLessThan(5000)
      keys[name] = print.key.hex
    }
    expect((eleventy.HtmlBasePlugin as { default?: unknown }).default).toBe(eleventy.HtmlBasePlugin)
    const output = await runNode(`
      const { fingerprint } = await import(${JSON.stringify(new URL("../../core/src/index.ts", import.meta.url).href)})
      const eleventy = await import("@11ty/eleventy")
      const keys = {}
      for (const name of ${JSON.stringify(PLUGINS)}) keys[name] = fingerprint(eleventy[name]).key.hex
      process.stdout.write(JSON.stringify(keys))
    `)
    expect(JSON.parse(output)).toEqual(keys)
  })
})

describe("an Eleventy plugin whose options cannot be fingerprinted", () => {
  const root = mkdtempSync(join(tmpdir(), "sitecache-eleventy-fingerprint-"))
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  writeFileSync(join(root, "index.md"), "# Hello\n\nA page.\n")

  function shout(text: string): string {
    return text.toUpperCase()
  }
  /** A plugin with a bound function among its options: what it does cannot be seen. */
  function shoutPlugin(eleventyConfig: { addFilter(name: string, filter: unknown): void }, options: { shout: unknown }) {
    eleventyConfig.addFilter("shout", options.shout)
  }

  async function build(cache: ReturnType<typeof createMemoryCache>): Promise<EleventyCacheReport> {
    let report: EleventyCacheReport | undefined
    const eleventy = new Eleventy(root, join(root, "_site"), {
      quietMode: true,
      config(eleventyConfig: never) {
        const config = eleventyConfig as { addPlugin(plugin: unknown, options?: unknown): void }
        config.addPlugin(shoutPlugin, { shout: shout.bind(null) })
        config.addPlugin(sitecache, {
          cache,
          root,
          log: false,
          onBuildEnd: (r: EleventyCacheReport) => {
            report = r
          },
        })
      },
    })
    await eleventy.write()
    if (report === undefined) throw new Error("no report")
    return report
  }

  it("renders every page on every build, and the summary says which plugin and why", async () => {
    const cache = createMemoryCache()
    const cold = await build(cache)
    const warm = await build(cache)
    for (const report of [cold, warm]) {
      expect(report.hits).toBe(0)
      expect(report.misses).toBe(1)
      expect(report.line).toContain(
        "1 uncacheable (eleventy plugin shoutPlugin: option `shout` is a bound function (bound shout): what it calls cannot be seen: 1)",
      )
    }
    expect(warm.stats.documentRecords.get("index.md")?.uncacheable?.step).toBe("eleventy plugin shoutPlugin")
    expect(readFileSync(join(root, "_site", "index.html"), "utf8")).toContain("<h1>Hello</h1>")
    const record = warm.stats.documentRecords.get("index.md")
    expect(await cache.has(Key.fromHex(record?.key as string))).toBe(false)
  })
})
