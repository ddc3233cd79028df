import { describe, expect, it } from "vitest"
import { copyPlainData, PLAIN_COPY_DEPTH } from "../src/plain-copy.js"

class Invalid extends Error {}
const invalid = (why: string): never => {
  throw new Invalid(why)
}

describe("copyPlainData", () => {
  it("copies plain data into fresh objects, strings through `text`", () => {
    const stored = { code: "/abs/a.js", list: [1, true, null, { x: "y" }] }
    const copy = copyPlainData(stored, "entry", { invalid, text: (s) => s.toUpperCase() }) as typeof stored
    expect(copy).toEqual({ code: "/ABS/A.JS", list: [1, true, null, { x: "Y" }] })
    expect(copy).not.toBe(stored)
    expect(copy.list[3]).not.toBe(stored.list[3])
  })

  it("refuses what plain data cannot hold, naming where", () => {
    const forged = JSON.parse('{"a":{"__proto__":{"polluted":true}}}')
    expect(() => copyPlainData(forged, "entry", { invalid })).toThrow(/`entry.a` has a key `__proto__`/)
    expect(() => copyPlainData({ f: () => 1 }, "entry", { invalid })).toThrow(/`entry.f` holds a function/)
    expect(() => copyPlainData({ [Symbol("s")]: 1 }, "entry", { invalid })).toThrow(/symbol keys/)
    expect(() => copyPlainData(new Date(0), "entry", { invalid })).toThrow(/not a plain object/)
    const getter = Object.defineProperty({}, "g", { get: () => 1, enumerable: true })
    expect(() => copyPlainData(getter, "entry", { invalid })).toThrow(/`entry.g` is an accessor/)
    let deep: unknown = 1
    for (let i = 0; i <= PLAIN_COPY_DEPTH + 1; i++) deep = [deep]
    expect(() => copyPlainData(deep, "entry", { invalid })).toThrow(/nested too deep/)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it("refuses `undefined`, or leaves such a property out with `dropUndefined`", () => {
    expect(() => copyPlainData({ a: undefined }, "entry", { invalid })).toThrow(/`entry.a` holds a undefined/)
    expect(copyPlainData({ a: undefined, b: 1 }, "entry", { invalid, dropUndefined: true })).toEqual({ b: 1 })
  })
})
