/**
 * Forged entries through the public `Cache` API: a cold build stores a page,
 * the entry under its key is replaced by a forged one with a valid checksum
 * (`cache.put`, or the entry format's bytes for what `put` itself refuses),
 * and a warm build reads it. Every forgery must leave `VFile.prototype`,
 * `VFileMessage.prototype` and `Object.prototype` as they were, and the page
 * must come out either restored as data or rendered again (a counted miss,
 * one warning), never broken.
 */
import { join } from "node:path"
import {
  BuildStats,
  type Cache,
  createCache,
  createMemoryCache,
  encodeEntry,
  jsonOrV8Codec,
  Key,
  type KeyLike,
  type MemoEntry,
  type StoreCache,
  toKey,
} from "@sitecache/core"
import rehypeStringify from "rehype-stringify"
import remarkParse from "remark-parse"
import remarkRehype from "remark-rehype"
import { type Plugin, unified } from "unified"
import { VFile } from "vfile"
import { VFileMessage } from "vfile-message"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { cached, cachedRun, cacheStatus } from "../src/index.js"
import type { FileSnapshot } from "../src/snapshot.js"
import { removeDir, tempDir } from "./helpers.js"

/** Leaves data, a message and a moved path in the file. */
function remarkNote() {
  return (_tree: unknown, file: VFile) => {
    file.data.title = "Title"
    file.message("a note", { ruleId: "note", source: "test" })
    if (file.path) file.extname = ".html"
  }
}

const createProcessor = () =>
  unified()
    .use(remarkParse)
    .use(remarkNote as Plugin)
    .use(remarkRehype)
    .use(rehypeStringify)

const SOURCE = "# Title\n\nSome *text*.\n"

/** Own property names of everything a forged entry might reach. */
function prototypes() {
  const names = (object: object) => Reflect.ownKeys(object).map(String).sort()
  return {
    vfile: names(VFile.prototype),
    vfileStatics: names(VFile),
    message: names(VFileMessage.prototype),
    object: names(Object.prototype),
    array: names(Array.prototype),
    vfileProto: Object.getPrototypeOf(VFile.prototype) === Object.prototype,
  }
}

let dir: string
let before: ReturnType<typeof prototypes>
let warnings: string[]
const onWarning = (warning: Error) => warnings.push(warning.message)
beforeEach(async () => {
  dir = await tempDir()
  before = prototypes()
  warnings = []
  process.on("warning", onWarning)
})
afterEach(async () => {
  process.off("warning", onWarning)
  await removeDir(dir)
  const after = prototypes()
  // Put back whatever a failing test polluted, so the next one starts clean; then fail.
  for (const name of after.object.filter((n) => !before.object.includes(n)))
    delete (Object.prototype as Record<string, unknown>)[name]
  for (const name of after.vfile.filter((n) => !before.vfile.includes(n)))
    delete (VFile.prototype as unknown as Record<string, unknown>)[name]
  expect(after).toEqual(before)
})

/** A cold build of one page; returns what an uncached run gives, and the key of its entry. */
async function coldBuild(cache: Cache) {
  const path = join(dir, "content", "page.md")
  const uncached = await createProcessor().process(new VFile({ path, value: SOURCE }))
  const cold = await cached(createProcessor(), { cache, root: dir }).process(new VFile({ path, value: SOURCE }))
  const status = cacheStatus(cold)
  if (status === undefined) throw new Error("no cache status")
  return { path, uncached, key: status.key }
}

/** A warm build of the page (a new processor, as in a new process); checks the page and the prototypes. */
async function warmBuild(cache: Cache, path: string, uncached: VFile) {
  const stats = new BuildStats()
  const file = await cached(createProcessor(), { cache, root: dir, stats }).process(new VFile({ path, value: SOURCE }))
  await new Promise((resolve) => setImmediate(resolve)) // process warnings are emitted on the next tick
  expect(prototypes()).toEqual(before)
  const fresh = new VFile({ path, value: "x" })
  expect(String(fresh)).toBe("x")
  expect((fresh as unknown as Record<string, unknown>).polluted).toBeUndefined()
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  return { file, stats, uncached }
}

/** A warm build that must have rendered the page again: the forged entry was a counted miss with a warning. */
async function expectRerendered(cache: Cache, path: string, uncached: VFile, reason: RegExp) {
  const { file, stats } = await warmBuild(cache, path, uncached)
  expect(cacheStatus(file)?.hit).toBe(false)
  expect(stats.misses).toBe(1)
  expect(String(file)).toBe(String(uncached))
  expect(file.data).toEqual(uncached.data)
  expect(file.history).toEqual(uncached.history)
  expect(file.messages.map((m) => m.reason)).toEqual(uncached.messages.map((m) => m.reason))
  expect(warnings.join("\n")).toMatch(reason)
  // The re-render replaced the forged entry: the next build hits.
  const again = await warmBuild(cache, path, uncached)
  expect(cacheStatus(again.file)?.hit).toBe(true)
  expect(String(again.file)).toBe(String(uncached))
}

/** The stored entry under `key`, edited by `change` and put back through the public API (a valid checksum). */
async function forge(cache: Cache, key: string, change: (snapshot: Record<string, unknown>) => unknown) {
  const honest = await cache.get<MemoEntry<FileSnapshot>>(keyOf(key))
  if (honest === undefined) throw new Error("no stored entry")
  const forged = { ...honest, value: change(structuredClone(honest.value) as unknown as Record<string, unknown>) }
  await cache.delete(keyOf(key))
  expect(await cache.put(keyOf(key), forged)).toBe(true)
}

const keyOf = (hex: string) => Key.fromHex(hex)

describe("forged snapshots put through the public Cache API", () => {
  const forgeries: [string, (snapshot: Record<string, unknown>) => unknown, RegExp][] = [
    [
      "`constructor.prototype` field",
      (s) => ({ ...s, fields: { constructor: { prototype: { polluted: true } } } }),
      /field named `constructor`/,
    ],
    ["`prototype` field", (s) => ({ ...s, fields: { ...(s.fields as object), prototype: { polluted: true } } }), /`prototype`/],
    [
      "inherited method as a field",
      (s) => ({ ...s, fields: { ...(s.fields as object), toString: "not a function" } }),
      /`toString`/,
    ],
    ["accessor as a field (`path`)", (s) => ({ ...s, fields: { ...(s.fields as object), path: 42 } }), /field named `path`/],
    ["file's own list as a field", (s) => ({ ...s, fields: { ...(s.fields as object), messages: [] } }), /`messages`/],
    ["inherited name unset", (s) => ({ ...s, unset: ["hasOwnProperty"] }), /`hasOwnProperty`/],
    [
      "message with `constructor`",
      (s) => ({ ...s, messages: [{ properties: [["constructor", { prototype: {} }, true]] }] }),
      /message property named `constructor`/,
    ],
    ["message with `toString`", (s) => ({ ...s, messages: [{ properties: [["toString", "x", false]] }] }), /`toString`/],
    ["history out of the root", (s) => ({ ...s, history: [{ inRoot: "../../../etc/cron.d/page" }] }), /leaves the project root/],
    ["history to an absolute path elsewhere", (s) => ({ ...s, history: ["/etc/cron.d/page.html"] }), /outside the project root/],
    ["not a snapshot", () => "<p>pwned</p>", /not a file snapshot/],
    ["fields as a Map", (s) => ({ ...s, fields: new Map([["data", {}]]) }), /`fields` is not a record/],
    ["fields as a list", (s) => ({ ...s, fields: [{ polluted: true }] }), /`fields` is not a record/],
    ["value of another type", (s) => ({ ...s, text: undefined, value: 42 }), /`value`/],
    ["messages as a record", (s) => ({ ...s, messages: { length: 1 } }), /`messages` is not a list/],
    [
      "a message property of another shape",
      (s) => ({ ...s, messages: [{ properties: [["reason"]] }] }),
      /not `\[name, value, enumerable\]`/,
    ],
  ]
  for (const [name, change, reason] of forgeries) {
    it(`${name}: rendered again, a counted miss, nothing polluted`, async () => {
      const cache = createMemoryCache()
      const { path, uncached, key } = await coldBuild(cache)
      await forge(cache, key, change)
      await expectRerendered(cache, path, uncached, reason)
    })
  }

  it("`constructor` and `prototype` inside data are restored as data, onto the file's own record only", async () => {
    const cache = createMemoryCache()
    const { path, uncached, key } = await coldBuild(cache)
    await forge(cache, key, (s) => ({
      ...s,
      fields: { ...(s.fields as object), data: { constructor: { prototype: { polluted: true } }, prototype: 1 } },
    }))
    const { file } = await warmBuild(cache, path, uncached)
    expect(cacheStatus(file)?.hit).toBe(true)
    expect(Object.getPrototypeOf(file.data)).toBe(Object.prototype)
    expect(Object.hasOwn(file.data, "constructor")).toBe(true)
    expect(String(file)).toBe(String(uncached))
  })

  it("cachedRun: a forged tree or file is a counted miss, rendered again", async () => {
    const cache = createMemoryCache()
    const path = join(dir, "content", "page.md")
    const runner = () => cachedRun(unified().use(remarkParse).use(remarkRehype), { cache, root: dir })
    const first = await runner().run(new VFile({ path, value: SOURCE }))
    const key = cacheStatus(first.file)?.key as string
    for (const change of [
      (s: Record<string, unknown>) => ({ ...s, tree: "not a tree" }),
      (s: Record<string, unknown>) => ({ ...s, file: { ...(s.file as object), fields: { constructor: {} } } }),
    ]) {
      const honest = await cache.get<MemoEntry<Record<string, unknown>>>(keyOf(key))
      await cache.delete(keyOf(key))
      await cache.put(keyOf(key), { ...honest, value: change(honest?.value ?? {}) })
      const again = await runner().run(new VFile({ path, value: SOURCE }))
      expect(cacheStatus(again.file)?.hit).toBe(false)
      expect(again.tree).toEqual(first.tree)
    }
    expect(prototypes()).toEqual(before)
  })
})

describe("`__proto__`, which put refuses to write", () => {
  /** The page's snapshot with `fields.__proto__` set, as JSON (so the key is an own property, as a reader's JSON.parse makes it). */
  const forgedJson = (data: string) =>
    `{"value":{"value":"<p>pwned</p>","hasValue":true,"fields":{"__proto__":{"polluted":true,"toString":1},"data":${data}},"history":[],"messages":[]},"ms":1}`

  it("an entry written as bytes with a valid checksum (the issue's exploit) is a counted miss on a real backend", async () => {
    const open = () => createCache({ backend: "fs", dir: join(dir, "cache"), root: dir }, { resolveFrom: import.meta.url })
    let cache: StoreCache = await open()
    const { path, uncached, key } = await coldBuild(cache)
    // The plain payload format (see core's codec.ts): the value as JSON, no byte arrays.
    const head = Buffer.from(`{"v":${forgedJson('{"__proto__":{"isAdmin":true}}')},"b":[]}`)
    const payload = Buffer.concat([Buffer.from([1]), Buffer.alloc(4), head])
    payload.writeUInt32LE(head.length, 1)
    const bytes = encodeEntry(payload, { codecId: jsonOrV8Codec.id, created: Date.now(), expires: 0 })
    const id = cache.entryId(keyOf(key))
    await cache.store.delete(id)
    await cache.store.add(id, bytes, { created: Date.now(), expires: 0 }, Date.now())
    await cache.close()
    cache = await open()
    try {
      await expectRerendered(cache, path, uncached, /own `__proto__` key/)
    } finally {
      await cache.close()
    }
  })

  /** A Cache (any object with the contract's methods) that hands back `json` parsed, untouched by any codec, under `key` until deleted. */
  function forgingCache(inner: StoreCache, key: string, json: string): Cache {
    let forged: string | undefined = json
    return {
      name: "forging",
      location: inner.location,
      mode: inner.mode,
      maxIdle: inner.maxIdle,
      now: () => inner.now(),
      sweep: (request) => inner.sweep(request),
      get keyPrefix() {
        return inner.keyPrefix
      },
      canPrefetch: false,
      prefetch: async () => 0,
      withKeyPrefix: (prefix, options) => inner.withKeyPrefix(prefix, options),
      setKeyPrefix: (prefix) => inner.setKeyPrefix(prefix),
      get: async <T>(k: KeyLike) => {
        if (forged !== undefined && toKey(k).hex === key) return JSON.parse(forged) as T
        return inner.get<T>(k)
      },
      delete: async (k) => {
        forged = undefined
        return inner.delete(k)
      },
      put: (k, value, options) => inner.put(k, value, options),
      has: (k) => inner.has(k),
      getMany: (keys) => inner.getMany(keys),
      putMany: (entries, options) => inner.putMany(entries, options),
      deleteMany: (keys) => inner.deleteMany(keys),
      inspect: () => inner.inspect(),
      counters: () => inner.counters(),
      persist: () => inner.persist(),
      clear: () => inner.clear(),
      close: () => inner.close(),
    }
  }

  it("a Cache that hands back parsed JSON as it is: the adapter itself never writes through `__proto__`", async () => {
    const inner = createMemoryCache()
    const { path, uncached, key } = await coldBuild(inner)
    await expectRerendered(forgingCache(inner, key, forgedJson("{}")), path, uncached, /field named `__proto__`/)
    const message = `{"value":{"value":"<p>x</p>","hasValue":true,"fields":{},"history":[],"messages":[{"properties":[["__proto__",{"polluted":true},true]]}]},"ms":1}`
    const other = createMemoryCache()
    const cold = await coldBuild(other)
    await expectRerendered(forgingCache(other, cold.key, message), path, uncached, /message property named `__proto__`/)
  })

  it("`__proto__` keys inside data stay plain data of the file's own records, never a prototype", async () => {
    const inner = createMemoryCache()
    const { path, key } = await coldBuild(inner)
    const json = `{"value":{"value":"<p>x</p>","hasValue":true,"fields":{"data":{"__proto__":{"polluted":true},"deep":{"list":[{"__proto__":{"isAdmin":true}}]}}},"history":[],"messages":[]},"ms":1}`
    const file = await cached(createProcessor(), { cache: forgingCache(inner, key, json), root: dir }).process(
      new VFile({ path, value: SOURCE }),
    )
    expect(cacheStatus(file)?.hit).toBe(true)
    expect(Object.getPrototypeOf(file.data)).toBe(Object.prototype)
    expect((file.data as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.hasOwn(file.data, "__proto__")).toBe(true)
    expect(prototypes()).toEqual(before)
  })
})
