import { deserialize, serialize } from "node:v8"
import { describe, expect, it, vi } from "vitest"
import { jsonOrV8Codec } from "../src/index.js"

const PLAIN = 0x01
const V8 = 0xff

function roundTrip(value: unknown): { payload: Uint8Array; back: unknown } {
  const payload = jsonOrV8Codec.encode(value)
  return { payload, back: jsonOrV8Codec.decode(payload) }
}

describe("jsonOrV8Codec", () => {
  it("stores each long string in its smallest exact encoding: ASCII and Latin text with a few typographic characters at 1 byte a character, CJK as UTF-16", () => {
    const ascii = "<p>Plain ASCII text, 20,000 characters of it.</p>".repeat(400)
    const typographic = `<p>\u201cOne curly quote\u201d</p>${ascii}`
    const latin = "Déjà vu, naïve café, façade — « guillemets ». ".repeat(400)
    const cjk = "日本語のテキストと中文文本。".repeat(1500)
    const emoji = "🎉 party ".repeat(1000)
    for (const [name, text] of Object.entries({ ascii, typographic, latin, cjk, emoji })) {
      const value = { value: text, data: { title: "t" }, messages: [] }
      const { payload, back } = roundTrip(value)
      expect(payload[0], name).toBe(PLAIN)
      expect(back, name).toStrictEqual(value)
      const smaller = Math.min(Buffer.byteLength(text, "utf8"), text.length * 2)
      expect(payload.length, name).toBeLessThanOrEqual(smaller * 1.05)
    }
    // v8 alone stores a page with one character past U+00FF at two bytes a character.
    expect(serialize({ value: typographic }).length).toBeGreaterThan(typographic.length * 1.9)
    expect(jsonOrV8Codec.encode({ value: typographic }).length).toBeLessThan(typographic.length * 1.01)
  })

  it("writes a head of short CJK strings in UTF-16, where it is smaller than UTF-8, and refuses one nested too deep", () => {
    const value = {
      title: "日本語のタイトル",
      tags: ["缓存", "构建", "网站"],
      description: "静的サイトのキャッシュ。".repeat(20),
    }
    const { payload, back } = roundTrip(value)
    expect(payload[0]).toBe(0x02)
    expect(back).toStrictEqual(value)
    expect(payload.length).toBeLessThan(Buffer.byteLength(JSON.stringify(value), "utf8"))
    const deep = `{"v":${"[".repeat(2000)}"日本語"${"]".repeat(2000)},"b":[]}`
    const forged = Buffer.alloc(5 + deep.length * 2)
    forged[0] = 0x02
    forged.writeUInt32LE(deep.length * 2, 1)
    forged.write(deep, 5, "utf16le")
    expect(() => jsonOrV8Codec.decode(forged)).toThrow(/nested more than/)
    expect(() => jsonOrV8Codec.decode(forged.subarray(0, forged.length - 1))).toThrow(/past the end|odd length/)
  })

  it("takes the long strings out of a value v8 must write (a Date, a Map), keeping shared references, and leaves the value as it was", () => {
    const typographic = `<p>\u201cCurly\u201d ${"text of a page, ".repeat(200)}</p>`
    const cjk = "静的サイトのキャッシュ。".repeat(100)
    const shared = { html: typographic }
    const frozen = Object.freeze({ html: `${typographic} frozen` })
    const value = {
      date: new Date(0),
      a: shared,
      b: shared,
      list: [cjk, { deep: typographic }],
      map: new Map([["page", typographic]]),
      frozen,
    }
    const payload = jsonOrV8Codec.encode(value)
    expect(payload[0]).toBe(0x03)
    const back = jsonOrV8Codec.decode(payload) as typeof value
    expect(back).toStrictEqual(deserialize(serialize(value)))
    expect(back.a).toBe(back.b)
    expect(back.date).toBeInstanceOf(Date)
    expect(back.map.get("page")).toBe(typographic)
    // Nothing of the value changed, and it is smaller than what v8 alone writes (the Map's and the frozen
    // object's strings are still v8's).
    expect(value.a.html).toBe(typographic)
    expect(value.list[0]).toBe(cjk)
    expect(payload.length).toBeLessThan(serialize(value).length * 0.8)
    // A cycle, and an object shared between a Map and a plain property: v8 keeps both.
    const cycle: Record<string, unknown> = { html: typographic, when: new Date(1) }
    cycle.self = cycle
    const inMap = { html: typographic }
    const both = { cycle, inMap, map: new Map([["x", inMap]]) }
    const again = jsonOrV8Codec.decode(jsonOrV8Codec.encode(both)) as typeof both & { cycle: { self: unknown } }
    expect(again.cycle.self).toBe(again.cycle)
    expect(again.map.get("x")).toBe(again.inMap)
    expect(again.inMap.html).toBe(typographic)
  })

  it("refuses a damaged v8 payload with text instead of guessing", () => {
    const good = Buffer.from(jsonOrV8Codec.encode({ d: new Date(0), html: "é".repeat(600) }))
    expect(good[0]).toBe(0x03)
    expect(() => jsonOrV8Codec.decode(good.subarray(0, good.length - 1))).toThrow(/past the end|trailing|bad blob/)
    expect(() => jsonOrV8Codec.decode(Buffer.concat([good, Buffer.from([0])]))).toThrow(/trailing bytes/)
    expect(() => jsonOrV8Codec.decode(good.subarray(0, 7))).toThrow(/no head/)
    const v8Length = good.readUInt32LE(1)
    const forged = Buffer.from(good)
    forged.writeUInt32LE(0xffff, 5 + v8Length)
    expect(() => jsonOrV8Codec.decode(forged)).toThrow(/past the end/)
  })

  it("round-trips long strings exactly: at the top, in arrays, beside bytes, with lone surrogates and NUL", () => {
    const long = (seed: string) => seed.repeat(Math.ceil(600 / seed.length))
    const values: unknown[] = [
      long("top level "),
      [long("a"), long("é"), long("日"), { deep: [long("\uD83D lone high ")] }, long("\uDE00 lone low")],
      { page: long("x\u0000y"), bytes: Buffer.from("b"), html: long("<p>“q”</p>"), short: "s" },
      { exactly: "z".repeat(512), under: "z".repeat(511) },
    ]
    for (const value of values) {
      const { payload, back } = roundTrip(value)
      expect(payload[0]).toBe(PLAIN)
      expect(back).toStrictEqual(value)
    }
  })

  it("writes plain data and bytes as JSON plus the bytes, and reads them back exactly", () => {
    const values: unknown[] = [
      {},
      [],
      null,
      "text",
      42.5,
      true,
      { a: 1, s: "héllo — 🎉 \u0000", list: [1, "2", null, false, [[]], {}], nested: { deep: { n: -3 } } },
      { page: new Uint8Array([1, 2, 3]), buffer: Buffer.from("binary\u0000data"), empty: new Uint8Array(0) },
      [new Uint8Array([9]), { inner: [Buffer.from("x")] }],
      new Uint8Array([0, 255]),
      Buffer.from("top"),
      { "": "empty key", "1": "index-like key", toJSON: "not a function" },
      { lone: "\uD83D alone" },
    ]
    for (const value of values) {
      const { payload, back } = roundTrip(value)
      expect(payload[0]).toBe(PLAIN)
      expect(back).toStrictEqual(value)
    }
    // Buffers come back as Buffers, Uint8Arrays as Uint8Arrays.
    const back = roundTrip({ u: new Uint8Array([1]), b: Buffer.from([2]) }).back as { u: Uint8Array; b: Buffer }
    expect(Buffer.isBuffer(back.b)).toBe(true)
    expect(Buffer.isBuffer(back.u)).toBe(false)
  })

  it("writes byte arrays anywhere in a value without converting them to JSON, and leaves the value as it was", () => {
    const page = Buffer.from("<p>page</p>".repeat(100))
    const value = {
      value: page,
      text: true,
      fields: { data: { thumb: new Uint8Array([1, 2, 3]), list: [Buffer.from("a"), 1, { deep: Buffer.from("b") }] } },
      messages: [],
    }
    const deep = value.fields.data.list[2] as { deep: Buffer }
    const held = [value.fields, value.fields.data, value.fields.data.list, deep, deep.deep, value.fields.data.thumb]
    const toJSON = vi.spyOn(Buffer.prototype, "toJSON")
    try {
      const payload = jsonOrV8Codec.encode(value)
      expect(toJSON).not.toHaveBeenCalled()
      expect(payload[0]).toBe(1)
      const back = jsonOrV8Codec.decode(payload) as typeof value
      expect(back).toEqual(value)
      expect(Buffer.isBuffer(back.value)).toBe(true)
      expect(Buffer.isBuffer(back.fields.data.thumb)).toBe(false)
      // Nothing of the value was replaced or emptied.
      expect(value.value).toBe(page)
      const now = [
        value.fields,
        value.fields.data,
        value.fields.data.list,
        value.fields.data.list[2],
        deep.deep,
        value.fields.data.thumb,
      ]
      for (const [i, item] of now.entries()) expect(item, String(i)).toBe(held[i])
      expect(deep.deep.toString()).toBe("b")
    } finally {
      toJSON.mockRestore()
    }
  })

  it("reads byte arrays as views of the payload, without copying them", () => {
    const payload = jsonOrV8Codec.encode({ page: new Uint8Array(4096).fill(7) })
    const back = jsonOrV8Codec.decode(payload) as { page: Uint8Array }
    expect(back.page.buffer).toBe(payload.buffer)
  })

  it("leaves to v8 what JSON would not read back the same", () => {
    const shared = { same: true }
    const cycle: Record<string, unknown> = { name: "cycle" }
    cycle.self = cycle
    const holey: unknown[] = [1, 2, 3]
    delete holey[1]
    const extra = Object.assign([1, 2], { note: "extra" })
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 })
    const proto = JSON.parse('{"__proto__": {"polluted": true}}') as unknown
    const cases: [string, unknown][] = [
      ["negative zero", -0],
      ["negative zero inside", { n: -0 }],
      ["NaN", { n: Number.NaN }],
      ["Infinity", [Number.POSITIVE_INFINITY]],
      ["undefined property", { a: undefined, b: 1 }],
      ["undefined item", [undefined]],
      ["hole", holey],
      ["array with a property", extra],
      ["shared reference", { a: shared, b: shared }],
      ["cycle", cycle],
      ["Map", { m: new Map([["k", 1]]) }],
      ["Set", new Set([1])],
      ["Date", { d: new Date(0) }],
      ["bigint", { n: 1n }],
      ["null-prototype object", bare],
      ["__proto__ key", proto],
      ["other typed array", { u16: new Uint16Array([1]) }],
      ["much short text", { words: Array.from({ length: 600 }, (_, i) => `word ${i}`) }],
    ]
    for (const [name, value] of cases) {
      const { payload, back } = roundTrip(value)
      expect(payload[0], name).toBe(V8)
      expect(Buffer.from(payload).equals(serialize(value)), name).toBe(true)
      // Exactly what v8 alone reads back (which is not always the value: a null-prototype object comes back plain).
      expect(back, name).toStrictEqual(deserialize(serialize(value)))
    }
    expect(Object.is(roundTrip(-0).back, -0)).toBe(true)
    const back = roundTrip({ a: shared, b: shared }).back as { a: unknown; b: unknown }
    expect(back.a).toBe(back.b)
    expect(Object.getPrototypeOf(roundTrip(proto).back)).toBe(Object.prototype)
  })

  it("says which decoded values need no walk against the cache's bounds: plain data whose head cannot spell `__proto__`", () => {
    const page = { html: "x".repeat(5000), data: { title: "T", tags: ["a", "b"] }, bytes: new Uint8Array([1, 2]) }
    const decoded = jsonOrV8Codec.decodeBounded?.(jsonOrV8Codec.encode(page))
    expect(decoded?.bounded).toBe(true)
    expect(decoded?.value).toEqual(page)
    expect(jsonOrV8Codec.decode(jsonOrV8Codec.encode(page))).toEqual(page)
    // What the head may spell `__proto__` with, and whatever v8 wrote, is left to the cache's walk.
    expect(jsonOrV8Codec.decodeBounded?.(jsonOrV8Codec.encode({ note: "__proto__" }))?.bounded).toBe(false)
    expect(jsonOrV8Codec.decodeBounded?.(jsonOrV8Codec.encode({ control: "\u0001" }))?.bounded).toBe(false)
    expect(jsonOrV8Codec.decodeBounded?.(jsonOrV8Codec.encode({ when: new Date(0) }))?.bounded).toBe(false)
  })

  it("refuses a damaged plain payload instead of guessing", () => {
    const good = Buffer.from(jsonOrV8Codec.encode({ page: new Uint8Array([1, 2, 3]) }))
    const headLength = good.readUInt32LE(1)
    const head = JSON.parse(good.toString("utf8", 5, 5 + headLength)) as { v: unknown; b: unknown[] }
    const withHead = (changed: unknown, tail = good.subarray(5 + headLength)) => {
      const text = Buffer.from(JSON.stringify(changed))
      const out = Buffer.alloc(5 + text.length + tail.length)
      out[0] = PLAIN
      out.writeUInt32LE(text.length, 1)
      text.copy(out, 5)
      tail.copy(out, 5 + text.length)
      return out
    }
    expect(() => jsonOrV8Codec.decode(good.subarray(0, good.length - 1))).toThrow(/past the end|bad blob/)
    expect(() => jsonOrV8Codec.decode(Buffer.concat([good, Buffer.from([0])]))).toThrow(/trailing bytes/)
    expect(() => jsonOrV8Codec.decode(withHead({ ...head, b: [[["missing"], 0, 3]] }))).toThrow(/does not exist/)
    expect(() => jsonOrV8Codec.decode(withHead({ v: { page: "taken" }, b: head.b }))).toThrow(/is taken/)
    expect(() => jsonOrV8Codec.decode(withHead({ v: JSON.parse('{"__proto__": null}'), b: [[["__proto__"], 0, 3]] }))).toThrow(
      /does not exist/,
    )
    expect(() => jsonOrV8Codec.decode(good.subarray(0, 3))).toThrow(/no head/)
    expect(() => jsonOrV8Codec.decode(withHead({ ...head, b: [[["page"], 9, 3]] }))).toThrow(/unknown kind/)
    expect(() => jsonOrV8Codec.decode(withHead({ ...head, b: [[["page"], 4, 3]] }))).toThrow(/odd length/)
  })
})
