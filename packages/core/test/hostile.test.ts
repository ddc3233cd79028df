/**
 * Entries forged by whoever can write the store: valid checksums over values
 * no honest `put` writes. Each must read as a counted miss with one warning,
 * never reach the caller, never crash the process, and never touch a
 * prototype. The bytes are made with the public entry format (`encodeEntry`)
 * and written under the key a reader will ask for (`cache.entryId`).
 */
import { serialize } from "node:v8"
import { gzipSync } from "node:zlib"
import { afterEach, describe, expect, it } from "vitest"
import {
  BuildStats,
  buildRecords,
  createMemoryCache,
  createTieredStore,
  type DocumentRecord,
  encodeEntry,
  finishBuild,
  HEADER_SIZE,
  jsonOrV8Codec,
  MemoryStore,
  manifestDigestKey,
  manifestKey,
  memoize,
  prefetchFromManifest,
  readManifest,
  readRuns,
  readSweep,
  readTools,
  runsKey,
  StoreCache,
  sweepKey,
  toolsKey,
  UnserializableError,
  xxh64,
} from "../src/index.js"

const PLAIN = 0x01

/** A plain-format payload (see codec.ts) whose head is `headJson`, with no byte arrays. */
function plainPayload(valueJson: string): Buffer {
  const head = Buffer.from(`{"v":${valueJson},"b":[]}`, "utf8")
  const out = Buffer.alloc(5 + head.length)
  out[0] = PLAIN
  out.writeUInt32LE(head.length, 1)
  head.copy(out, 5)
  return out
}

/** A v8 payload of `depth` nested arrays, innermost empty: `[[[…]]]`, made byte by byte (v8 itself refuses to write it). */
function deepV8Payload(depth: number): Buffer {
  const header = Buffer.from(serialize([])).subarray(0, 2)
  return Buffer.concat([
    header,
    Buffer.alloc(depth * 2, Buffer.from([0x41, 0x01])), // dense array of length 1
    Buffer.from([0x41, 0x00, 0x24, 0x00, 0x00]), // the empty innermost array
    Buffer.alloc(depth * 3, Buffer.from([0x24, 0x00, 0x01])), // end of each dense array: 0 properties, length 1
  ])
}

interface Forge {
  cache: StoreCache
  warnings: string[]
  /** Store `payload` under `name` as a sound entry of the v8 codec (valid checksum), flagged as gzip when `gzip`. */
  forge(name: string, payload: Uint8Array, options?: { gzip?: boolean }): Promise<void>
}

function forgeable(options: { maxEntrySize?: number } = {}): Forge {
  const warnings: string[] = []
  const cache = new StoreCache(new MemoryStore(), { ...options, onWarning: (message) => warnings.push(message) })
  return {
    cache,
    warnings,
    async forge(name, payload, { gzip = false } = {}) {
      await cache.store.add(cache.entryId(name), entryOf(payload, gzip), { created: 0, expires: 0 }, Date.now())
    },
  }
}

/**
 * The stored bytes of an entry around `payload`, as `encodeEntry` writes them; with `gzip`, the payload
 * is taken as already compressed: the flag is set and the xxh64 trailer recomputed over the header.
 */
function entryOf(payload: Uint8Array, gzip: boolean): Buffer {
  const bytes = Buffer.from(encodeEntry(payload, { codecId: jsonOrV8Codec.id, created: Date.now(), expires: 0 }))
  if (gzip) {
    bytes[6] = (bytes[6] ?? 0) | 1
    const end = HEADER_SIZE + payload.length
    bytes.writeBigUInt64BE(xxh64(bytes.subarray(0, end)), end)
  }
  return bytes
}

afterEach(() => {
  // A test that polluted a prototype must not pass quietly, nor poison the next test.
  for (const proto of [Object.prototype, Array.prototype]) {
    for (const name of ["polluted", "isAdmin"]) {
      if (Object.hasOwn(proto, name)) {
        delete (proto as Record<string, unknown>)[name]
        throw new Error(`${name} was written onto a prototype`)
      }
    }
  }
})

/** Read `name` and expect a counted miss with one warning naming `reason`. */
async function expectRefused(forge: Forge, name: string, reason: RegExp): Promise<void> {
  // Not `toBeUndefined()`: printing a forged value in the failure message is what must not happen.
  const value = await forge.cache.get(name)
  expect(value === undefined, `the forged value of \`${name}\` reached the caller`).toBe(true)
  const info = await forge.cache.inspect()
  expect(info.hits).toBe(0)
  expect(info.misses).toBe(1)
  expect(info.errors).toBe(1)
  expect(forge.warnings).toHaveLength(1)
  expect(forge.warnings[0]).toMatch(reason)
  // The forged entry is gone: an honest put replaces it.
  expect(await forge.cache.put(name, "honest")).toBe(true)
  expect(await forge.cache.get(name)).toBe("honest")
}

describe("decode bounds (depth and weight) on every payload format", () => {
  it("a plain (JSON) payload nested 1,000,000 levels deep is a counted miss, not a value that overflows its reader", async () => {
    const forge = forgeable()
    const depth = 1_000_000
    await forge.forge("deep", plainPayload(`${"[".repeat(depth)}${"]".repeat(depth)}`))
    // Refused from the text, before JSON.parse spends seconds building a million arrays.
    await expectRefused(forge, "deep", /plain payload: nested more than 1000 levels/)
  })

  it("a v8 payload nested deeper than the bound is refused, though v8 itself reads it", async () => {
    const forge = forgeable()
    // 3,000 levels: v8 reads it back, and JSON.stringify of it overflows the stack.
    await forge.forge("deep", deepV8Payload(3000))
    await expectRefused(forge, "deep", /nested more than 1000 levels/)
    // 1,000,000 levels: v8 refuses it itself, also a counted miss.
    const other = forgeable()
    await other.forge("deeper", deepV8Payload(1_000_000))
    await expectRefused(other, "deeper", /Maximum call stack|nested/)
  })

  it("values exactly at the bound round-trip; one level more is refused by put, before anything is written", async () => {
    const cache = createMemoryCache()
    const nest = (depth: number) => {
      let value: unknown = 0
      for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { next: value }
      return value
    }
    expect(await cache.put("at", nest(1000))).toBe(true)
    expect(await cache.get("at")).toEqual(nest(1000))
    for (const depth of [1001, 3000, 1_000_000]) {
      await expect(cache.put(`over-${depth}`, nest(depth)), String(depth)).rejects.toThrow(UnserializableError)
    }
    expect((await cache.inspect()).entryCount).toBe(1)
  })

  it("shared references that expand to billions of items (v8 keeps them) are refused on read and on put", async () => {
    let laugh: unknown = "lol"
    for (let i = 0; i < 40; i++) laugh = [laugh, laugh, laugh]
    const payload = serialize(laugh)
    expect(payload.length).toBeLessThan(2000)
    const forge = forgeable()
    await forge.forge("laughs", payload)
    await expectRefused(forge, "laughs", /weighs more than/)
    await expect(createMemoryCache().put("laughs", laugh)).rejects.toThrow(/weighs more than/)
    // Moderate sharing stays cacheable.
    const part = { text: "x".repeat(1000) }
    const cache = createMemoryCache()
    expect(await cache.put("shared", { a: part, b: part, list: [part, part] })).toBe(true)
    const back = (await cache.get("shared")) as { a: unknown; b: unknown }
    expect(back.a).toBe(back.b)
  })

  it("cycles, which v8 keeps, stay cacheable: the walk follows no edge back to an ancestor", async () => {
    const cache = createMemoryCache()
    const node: Record<string, unknown> = { name: "root", leaves: Array.from({ length: 5000 }, (_, i) => i) }
    node.self = node
    node.children = [{ parent: node }, new Map([["back", node]])]
    expect(await cache.put("cycle", node)).toBe(true)
    const back = (await cache.get("cycle")) as typeof node
    expect(back.self).toBe(back)
    expect((back.children as [{ parent: unknown }])[0].parent).toBe(back)
  })

  it("a sparse array claiming four billion items, and long strings or arrays past the payload, are misses", async () => {
    const sparse: unknown[] = []
    sparse.length = 2 ** 32 - 1
    sparse[7] = "x"
    const forge = forgeable()
    await forge.forge("sparse", serialize({ items: sparse }))
    await expectRefused(forge, "sparse", /weighs more than/)

    // A string of 2^30 characters and a dense array of 2^30 items, each declared in a few bytes.
    const header = Buffer.from(serialize("")).subarray(0, 2)
    const varint = (n: number) => {
      const out: number[] = []
      while (n >= 0x80) {
        out.push((n & 0x7f) | 0x80)
        n = Math.floor(n / 128)
      }
      out.push(n)
      return Buffer.from(out)
    }
    for (const [name, body] of [
      ["string", Buffer.concat([Buffer.from([0x22]), varint(2 ** 30), Buffer.from("abc")])],
      ["array", Buffer.concat([Buffer.from([0x41]), varint(2 ** 30), Buffer.from([0x30, 0x30])])],
    ] as const) {
      const each = forgeable()
      await each.forge(name, Buffer.concat([header, body]))
      await expectRefused(each, name, /corrupt entry/)
    }
  })

  it("an own `__proto__` key, from the JSON path or the v8 path, is a miss and never reaches a prototype", async () => {
    const forge = forgeable()
    await forge.forge("plain", plainPayload('{"data":{"__proto__":{"polluted":true}},"list":[{"__proto__":{"isAdmin":1}}]}'))
    await expectRefused(forge, "plain", /own `__proto__` key/)
    // Spelled with JSON escapes, in a UTF-8 head and in a UTF-16 one: the cache walks a head that could hold it.
    const escaped = forgeable()
    await escaped.forge("plain", plainPayload('{"data":{"\\u005f_proto__":{"polluted":true}}}'))
    await expectRefused(escaped, "plain", /own `__proto__` key/)
    const utf16 = forgeable()
    const head = Buffer.from('{"v":{"\\u005f\\u005fproto__":{"polluted":true},"é":"中"},"b":[]}', "utf16le")
    await utf16.forge("plain", Buffer.concat([Buffer.from([0x02, head.length, 0, 0, 0]), head]))
    await expectRefused(utf16, "plain", /own `__proto__` key/)
    const other = forgeable()
    await other.forge("v8", serialize(new Map([["k", JSON.parse('{"deep":[{"__proto__":{"polluted":true}}]}')]])))
    await expectRefused(other, "v8", /own `__proto__` key/)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    // An honest put of such a value is refused with the same reason, so it cannot become a permanent miss.
    await expect(createMemoryCache().put("p", JSON.parse('{"__proto__":{"polluted":true}}'))).rejects.toThrow(
      /own `__proto__` key/,
    )
    // `constructor` and `prototype` are ordinary names of data.
    const cache = createMemoryCache()
    await cache.put("names", { constructor: "c", prototype: { constructor: { prototype: 1 } } })
    expect(await cache.get("names")).toEqual({ constructor: "c", prototype: { constructor: { prototype: 1 } } })
  })
})

describe("compressed payloads are inflated only as far as they declare", () => {
  const value = { page: "<p>a page</p>".repeat(100_000) }

  it("a gzip stream that inflates past its declared size (ISIZE) is a miss, cut at the declaration", async () => {
    const payload = jsonOrV8Codec.encode(value)
    const half = Math.floor(payload.length / 2)
    // Two gzip members: gunzip reads both, and the trailer at the end declares only the second one's length.
    const forge = forgeable()
    await forge.forge("two", Buffer.concat([gzipSync(payload.subarray(0, half)), gzipSync(payload.subarray(half))]), {
      gzip: true,
    })
    await expectRefused(forge, "two", /larger than \d+ bytes|inflates to/)
    // The same bytes as one member read back.
    const sound = forgeable()
    await sound.forge("one", gzipSync(payload), { gzip: true })
    expect(await sound.cache.get("one")).toEqual(value)
  })

  it("a bomb is cut at its declared size, and one declaring more than the size cap is refused before inflating", async () => {
    // 600 members of 1 MiB of zeros: 600 MiB from about 600 KB, declaring 1 MiB (the last member's ISIZE).
    const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 })
    const bomb = Buffer.concat(Array.from({ length: 600 }, () => member))
    const forge = forgeable()
    await forge.forge("bomb", bomb, { gzip: true })
    await expectRefused(forge, "bomb", /larger than 1048577 bytes/)
    // Declaring the truth, 600 MiB, over a cap of 64 MiB: refused from the trailer alone.
    const declared = Buffer.from(bomb)
    declared.writeUInt32LE(600 * 1024 * 1024, declared.length - 4)
    const capped = forgeable({ maxEntrySize: 64 * 1024 * 1024 })
    await capped.forge("bomb", declared, { gzip: true })
    await expectRefused(capped, "bomb", /declares 629145600 bytes, over the cap of 67108864/)
  })

  it("an honest compressed entry reads back", async () => {
    const cache = createMemoryCache({ compressAbove: 1024 })
    await cache.put("page", value)
    expect(await cache.get("page")).toEqual(value)
  })
})

describe("build records read back are checked like any stored value", () => {
  const forgeries: [string, unknown][] = [
    ["null", null],
    ["a number", 42],
    ["a string", "runs"],
    ["a record", { length: 3, 0: "x" }],
    ["a list of other things", [1, null, { tool: 1 }, ["x"]]],
    ["a manifest of numbers", { format: 3, tool: "t", startedAt: "x", strings: [1], documents: 5 }],
    [
      "documents of the wrong shape",
      { format: 3, tool: "t", startedAt: "x", strings: [], documents: [["p", -1, -1, "k", true, [0.5, 1], null, null]] },
    ],
    [
      "a string index out of range",
      { format: 3, tool: "t", startedAt: "x", strings: [], documents: [["p", 7, -1, "k", true, null, null, null]] },
    ],
    ["an unknown format", { format: 4, tool: "t", startedAt: "x", documents: {} }],
    [
      "a manifest of the format before",
      { format: 2, tool: "t", startedAt: "x", strings: [], documents: [["a.md", "0".repeat(32), true, null, null]] },
    ],
    ["plain records", { tool: "t", startedAt: "x", documents: { "a.md": { key: "0".repeat(32), hit: true } } }],
    ["a sweep record of the wrong shape", { at: { toString: "now" }, since: 1, sweeps: "many" }],
  ]
  for (const [name, forged] of forgeries) {
    it(`${name} under every record key: read as no record, the build finishes and replaces them`, async () => {
      const cache = createTieredStoreCache()
      const records = buildRecords(cache)
      for (const k of [runsKey("blog"), toolsKey(), manifestKey("blog"), manifestDigestKey("blog"), sweepKey()])
        await records.put(k, forged)
      expect(await readRuns(cache, "blog")).toEqual([])
      expect(await readSweep(cache)).toBeUndefined()
      expect(await readTools(cache)).toEqual([])
      expect(await readManifest(cache, "blog")).toBeUndefined()
      expect(await prefetchFromManifest(cache, "blog")).toBe(0)
      const stats = new BuildStats()
      await memoize(cache, { content: "a" }, () => "html", { stats, document: "a.md" })
      const run = await finishBuild(cache, stats, "blog")
      expect((await readRuns(cache, "blog")).map((r) => r.startedAt)).toEqual([run.startedAt])
      expect(await readTools(cache)).toEqual(["blog"])
      expect(Object.keys((await readManifest(cache, "blog"))?.documents ?? {})).toEqual(["a.md"])
      expect((await readSweep(cache))?.sweeps).toBe(1)
    })
  }

  it("names in a manifest (paths, part names) are data: `__proto__` among them changes no prototype", async () => {
    const cache = createMemoryCache()
    const stored = {
      format: 3,
      tool: "blog",
      startedAt: "2024-01-01T00:00:00.000Z",
      strings: ["__proto__", "0123"],
      documents: [["__proto__", -1, -1, "00".repeat(16), true, [0, 1], [0, -1], null]],
    }
    // Put as JSON with own `__proto__` keys would be refused; here the names are strings in lists, as stored.
    await buildRecords(cache).put(manifestKey("blog"), stored)
    const manifest = await readManifest(cache, "blog")
    const record = Object.getOwnPropertyDescriptor(manifest?.documents, "__proto__")?.value as DocumentRecord
    expect(record.key).toBe("00".repeat(16))
    expect(Object.getOwnPropertyDescriptor(record.parts, "__proto__")?.value).toBe("0123")
    expect(Object.getPrototypeOf(manifest?.documents)).toBe(Object.prototype)
    expect(Object.getPrototypeOf(record.parts)).toBe(Object.prototype)
  })
})

/** A StoreCache over two memory tiers, so that `prefetchFromManifest` has something to do. */
function createTieredStoreCache(): StoreCache {
  return new StoreCache(createTieredStore([new MemoryStore(), new MemoryStore()]))
}
