import { execFile } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { types } from "node:util"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { describeUnsound, FINGERPRINT_VERSION, fingerprint, Key, key, type UnsoundCode } from "../src/index.js"
import { buildGraph, type GraphSpec, graphArbitrary, leafArbitrary, otherLeaf, reachableLeafEdges, withLeaf } from "./graphs.js"
import { realValues } from "./real-values.js"

const require = createRequire(import.meta.url)
const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url))

const hex = (value: unknown) => fingerprint(value).key.hex
const codes = (value: unknown): UnsoundCode[] => fingerprint(value).unsound.map((part) => part.code)

/** Run an ES module script in a new Node.js process (TypeScript through tsx), `input` on its stdin; resolves with its stdout. */
function runNode(script: string, input = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [
        "--conditions=@sitecache/source",
        "--import",
        pathToFileURL(require.resolve("tsx")).href,
        "--input-type=module",
        "--eval",
        script,
      ],
      { cwd: PACKAGE_ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(Object.assign(error, { stderr })) : resolve(stdout)),
    )
    child.stdin?.end(input)
  })
}

const moduleUrl = (path: string) => JSON.stringify(new URL(path, import.meta.url).href)

describe("fingerprint: shapes real plugins carry", () => {
  it("finishes on a function whose own property is itself (`fn.default = fn`, as Eleventy's plugins are)", () => {
    const plugin = Object.assign(function htmlBase() {}, { extra: 1 }) as ((...args: never[]) => unknown) & {
      default?: unknown
    }
    plugin.default = plugin
    const print = fingerprint(plugin)
    expect(print.unsound).toEqual([])
    expect(key(print.key).hex).toBe(key(fingerprint(plugin).key).hex)
  })

  it("finishes on a cycle through two functions, and through functions and objects", () => {
    const a = Object.assign(() => 1, { name2: "a" }) as (() => number) & { other?: unknown }
    const b = Object.assign(() => 2, { other: a, options: { back: a } })
    a.other = b
    expect(fingerprint({ plugins: [a, b] }).unsound).toEqual([])
    expect(hex({ plugins: [a, b] })).toBe(hex({ plugins: [a, b] }))
  })

  it("reads getters' functions, never calls them, on the object or its prototype", () => {
    let calls = 0
    class Options {
      get expensive(): number {
        calls++
        throw new Error("a getter that throws")
      }
    }
    const value = {
      get broken(): number {
        calls++
        throw new Error("a getter that throws")
      },
      inherited: new Options(),
    }
    expect(fingerprint(value).unsound).toEqual([])
    expect(calls).toBe(0)
    const other = {
      get broken(): number {
        calls++
        return 1
      },
      inherited: new Options(),
    }
    expect(hex(other)).not.toBe(hex(value))
    expect(calls).toBe(0)
  })

  it("never calls `toJSON`, `Symbol.toPrimitive` or `valueOf`, even when they throw", () => {
    const thrower = () => {
      throw new Error("called")
    }
    const value = { toJSON: thrower, [Symbol.toPrimitive]: thrower, valueOf: thrower, toString: thrower }
    expect(() => fingerprint(value)).not.toThrow()
    expect(fingerprint(value).unsound).toEqual([])
  })

  it("refuses a Proxy, revoked or not, without running a trap, wherever it is", () => {
    let traps = 0
    const handler = new Proxy(
      {},
      {
        get() {
          traps++
          return () => {
            traps++
            throw new Error("trap")
          }
        },
      },
    )
    const live = new Proxy({ a: 1 }, handler)
    const revocable = Proxy.revocable({ a: 1 }, {})
    revocable.revoke()
    const fnProxy = new Proxy(() => 1, handler)
    for (const value of [live, revocable.proxy, fnProxy, { deep: [{ x: live }] }, Object.create(revocable.proxy)]) {
      expect(codes(value)).toEqual(["proxy"])
    }
    expect(traps).toBe(0)
    expect(fingerprint({ deep: [{ x: live }] }).unsound[0]?.path).toBe("deep[0].x")
    expect(fingerprint(Object.create(revocable.proxy)).unsound[0]?.path).toBe("<prototype>")
  })

  it("refuses an instance of a class with private fields, and names them; takes one with plain own data in full", () => {
    class Highlighter {
      #themes: string[]
      constructor(themes: string[]) {
        this.#themes = themes
      }
      themes() {
        return this.#themes
      }
    }
    const refused = fingerprint({ highlighter: new Highlighter(["dark"]) })
    expect(refused.unsound).toEqual([
      {
        path: "highlighter",
        code: "private-fields",
        reason: "is an instance of `Highlighter`, whose private fields (#themes) cannot be read",
      },
    ])
    expect(describeUnsound(refused.unsound[0] as never, "option")).toBe(
      "option `highlighter` is an instance of `Highlighter`, whose private fields (#themes) cannot be read",
    )
    class Theme {
      name: string
      colors = { background: "#000", text: "#fff" } // `#` in strings is not a private field
      constructor(name: string) {
        this.name = name
      }
    }
    expect(fingerprint(new Theme("dark")).unsound).toEqual([])
    expect(hex(new Theme("dark"))).toBe(hex(new Theme("dark")))
    expect(hex(new Theme("light"))).not.toBe(hex(new Theme("dark")))
    // A subclass of a class with private fields hides them too.
    class Sub extends Highlighter {}
    expect(codes(new Sub(["x"]))).toEqual(["private-fields"])
    // So does a subclass of a built-in with contents of its own.
    class Registry extends Map<string, number> {
      #hits = 0
      hit() {
        return ++this.#hits
      }
    }
    expect(codes({ registry: new Registry([["a", 1]]) })).toEqual(["private-fields"])
    // A class given as a value is its source: its prototype object is not an instance.
    expect(fingerprint({ Plugin: Sub, Base: Highlighter }).unsound).toEqual([])
  })

  it("keys a class instance by its class's source: an edited method changes it", () => {
    const make = (body: string) => {
      // Two versions of one class, as an edited file would give.
      const Class = new Function(`return class Plugin { constructor() { this.level = 2 } run() { ${body} } }`)()
      return new Class()
    }
    expect(hex(make("return 1"))).toBe(hex(make("return 1")))
    expect(hex(make("return 2"))).not.toBe(hex(make("return 1")))
  })

  it("keys symbol-keyed properties by their description, in any order", () => {
    const a = Symbol("a")
    const b = Symbol.for("b")
    expect(hex({ [a]: 1, [b]: 2, [Symbol.iterator]: 3 })).toBe(hex({ [Symbol.iterator]: 3, [b]: 2, [Symbol("a")]: 1 }))
    expect(hex({ [a]: 1 })).not.toBe(hex({ [a]: 2 }))
    expect(hex({ [Symbol("a")]: 1 })).not.toBe(hex({ [Symbol.for("a")]: 1 }))
    expect(hex({ [Symbol("a")]: 1 })).not.toBe(hex({ "Symbol(a)": 1 }))
  })

  it("refuses bound and unknown native functions; names the runtime's built-ins", () => {
    const bound = function render() {}.bind(null)
    expect(fingerprint({ render: bound }).unsound).toEqual([
      { path: "render", code: "bound-function", reason: "is a bound function (bound render): what it calls cannot be seen" },
    ])
    // A native function of Node.js's bindings, not a JavaScript built-in.
    expect(codes({ check: types.isDate })).toEqual(["native-function"])
    const builtins = { max: Math.max, push: Array.prototype.push, parse: JSON.parse, encode: encodeURIComponent }
    expect(fingerprint(builtins).unsound).toEqual([])
    expect(hex({ f: Math.max })).not.toBe(hex({ f: Math.min }))
    expect(hex({ f: String })).not.toBe(hex({ f: Number }))
  })

  it("takes frozen objects as they are, their attributes counted", () => {
    const frozen = Object.freeze({ a: 1, nested: Object.freeze([1, 2]) })
    expect(fingerprint(frozen).unsound).toEqual([])
    expect(hex(frozen)).toBe(hex(Object.freeze({ a: 1, nested: Object.freeze([1, 2]) })))
    expect(hex(frozen)).not.toBe(hex({ a: 1, nested: [1, 2] }))
  })

  it("keys built-in types by their contents", () => {
    expect(hex(new Map([["a", 1]]))).not.toBe(hex(new Map([["a", 2]])))
    expect(hex(new Map([["a", 1]]))).not.toBe(hex({ a: 1 }))
    expect(hex(new Set([1, 2]))).not.toBe(hex(new Set([2, 1])))
    expect(hex(new Set([1]))).not.toBe(hex([1]))
    expect(hex(new Uint8Array([1, 2]))).not.toBe(hex(new Uint8Array([1, 3])))
    expect(hex(new Uint8Array([1, 2]))).not.toBe(hex(new Int8Array([1, 2])))
    expect(hex(Buffer.from("hi"))).toBe(hex(Buffer.from("hi")))
    expect(hex(new Date(1))).not.toBe(hex(new Date(2)))
    expect(hex(/a/g)).not.toBe(hex(/a/i))
    const used = /a/g
    used.exec("aaa")
    expect(hex(used)).toBe(hex(/a/g)) // lastIndex is transient
    const makeError = () => new TypeError("boom")
    expect(hex(makeError())).toBe(hex(new TypeError("boom"))) // not the stack: another line, the same error
    expect(hex(new TypeError("boom"))).not.toBe(hex(new RangeError("boom")))
    expect(hex(new URL("https://example.com/a"))).not.toBe(hex(new URL("https://example.com/b")))
    expect(hex(Object(1))).not.toBe(hex(1))
    expect(hex(new Key(new Uint8Array(16)))).not.toBe(hex(new Uint8Array(16)))
    expect(hex(key("a"))).not.toBe(hex(key("b")))
    const values = [new Map(), new Set(), new Uint8Array(2), new Date(0), /a/, new Error("x"), new URL("https://x.y"), key("a")]
    for (const value of values) {
      expect(fingerprint(value).unsound).toEqual([])
    }
    expect(fingerprint(new WeakMap()).unsound).toEqual([])
  })

  it("refuses values whose state is in a built-in's internal slots", () => {
    expect(codes(Promise.resolve(1))).toEqual(["hidden-state"])
    expect(codes(new TextDecoder())).toEqual(["hidden-state"])
    expect(codes(new Map().entries())).toEqual(["hidden-state"])
    expect(codes((function* () {})())).toEqual(["hidden-state"])
    expect(codes(new WeakRef({}))).toEqual(["hidden-state"])
    class Decoder extends TextDecoder {}
    expect(codes(new Decoder())).toEqual(["hidden-state"])
    // Its prototype object is not an instance.
    expect(fingerprint(Decoder).unsound).toEqual([])
  })

  it("tells holes, undefined and accessors of an array apart", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(hex([1, , 3])).not.toBe(hex([1, undefined, 3]))
    const withGetter = [1, 2]
    Object.defineProperty(withGetter, 1, { get: () => 2, enumerable: true })
    expect(hex(withGetter)).not.toBe(hex([1, 2]))
  })

  it("is unambiguous", () => {
    expect(hex({ a: "b" })).not.toBe(hex({ ab: "" }))
    expect(hex(["ab", "c"])).not.toBe(hex(["a", "bc"]))
    expect(hex("1")).not.toBe(hex(1))
    expect(hex(1n)).not.toBe(hex("1"))
    expect(hex(null)).not.toBe(hex(undefined))
    expect(hex({ a: undefined })).not.toBe(hex({}))
    expect(hex([[1], 2])).not.toBe(hex([1, [2]]))
    expect(hex(() => 1)).not.toBe(hex("() => 1"))
  })

  it("reads a module namespace, and refuses a binding that cannot be read yet", async () => {
    // Real ES module namespaces (vitest gives its own objects): `a.mjs` fingerprints `b.mjs`'s namespace while
    // `b.mjs`, which imported it, has not run yet, so `late` is still uninitialized.
    const dir = await mkdtemp(join(tmpdir(), "sitecache-fingerprint-"))
    try {
      await writeFile(join(dir, "b.mjs"), 'import "./a.mjs"\nexport let late = 1\nexport const plain = { a: 1 }\n')
      await writeFile(
        join(dir, "a.mjs"),
        'import * as b from "./b.mjs"\nimport * as path from "node:path"\nglobalThis.seen = [globalThis.fingerprint(b), globalThis.fingerprint(path)]\n',
      )
      const output = await runNode(`
        const { fingerprint } = await import(${moduleUrl("../src/index.ts")})
        globalThis.fingerprint = fingerprint
        const b = await import(${JSON.stringify(pathToFileURL(join(dir, "b.mjs")).href)})
        const [early, path] = globalThis.seen
        const later = fingerprint(b)
        process.stdout.write(JSON.stringify({ early: early.unsound, later: later.unsound, path: path.unsound.map((part) => part.code) }))
      `)
      const { early, later, path } = JSON.parse(output) as { early: unknown; later: unknown; path: string[] }
      expect(early).toEqual([
        { path: "late", code: "unreadable", reason: "cannot be read" },
        { path: "plain", code: "unreadable", reason: "cannot be read" },
      ])
      expect(later).toEqual([])
      expect(path).toContain("bound-function") // `path.format` is a bound function
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it("keeps the key API: a fingerprint's key is a key part", () => {
    const print = fingerprint({ gfm: true })
    expect(print.key).toBeInstanceOf(Key)
    expect(key("doc.md", print.key).hex).toBe(key("doc.md", fingerprint({ gfm: true }).key).hex)
    expect(FINGERPRINT_VERSION).toBeGreaterThan(0)
  })
})

describe("fingerprint: bounded work", () => {
  it("walks a long chain without recursing, and sees its far end", () => {
    const chain = (last: number) => {
      let list: unknown = { end: last }
      for (let i = 0; i < 60_000; i++) list = { next: list, i }
      return list
    }
    const print = fingerprint(chain(1))
    expect(print.unsound).toEqual([])
    expect(print.nodes).toBe(60_000 * 3 + 2)
    expect(fingerprint(chain(2)).key.hex).not.toBe(print.key.hex)
  })

  it("stops at its budget of nodes, where it is, the same way every time", () => {
    const wide: Record<string, number> = {}
    for (let i = 0; i < 5000; i++) wide[`k${i}`] = i
    const tree = (depth: number): unknown => (depth === 0 ? { leaf: 1 } : { a: tree(depth - 1), b: tree(depth - 1) })
    const big = tree(14)
    const first = fingerprint({ wide, big }, { maxNodes: 1000 })
    expect(first.unsound).toEqual([
      {
        path: expect.stringMatching(/^big\.a\./),
        code: "budget",
        reason: "is too large to fingerprint (more than 1000 objects and properties)",
      },
    ])
    expect(first.nodes).toBeLessThanOrEqual(1002)
    expect(fingerprint({ wide, big }, { maxNodes: 1000 }).key.hex).toBe(first.key.hex)
    expect(fingerprint({ wide }, { maxNodes: 1000 }).unsound[0]?.code).toBe("budget")
    // The default budget stops the whole tree too, at the same place every time.
    const whole = fingerprint(tree(17))
    expect(whole.unsound.map((part) => part.code)).toEqual(["budget"])
    expect(whole.nodes).toBeLessThanOrEqual(200_002)
  })

  it("stops at its budget of bytes, before copying a large string or buffer", () => {
    const print = fingerprint({ text: "x".repeat(1_000_000), bytes: new Uint8Array(10) }, { maxBytes: 100_000 })
    expect(print.unsound.map((part) => part.code)).toEqual(["budget"])
    expect(print.bytes).toBeLessThan(100_000)
    expect(fingerprint(new Uint8Array(200_000), { maxBytes: 100_000 }).bytes).toBeLessThan(100_000)
  })
})

describe("fingerprint: property-based, over generated object graphs", () => {
  const graphs = graphArbitrary()

  it("never throws, and terminates within its budget", () => {
    fc.assert(
      fc.property(graphs, (spec) => {
        const print = fingerprint(buildGraph(spec))
        expect(print.unsound).toEqual([])
        expect(print.nodes).toBeLessThan(10_000)
      }),
      { numRuns: 300 },
    )
  })

  it("is deterministic: the same graph built twice has one key", () => {
    fc.assert(
      fc.property(graphs, (spec) => {
        expect(hex(buildGraph(spec))).toBe(hex(buildGraph(spec)))
      }),
      { numRuns: 300 },
    )
  })

  it("does not depend on the order of properties", () => {
    fc.assert(
      fc.property(graphs, (spec) => {
        expect(hex(buildGraph(spec, { reversed: true }))).toBe(hex(buildGraph(spec)))
      }),
      { numRuns: 300 },
    )
  })

  it("changes with any leaf the value reaches", () => {
    const withLeafEdge = graphs
      .filter((spec) => reachableLeafEdges(spec).length > 0)
      .chain((spec) => fc.tuple(fc.constant(spec), fc.constantFrom(...reachableLeafEdges(spec))))
    fc.assert(
      fc.property(withLeafEdge, ([spec, [node, edge]]) => {
        const target = spec.nodes[node]?.edges[edge]?.target as { leaf: Parameters<typeof otherLeaf>[0] }
        const changed = withLeaf(spec, [node, edge], otherLeaf(target.leaf))
        expect(hex(buildGraph(changed))).not.toBe(hex(buildGraph(spec)))
      }),
      { numRuns: 300 },
    )
  })

  it("changes with the source of any function the value reaches", () => {
    const withFunction = graphs
      .map((spec): GraphSpec => ({ nodes: spec.nodes.map((node, i) => (i === 0 ? { ...node, kind: "function" } : node)) }))
      .chain((spec) => fc.tuple(fc.constant(spec), fc.constantFrom("return 'edited'", "return 1 + 1")))
    fc.assert(
      fc.property(withFunction, ([spec, body]) => {
        fc.pre(spec.nodes[0]?.body !== body)
        const edited = { nodes: spec.nodes.map((node, i) => (i === 0 ? { ...node, body } : node)) }
        expect(hex(buildGraph(edited))).not.toBe(hex(buildGraph(spec)))
      }),
      { numRuns: 200 },
    )
  })

  it("gives leaves of different values different keys", () => {
    fc.assert(
      fc.property(leafArbitrary, leafArbitrary, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b))
        expect(
          hex(buildGraph({ nodes: [{ kind: "array", body: "", edges: [{ label: "a", key: a, target: { leaf: a } }] }] })),
        ).not.toBe(
          hex(buildGraph({ nodes: [{ kind: "array", body: "", edges: [{ label: "a", key: b, target: { leaf: b } }] }] })),
        )
      }),
    )
  })

  it("gives the same keys in another process", async () => {
    const specs = fc.sample(graphs, { numRuns: 150, seed: 20_240_601 })
    const here = specs.map((spec) => hex(buildGraph(spec)))
    const output = await runNode(
      `
      import { readFileSync } from "node:fs"
      const { fingerprint } = await import(${moduleUrl("../src/index.ts")})
      const { buildGraph } = await import(${moduleUrl("./graphs.ts")})
      const specs = JSON.parse(readFileSync(0, "utf8"))
      process.stdout.write(JSON.stringify(specs.map((spec) => fingerprint(buildGraph(spec)).key.hex)))
    `,
      JSON.stringify(specs),
    )
    expect(JSON.parse(output)).toEqual(here)
  })
})

describe("fingerprint: real option objects", () => {
  it("finishes on a Shiki highlighter and a markdown-it with plugins, soundly, stably, in bounded work, in any process", async () => {
    const { values, dispose } = await realValues()
    try {
      const keys: Record<string, string> = {}
      for (const [name, value] of Object.entries(values)) {
        const print = fingerprint(value)
        expect(print.unsound, name).toEqual([])
        expect(fingerprint(value).key.hex, name).toBe(print.key.hex)
        // Bounded work: a few thousand nodes and at most a few MiB (the budget is 200,000 nodes and 32 MiB).
        expect(print.nodes, name).toBeLessThan(10_000)
        expect(print.bytes, name).toBeLessThan(4 * 1024 * 1024)
        keys[name] = print.key.hex
      }
      // A markdown-it plugin more is another fingerprint.
      expect(keys.markdownIt).not.toBe(keys.markdownItWithoutAttrs)
      const output = await runNode(`
        const { fingerprint } = await import(${moduleUrl("../src/index.ts")})
        const { realValues } = await import(${moduleUrl("./real-values.ts")})
        const { values, dispose } = await realValues()
        const keys = {}
        for (const [name, value] of Object.entries(values)) keys[name] = fingerprint(value).key.hex
        dispose()
        process.stdout.write(JSON.stringify(keys))
      `)
      expect(JSON.parse(output)).toEqual(keys)
    } finally {
      dispose()
    }
  })
})
