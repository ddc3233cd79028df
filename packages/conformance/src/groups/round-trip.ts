import { describe, expect, it } from "vitest"
import type { Harness } from "../target.js"

/** Every type the cache contract stores (docs/architecture.md), with the expected prototype checked (`toStrictEqual`). */
export function roundTripValues(): [string, unknown][] {
  const random = new Uint8Array(4 * 1024 * 1024)
  for (let i = 0; i < random.length; i += 4096) random[i] = (i * 2654435761) & 0xff
  const nested = {
    title: "Hello",
    tags: new Set(["a", "b"]),
    meta: new Map<unknown, unknown>([
      ["date", new Date("2024-02-29T12:00:00Z")],
      [1, [1n, null, { deep: [new Uint8Array([1, 2, 3])] }]],
    ]),
    html: "<p>héllo — 🎉</p>",
  }
  return [
    ["empty string", ""],
    ["string", "<h1>Title</h1>\n<p>text</p>"],
    ["unicode string", "żółć 🎉 \u0000 \uffff"],
    ["zero", 0],
    ["negative zero", -0],
    ["float", Math.PI],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["max safe integer", Number.MAX_SAFE_INTEGER],
    ["false", false],
    ["true", true],
    ["null", null],
    ["empty object", {}],
    ["empty array", []],
    ["plain object", { a: 1, b: "two", c: [3], d: { e: null } }],
    ["array", [1, "two", null, false, [[]], {}]],
    ["empty Uint8Array", new Uint8Array(0)],
    ["Uint8Array", new Uint8Array([0, 1, 254, 255])],
    ["Buffer", Buffer.from("binary\u0000data")],
    [
      "Map",
      new Map([
        ["k", 1],
        ["j", 2],
      ]),
    ],
    ["empty Map", new Map()],
    ["Set", new Set([1, "x", null])],
    ["Date", new Date("2001-09-09T01:46:40.123Z")],
    ["bigint", 12345678901234567890123456789n],
    ["negative bigint", -1n],
    ["nested combination", nested],
    ["4 MiB bytes", random],
    ["4 MiB string", "x".repeat(4 * 1024 * 1024)],
  ]
}

export function roundTrip(h: Harness): void {
  describe(`${h.target.name}: round trip`, () => {
    // One cache for every value (each under its own key): opening a store per value cost more than the trip.
    const shared = h.lasting()
    for (const [name, value] of roundTripValues()) {
      it(`returns ${name} exactly`, async () => {
        const cache = await shared.open()
        expect(await cache.put(`value:${name}`, value)).toBe(true)
        const got = await cache.get(`value:${name}`)
        if (typeof value === "number" && Object.is(value, -0)) expect(Object.is(got, -0)).toBe(true)
        if (value instanceof Uint8Array) {
          // Byte comparison: vitest's deep equality walks a 4 MiB array element by element.
          expect(got).toBeInstanceOf(Uint8Array)
          expect(Buffer.compare(got as Uint8Array, value)).toBe(0)
          expect(Buffer.isBuffer(got)).toBe(Buffer.isBuffer(value))
        } else {
          expect(got).toStrictEqual(value)
        }
        expect(await cache.has(`value:${name}`)).toBe(true)
      })
    }

    it("accepts Key, string and bytes keys, the same string and bytes being one key", async () => {
      const { cache } = await h.fresh()
      const { key } = await import("@sitecache/core")
      expect(await cache.put(key("doc", 1), "by key")).toBe(true)
      expect(await cache.get(key("doc", 1))).toBe("by key")
      expect(await cache.put(new Uint8Array([1, 2, 3]), "by bytes")).toBe(true)
      expect(await cache.get(new Uint8Array([1, 2, 3]))).toBe("by bytes")
      expect(await cache.get(key(new Uint8Array([1, 2, 3])))).toBe("by bytes")
      expect(await cache.put("about.md", "by string")).toBe(true)
      expect(await cache.get(key("about.md"))).toBe("by string")
    })
  })
}
