/**
 * Issue 18 §1 for `@sitecache/vite`: a cache entry is untrusted input.
 * Entries are forged through the public `Cache` API, under the very keys a
 * build reads (taken from the build's own records), with values whose keys
 * are `__proto__`, `constructor` or `prototype`, or whose shape is wrong. A
 * build that meets one must not write through those keys, must not merge into
 * any object's prototype chain (Rollup `Object.assign`s `meta` into the
 * module's info), must emit exactly what an uncached build emits, and must
 * replace the entry so that the next build hits.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Cache, createMemoryCache, Key } from "@sitecache/core"
import { type Plugin as RollupPlugin, rollup } from "rollup"
import type { Plugin } from "vite"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { cacheTransforms, type TransformCacheReport } from "../src/index.js"
import { handingBack } from "./forging-cache.js"

const root = mkdtempSync(join(tmpdir(), "sitecache-vite-forged-"))
let transforms = 0

/** `.txt` → a module exporting its text, with `meta` and a warning: the fields a forged entry aims at. */
function textModules(): RollupPlugin {
  return {
    name: "test-text-modules",
    transform(code, id) {
      if (!id.endsWith(".txt")) return null
      transforms++
      this.warn({ message: `read ${code.trim()}`, code: "TEXT" })
      return {
        code: `export default ${JSON.stringify(code.trim())}`,
        map: { version: 3, sources: [id], names: [], mappings: "AAAA" },
        meta: { text: { length: code.trim().length } },
      }
    },
  }
}

/** Reads what the first plugin left in `meta`, as any later plugin may. */
function metaReader(seen: Map<string, unknown>): RollupPlugin {
  return {
    name: "test-meta-reader",
    moduleParsed(info) {
      if (info.id.endsWith(".txt")) seen.set(info.id, info.meta)
    },
  }
}

interface Build {
  readonly code: string
  readonly report: TransformCacheReport
  readonly meta: Map<string, unknown>
  readonly warnings: string[]
  readonly cacheWarnings: string[]
}

async function build(cache: Cache | undefined): Promise<Build> {
  const meta = new Map<string, unknown>()
  const warnings: string[] = []
  const cacheWarnings: string[] = []
  let report: TransformCacheReport | undefined
  const plugins = [textModules()] as Plugin[]
  const originalWarn = console.warn
  console.warn = (line: string) => cacheWarnings.push(line)
  try {
    const bundle = await rollup({
      input: join(root, "main.js"),
      plugins: [
        ...((cache === undefined
          ? plugins
          : cacheTransforms(plugins, {
              cache,
              root,
              log: false,
              onBuildEnd: (r) => {
                report = r
              },
            })) as RollupPlugin[]),
        metaReader(meta),
      ],
      onLog: (level, log) => {
        if (level === "warn") warnings.push(`${log.plugin}: ${log.message}`)
      },
    })
    const { output } = await bundle.generate({ format: "es", sourcemap: true })
    await bundle.close()
    return {
      code: output[0].code + (output[0].map?.toString() ?? ""),
      report: report as TransformCacheReport,
      meta,
      warnings: warnings.sort(),
      cacheWarnings,
    }
  } finally {
    console.warn = originalWarn
  }
}

/** Parsed JSON: the one way to make an object with an own property named `__proto__`, as a decoder does. */
const json = (text: string): unknown => JSON.parse(text)

/** What must never appear anywhere in the process. */
function assertNothingPolluted(): void {
  for (const proto of [Object.prototype, Array.prototype, Function.prototype, String.prototype]) {
    expect(Object.getOwnPropertyNames(proto)).not.toContain("polluted")
  }
  expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
  expect(Object.getPrototypeOf({})).toBe(Object.prototype)
}

/** Forged values for the `value` of an entry (the adapter's stored result), each with what it aims at. */
function forgeries(entryRoot: string): Record<string, unknown> {
  const code = 'export default "forged"'
  return {
    "meta with an own `__proto__`": {
      root: entryRoot,
      code,
      fields: { meta: json('{"__proto__": {"polluted": "meta"}, "text": {"length": 1}}') },
    },
    "a top-level meta with an own `__proto__` (Rollup would merge it into the module's meta)": {
      root: entryRoot,
      code,
      meta: json('{"__proto__": {"polluted": "meta"}}'),
    },
    "meta `constructor.prototype`": {
      root: entryRoot,
      code,
      fields: { meta: { constructor: { prototype: { polluted: "constructor" } } } },
    },
    "fields with an own `__proto__`": { root: entryRoot, code, fields: json('{"__proto__": {"polluted": "fields"}}') },
    "a `prototype` field": { root: entryRoot, code, fields: { prototype: { polluted: "prototype" } } },
    "an entry with an own `__proto__`": json(
      `{"root": ${JSON.stringify(entryRoot)}, "__proto__": {"polluted": "entry", "code": "export default 1"}}`,
    ),
    "a map with an own `__proto__`": {
      root: entryRoot,
      code,
      map: json('{"version": 3, "mappings": "", "__proto__": {"polluted": "map"}}'),
    },
    "a log with an own `__proto__`": {
      root: entryRoot,
      code,
      logs: [{ level: "warn", log: json('{"message": "x", "__proto__": {"polluted": "log"}}') }],
    },
    "a log level that is a method name": { root: entryRoot, code, logs: [{ level: "constructor", log: "x" }] },
    "code that is not a string": { root: entryRoot, code: { toString: "export default 1" } },
    "an unknown field": { root: entryRoot, code, evil: true },
    "a string": "export default 1",
    null: null,
    "meta nested 100 deep": {
      root: entryRoot,
      code,
      fields: { meta: Array.from({ length: 100 }).reduce<unknown>((inner) => ({ inner }), {}) },
    },
  }
}

describe("@sitecache/vite restoring forged entries", () => {
  let reference: Build
  beforeAll(async () => {
    writeFileSync(join(root, "main.js"), 'import a from "./a.txt"\nimport b from "./b.txt"\nexport default [a, b]\n')
    writeFileSync(join(root, "a.txt"), "alpha\n")
    writeFileSync(join(root, "b.txt"), "bravo\n")
    reference = await build(undefined)
  })
  afterEach(assertNothingPolluted)
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it("restores an honest entry as fresh objects (the same output as uncached)", async () => {
    const cache = createMemoryCache()
    await build(cache)
    transforms = 0
    const warm = await build(cache)
    expect(transforms).toBe(0)
    expect(warm.report.hits).toBe(2)
    expect(warm.code).toBe(reference.code)
    expect(warm.warnings).toEqual(reference.warnings)
    expect([...warm.meta.values()]).toEqual([...reference.meta.values()])
    expect(warm.report.rejected).toBe(0)
  })

  for (const [name, forged] of Object.entries(forgeries(root))) {
    it(`refuses ${name}: a miss, one warning, the uncached output, and the entry replaced`, async () => {
      const cache = createMemoryCache()
      const cold = await build(cache)
      // The key the adapter reads for a.txt, from the build's own record of it.
      const record = cold.report.stats.documentRecords.get("a.txt")
      expect(record).toBeDefined()
      const key = Key.fromHex(record?.key as string)
      expect(await cache.delete(key)).toBe(true)
      // The forgery reaches the adapter as forged (see handingBack: the default cache refuses own `__proto__` keys itself).
      const forging = handingBack(cache, key, { value: forged, ms: 1 })
      expect(await forging.get(key)).toEqual({ value: forged, ms: 1 })

      transforms = 0
      const attacked = await build(forging)
      for (const meta of attacked.meta.values()) {
        expect(Object.getPrototypeOf(meta)).toBe(Object.prototype)
        expect((meta as { polluted?: unknown }).polluted).toBeUndefined()
      }
      expect(attacked.code).toBe(reference.code)
      expect(attacked.warnings).toEqual(reference.warnings)
      expect([...attacked.meta.values()]).toEqual([...reference.meta.values()])
      expect(transforms).toBe(1)
      expect([attacked.report.hits, attacked.report.misses, attacked.report.rejected]).toEqual([1, 1, 1])
      expect(attacked.cacheWarnings).toHaveLength(1)
      expect(attacked.cacheWarnings[0]).toMatch(/^sitecache: ignored a cache entry of a\.txt that is not a valid result \(/)

      transforms = 0
      const healed = await build(cache)
      expect(transforms).toBe(0)
      expect([healed.report.hits, healed.report.rejected]).toEqual([2, 0])
      expect(healed.code).toBe(reference.code)
    })
  }
})
