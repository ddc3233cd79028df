import { describe, expect, it } from "vitest"
import xxhash from "xxhash-wasm"
import {
  BuildKey,
  BuildStats,
  contentHash,
  createMemoryCache,
  framedBytes,
  KEY_SEEDS,
  Key,
  key,
  memoize,
  memoKey,
  normalizeLineEndings,
  toKey,
} from "../src/index.js"
import { keyOfKeys } from "../src/key.js"

describe("key()", () => {
  it("is 128 bits shown as 32 hex characters, and deterministic", () => {
    const k = key("posts/hello.md", "# Hello")
    expect(k.bytes).toHaveLength(16)
    expect(k.hex).toMatch(/^[0-9a-f]{32}$/)
    expect(key("posts/hello.md", "# Hello").hex).toBe(k.hex)
    expect(String(k)).toBe(k.hex)
    expect(JSON.stringify({ k })).toBe(`{"k":"${k.hex}"}`)
  })

  it("pins the hash of known inputs (keys must not change between releases)", () => {
    expect(key().hex).toMatchInlineSnapshot(`"b1dbc2d57bf83ce11720119a9a4d443b"`)
    expect(key("about.md").hex).toMatchInlineSnapshot(`"243a23997c338ebf74c9ea36351aae16"`)
    // Short strings (copied unit by unit) and long ones (Buffer#write), past Latin-1 and past the BMP, a record.
    expect(key({ name: "é🎉\u0000", long: "ü".repeat(100), gone: undefined, n: [1, "two"] }).hex).toBe(
      "d9331ed5c8827d6646b889a80f1783ee",
    )
    expect(key("a".repeat(63), "b".repeat(64)).hex).toBe("4cebbf5cd700e3d43ad941685cd7e513")
  })

  it("is the two seeded xxh64 runs over the framed bytes", async () => {
    const hasher = await xxhash()
    const framed = framedBytes("a", 1, { b: [true] })
    const expected =
      hasher.h64Raw(framed, KEY_SEEDS.high).toString(16).padStart(16, "0") +
      hasher.h64Raw(framed, KEY_SEEDS.low).toString(16).padStart(16, "0")
    expect(key("a", 1, { b: [true] }).hex).toBe(expected)
  })

  it("frames parts unambiguously", () => {
    const distinct = [
      key("ab", "c"),
      key("a", "bc"),
      key("abc"),
      key(["ab", "c"]),
      key("1"),
      key(1),
      key(1n),
      key(true),
      key("true"),
      key(null),
      key(undefined),
      key(),
      key(""),
      key(new Uint8Array([0x61])),
      key("a"),
      key([]),
      key({}),
      key([[]]),
      key({ a: "b" }),
      key(["a", "b"]),
    ]
    expect(new Set(distinct.map((k) => k.hex)).size).toBe(distinct.length)
  })

  it("serializes plain objects canonically: property order and undefined properties do not matter", () => {
    expect(key({ a: 1, b: { c: 2, d: [3] } }).hex).toBe(key({ b: { d: [3], c: 2 }, a: 1 }).hex)
    expect(key({ a: 1, b: undefined }).hex).toBe(key({ a: 1 }).hex)
    expect(key({ a: 1 }).hex).not.toBe(key({ a: 2 }).hex)
    expect(key(Object.assign(Object.create(null), { a: 1 })).hex).toBe(key({ a: 1 }).hex)
  })

  it("hashes functions by their source, dates by time, regexps by source and flags", () => {
    expect(key(() => 1).hex).toBe(key(() => 1).hex)
    expect(key(() => 1).hex).not.toBe(key(() => 2).hex)
    expect(key(new Date(5)).hex).toBe(key(new Date(5)).hex)
    expect(key(new Date(5)).hex).not.toBe(key(5).hex)
    expect(key(/a/g).hex).not.toBe(key(/a/i).hex)
    expect(key(0).hex).toBe(key(-0).hex)
  })

  it("refuses parts with no stable serialization, with SITECACHE_BAD_KEY", () => {
    class Plugin {}
    expect(() => key(new Plugin() as never)).toThrow(expect.objectContaining({ code: "SITECACHE_BAD_KEY" }))
    expect(() => key(new Map() as never)).toThrow(/`Map` instance/)
    expect(() => key(Symbol("s") as never)).toThrow(expect.objectContaining({ code: "SITECACHE_BAD_KEY" }))
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(() => key(cycle as never)).toThrow(/deeper than/)
  })

  it("handles large parts (the framing buffer grows)", () => {
    const big = "x".repeat(3 * 1024 * 1024)
    expect(key(big).hex).toBe(key(big).hex)
    expect(key(big).hex).not.toBe(key(`${big}y`).hex)
    expect(key("small").hex).toBe(key("small").hex)
  })

  it("keeps earlier keys intact when the byte pool rolls over", () => {
    const first = key("first")
    const hex = first.hex
    const copy = Uint8Array.from(first.bytes)
    for (let i = 0; i < 10_000; i++) key(i)
    expect(Buffer.compare(first.bytes, copy)).toBe(0)
    expect(Key.fromHex(hex).equals(first)).toBe(true)
  })

  it("toKey keeps a Key and hashes strings and bytes; Key.fromHex checks its input", () => {
    const k = key("x")
    expect(toKey(k)).toBe(k)
    expect(toKey("x").hex).toBe(k.hex)
    expect(toKey(new Uint8Array([1])).hex).toBe(key(new Uint8Array([1])).hex)
    expect(() => toKey(42 as never)).toThrow(expect.objectContaining({ code: "SITECACHE_BAD_KEY" }))
    expect(() => Key.fromHex("zz")).toThrow(expect.objectContaining({ code: "SITECACHE_BAD_KEY" }))
  })
})

describe("BuildKey", () => {
  it("memoize's key of a record of named keys is key() of that record, framed without the general walk", () => {
    const record = { path: key("a.md"), build: key("build"), content: key("# a") }
    const names = Object.keys(record).sort()
    const keys = names.map((name) => record[name as keyof typeof record])
    expect(keyOfKeys(names, keys).hex).toBe(key(record).hex)
    expect(memoKey({ content: "# a", path: "a.md", build: key("build") }).key.hex).toBe(key(record).hex)
  })

  it("hashes a build's fixed parts once into one part of each document's key; the record still names each part", async () => {
    const fixed = { stage: "process", pipeline: key("pipeline"), "plugin:remark-gfm@4.0.1": key("gfm") }
    const build = new BuildKey(fixed)
    expect(build.hashes).toEqual({
      stage: key("process").hex,
      pipeline: key("pipeline").hex,
      "plugin:remark-gfm@4.0.1": key("gfm").hex,
    })
    expect(build.key.equals(key(build.hashes))).toBe(true)
    expect(key(build).equals(key(build.key))).toBe(true)
    const cache = createMemoryCache()
    const stats = new BuildStats()
    const result = await memoize(cache, { content: "# a", path: "a.md", build }, () => "<h1>a</h1>", { stats, document: "a.md" })
    expect(result.key.equals(key({ content: key("# a"), path: key("a.md"), build: build.key }))).toBe(true)
    expect(result.parts).toEqual({ ...build.hashes, content: key("# a").hex, path: key("a.md").hex })
    expect(stats.documentRecords.get("a.md")?.parts).toEqual(result.parts)
    expect((await memoize(cache, { content: "# a", path: "a.md", build }, () => "again")).hit).toBe(true)
    // Another version of one plugin: another build key, so another key for every document.
    const other = new BuildKey({ ...fixed, "plugin:remark-gfm@4.0.1": key("gfm, changed") })
    const changed = await memoize(cache, { content: "# a", path: "a.md", build: other }, () => "changed", {
      stats,
      document: "a.md",
    })
    expect(changed.hit).toBe(false)
    expect(changed.parts?.["plugin:remark-gfm@4.0.1"]).toBe(key("gfm, changed").hex)
  })
})

describe("the parts a document records with a build key", () => {
  it("lists each document's own parts and every part of the build key, for any set of document parts", async () => {
    const build = new BuildKey({ stage: "process", pipeline: key("pipeline"), "plugin:remark-gfm@4.0.1": key("gfm") })
    const cache = createMemoryCache()
    const stats = new BuildStats()
    for (const name of ["a", "b", "c"]) {
      const result = await memoize(cache, { content: `# ${name}`, path: `${name}.md`, build }, () => name, {
        stats,
        document: `${name}.md`,
      })
      expect(result.parts).toEqual({ content: key(`# ${name}`).hex, path: key(`${name}.md`).hex, ...build.hashes })
      expect(stats.documentRecords.get(`${name}.md`)?.parts).toEqual(result.parts)
    }
    // Another set of document parts (data set on the file): its own record, the build's parts all the same.
    const withInput = await memoize(cache, { content: "# a", path: "a.md", build, input: { draft: true } }, () => "draft")
    expect(withInput.parts).toEqual({
      content: key("# a").hex,
      path: key("a.md").hex,
      input: key({ draft: true }).hex,
      ...build.hashes,
    })
    // Records are the documents' own: changing one changes no other.
    const first = stats.documentRecords.get("a.md")?.parts as Record<string, string>
    first.content = "changed"
    expect(stats.documentRecords.get("b.md")?.parts?.content).toBe(key("# b").hex)
  })
})

describe("contentHash()", () => {
  it("normalizes line endings of text, so a CRLF checkout hashes the same", () => {
    expect(contentHash("a\r\nb\rc\n")).toBe(contentHash("a\nb\nc\n"))
    expect(contentHash(Buffer.from("a\r\nb"))).toBe(contentHash("a\nb"))
    expect(normalizeLineEndings("x\r\n")).toBe("x\n")
  })

  it("hashes binary bytes as they are", () => {
    const binary = Buffer.from([0, 13, 10, 1])
    expect(contentHash(binary)).not.toBe(contentHash(Buffer.from([0, 10, 1])))
  })
})
