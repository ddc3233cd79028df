import { describe, expect, it } from "vitest"
import { fingerprint, key } from "../src/index.js"

describe("fingerprint", () => {
  it("finishes on a function whose own property is itself (`fn.default = fn`, as Eleventy's plugins are)", () => {
    const plugin = Object.assign(function htmlBase() {}, { extra: 1 }) as ((...args: never[]) => unknown) & {
      default?: unknown
    }
    plugin.default = plugin
    expect(() => key(fingerprint(plugin))).not.toThrow()
    expect(key(fingerprint(plugin)).hex).toBe(key(fingerprint(plugin)).hex)
  })

  it("finishes on a cycle through two functions", () => {
    const a = Object.assign(() => 1, { name2: "a" }) as (() => number) & { other?: unknown }
    const b = Object.assign(() => 2, { other: a })
    a.other = b
    expect(() => key(fingerprint({ plugins: [a, b] }))).not.toThrow()
  })
})
