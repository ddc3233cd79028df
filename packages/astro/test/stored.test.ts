import { describe, expect, it } from "vitest"
import { anchors, fromStored, invalidEntry, toStored } from "../src/stored.js"

const here = anchors({ root: "/home/a/site", astro: "/home/a/site/node_modules/.pnpm/astro@5/node_modules/astro" })
const there = anchors({ root: "/ci/build/site", astro: "/ci/store/astro@5/node_modules/astro" })

describe("a module as a cache entry", () => {
  const module = {
    code: [
      `import { render } from "/home/a/site/node_modules/.pnpm/astro@5/node_modules/astro/dist/runtime/server/index.js";`,
      `export const file = "/home/a/site/src/pages/a.md";`,
      `const sibling = "/home/a/site-other/x.md";`,
    ].join("\n"),
    map: { version: 3, sources: ["/home/a/site/src/pages/a.mdx"], mappings: "AAAA" },
    meta: { astro: { hydratedComponents: [], propagation: "none" }, vite: { lang: "ts" } },
  }

  it("keeps absolute paths relative to the root and Astro's directory, and moves them to the next build's", () => {
    const stored = toStored(module, here)
    if (!("stored" in stored)) throw new Error(stored.uncacheable)
    expect(stored.stored.code).not.toContain("/home/a/site/")
    expect(stored.stored.code).toContain("/home/a/site-other/x.md")
    expect(fromStored(stored.stored, here)).toEqual(module)
    const moved = fromStored(stored.stored, there)
    expect(moved.code).toContain(`from "/ci/store/astro@5/node_modules/astro/dist/runtime/server/index.js"`)
    expect(moved.code).toContain(`"/ci/build/site/src/pages/a.md"`)
    expect(moved.map).toEqual({ ...module.map, sources: ["/ci/build/site/src/pages/a.mdx"] })
    expect(invalidEntry(stored.stored)).toBeUndefined()
  })

  it("does not store what it could not give back as it was", () => {
    expect(toStored({ ...module, code: "const marker = '\u0000sitecache:root\u0000'" }, here)).toEqual({
      uncacheable: "the result holds sitecache's path marker",
    })
    expect(toStored({ ...module, ast: {} }, here)).toEqual({ uncacheable: "a module with `ast`" })
    expect(toStored({ code: new String("x") }, here)).toEqual({ uncacheable: "code that is not a string" })
    expect(toStored({ code: "x", meta: { f: () => 1 } }, here)).toEqual({ uncacheable: "`result.meta.f` holds a function" })
    expect(toStored("code", here)).toEqual({ uncacheable: "not a module" })
  })

  it("refuses entries of another shape, forged prototypes included", () => {
    expect(invalidEntry(null)).toBe("not a module entry")
    expect(invalidEntry({ code: 1 })).toBe("`code` is not a string")
    expect(invalidEntry({ code: "x", extra: 1 })).toBe("an entry with `extra`")
    expect(invalidEntry({ code: "x", meta: [] })).toBe("`meta` is not a record")
    expect(invalidEntry(JSON.parse('{"code":"x","meta":{"__proto__":{"polluted":true}}}'))).toBe(
      "`entry.meta` has a key `__proto__`",
    )
    expect(
      invalidEntry({
        code: "x",
        meta: {
          a: {
            get b() {
              return 1
            },
          },
        },
      }),
    ).toBe("`entry.meta.a.b` is an accessor")
  })
})
