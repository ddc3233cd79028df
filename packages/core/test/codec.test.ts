import { deserialize, serialize } from "node:v8"
import { describe, expect, it, vi } from "vitest"
import { v8Codec } from "../src/index.js"

const PLAIN = 0x01
const V8 = 0xff

function roundTrip(value: unknown): { payload: Uint8Array; back: unknown } {
  const payload = v8Codec.encode(value)
  return { payload, back: v8Codec.decode(payload) }
}

describe("v8Codec", () => {
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
      const payload = v8Codec.encode(value)
      expect(toJSON).not.toHaveBeenCalled()
      expect(payload[0]).toBe(1)
      const back = v8Codec.decode(payload) as typeof value
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
    const payload = v8Codec.encode({ page: new Uint8Array(4096).fill(7) })
    const back = v8Codec.decode(payload) as { page: Uint8Array }
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
      ["long text", { html: "x".repeat(5000) }],
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

  it("refuses a damaged plain payload instead of guessing", () => {
    const good = Buffer.from(v8Codec.encode({ page: new Uint8Array([1, 2, 3]) }))
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
    expect(() => v8Codec.decode(good.subarray(0, good.length - 1))).toThrow(/past the end|bad byte array/)
    expect(() => v8Codec.decode(Buffer.concat([good, Buffer.from([0])]))).toThrow(/trailing bytes/)
    expect(() => v8Codec.decode(withHead({ ...head, b: [[["missing"], 0, 3]] }))).toThrow(/does not exist/)
    expect(() => v8Codec.decode(withHead({ v: { page: "taken" }, b: head.b }))).toThrow(/is taken/)
    expect(() => v8Codec.decode(withHead({ v: JSON.parse('{"__proto__": null}'), b: [[["__proto__"], 0, 3]] }))).toThrow(
      /does not exist/,
    )
    expect(() => v8Codec.decode(good.subarray(0, 3))).toThrow(/no head/)
  })
})
