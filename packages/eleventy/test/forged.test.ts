/**
 * Issue 18 §1 for `@sitecache/eleventy`: a cache entry is untrusted input.
 * A `Cache` hands the plugin forged entries as they are (what a cache whose
 * decoder kept own `__proto__` keys, or anyone who can write an unsigned
 * store, would hand it), in place of every memo entry a warm build reads,
 * through both `getMany` (the markdown preload) and `get` (the transforms,
 * Eleventy's HTML transformer included). The build must write the pages of a
 * build without sitecache, write through no `__proto__`, `constructor` or
 * `prototype`, merge into no prototype chain, render every forged document
 * again, and say so in one warning per kind of fault.
 */
import { createHash } from "node:crypto"
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import Eleventy from "@11ty/eleventy"
import { type Cache, createMemoryCache, type KeyLike } from "@sitecache/core"
import { afterAll, describe, expect, it } from "vitest"
import { type EleventyConfig, siteConfig } from "../../../examples/eleventy-site/src/site.js"
import { type EleventyCacheReport, HTML_TRANSFORMER, type SitecacheOptions } from "../src/index.js"

const example = join(import.meta.dirname, "../../../examples/eleventy-site")

interface Directories {
  setUseTemplateCache(use: boolean): void
  setIncludesDirectory(dir: string): void
  setDataDirectory(dir: string): void
}

function isMemoEntry(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && Object.hasOwn(value, "value") && Object.hasOwn(value, "ms")
}

/** `cache`, except that every memo entry it reads is replaced by `forge(entry)`, handed over untouched. */
function forging(cache: Cache, forge: (entry: Record<string, unknown>) => unknown): Cache {
  const swap = (value: unknown) => (isMemoEntry(value) ? forge(value) : value)
  return new Proxy(cache, {
    get(target, property) {
      if (property === "get") return async (k: KeyLike) => swap(await target.get(k))
      if (property === "getMany") return async (keys: KeyLike[]) => (await target.getMany(keys)).map(swap)
      const member = Reflect.get(target, property, target) as unknown
      return typeof member === "function" ? member.bind(target) : member
    },
  })
}

const root = mkdtempSync(join(tmpdir(), "sitecache-eleventy-forged-"))
cpSync(join(example, "content"), join(root, "content"), { recursive: true })
afterAll(() => rmSync(root, { recursive: true, force: true }))

let builds = 0
async function build(sitecache: SitecacheOptions | false): Promise<{ output: string; report: EleventyCacheReport | undefined }> {
  const output = join(root, `_site-${++builds}`)
  let report: EleventyCacheReport | undefined
  const configure = siteConfig(
    sitecache === false
      ? { cached: false }
      : { sitecache: { root, log: false, ...sitecache, onBuildEnd: (r) => void (report = r) } },
  )
  const eleventy = new Eleventy(join(root, "content"), output, {
    quietMode: true,
    config(eleventyConfig: EleventyConfig & Directories) {
      eleventyConfig.setUseTemplateCache(false)
      eleventyConfig.setIncludesDirectory("_includes")
      eleventyConfig.setDataDirectory("_data")
      configure(eleventyConfig)
    },
  })
  await eleventy.write()
  return { output, report }
}

function files(output: string): Map<string, string> {
  const hashes = new Map<string, string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else hashes.set(relative(output, path), createHash("sha256").update(readFileSync(path)).digest("hex"))
    }
  }
  walk(output)
  return hashes
}

const polluted = () =>
  [Object.prototype, Array.prototype, Function.prototype, String.prototype].some(
    (proto) => Object.hasOwn(proto, "polluted") || Object.hasOwn(proto, "output"),
  )

/** Each forgery, and whether meeting it is a fault to warn about (a changed dependency is an ordinary miss). */
const FORGERIES: readonly {
  readonly name: string
  readonly forge: (entry: Record<string, unknown>) => unknown
  readonly warns: boolean
}[] = [
  {
    name: "an entry with an own __proto__ key",
    forge: (entry) => JSON.parse(`{"__proto__":{"polluted":1},"value":${JSON.stringify(entry.value)},"ms":1}`),
    warns: false,
  },
  {
    name: "a value that is an object with __proto__",
    forge: () => ({ value: JSON.parse('{"__proto__":{"polluted":1},"output":"<p>forged</p>","bundles":[]}'), ms: 1 }),
    warns: true,
  },
  {
    name: "a value with constructor and prototype keys",
    forge: () => ({ value: { constructor: { prototype: { polluted: 1 } }, output: "<p>forged</p>", bundles: [] }, ms: 1 }),
    warns: true,
  },
  {
    name: "bundle additions to __proto__ and constructor",
    forge: (entry) =>
      typeof entry.value === "object"
        ? {
            value: {
              output: "<p>forged</p>",
              bundles: [
                ["__proto__", ["p{}"], null],
                ["constructor", ["p{}"], null],
              ],
            },
            ms: 1,
          }
        : entry,
    warns: true,
  },
  {
    name: "dependencies named __proto__",
    forge: (entry) => ({ value: entry.value, ms: 1, deps: JSON.parse('{"__proto__":"0"}') }),
    warns: false,
  },
  {
    name: "a build date placeholder in a page that prints no date",
    forge: (entry) =>
      typeof entry.value === "string" && entry.value.includes("<html")
        ? { value: `${entry.value}\uE000sitecache:build-date:0\uE001`, ms: 1 }
        : entry,
    warns: true,
  },
  { name: "a value of another type", forge: () => ({ value: 42, ms: 1 }), warns: true },
]

describe("forged entries handed to the Eleventy plugin", async () => {
  const transforms = ["htmlmin", HTML_TRANSFORMER]
  const reference = files((await build(false)).output)
  const store = createMemoryCache()
  const cold = await build({ cache: store, transforms })

  it("builds cold and warm with every document cached", async () => {
    expect(cold.report?.misses).toBeGreaterThan(16)
    const warm = await build({ cache: store, transforms })
    expect(warm.report?.misses).toBe(0)
    expect(files(warm.output)).toEqual(reference)
  })

  it.each(FORGERIES)("$name: writes the uncached pages, touches no prototype", async ({ forge, warns }) => {
    const warnings: string[] = []
    const onWarning = (warning: Error) => void warnings.push(warning.message)
    process.on("warning", onWarning)
    try {
      const { output, report } = await build({ cache: forging(store, forge), transforms })
      expect(polluted()).toBe(false)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(files(output)).toEqual(reference)
      expect(report?.enabled).toBe(true)
      await new Promise((resolve) => setImmediate(resolve))
      if (warns) {
        expect(report?.misses).toBeGreaterThan(0)
        expect(warnings.length).toBeGreaterThan(0)
        expect(warnings.length).toBeLessThanOrEqual(3)
      }
    } finally {
      process.off("warning", onWarning)
    }
  })
})
