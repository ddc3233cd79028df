/** `explainDocument` on manifests written by hand: every kind of change, and its wording. */
import type { BuildManifest, DocumentRecord } from "@sitecache/core"
import { describe, expect, it } from "vitest"
import { describeChange, explainDocument, pluginOf } from "../src/explain.js"

type Record = Omit<DocumentRecord, "path">

function manifest(before: Record, after: Record, prefixes: [string, string] = ["p", "p"]): BuildManifest {
  return {
    tool: "blog",
    startedAt: "2025-01-02T00:00:00.000Z",
    keyPrefix: prefixes[1],
    documents: { "a.md": { path: "a.md", ...after } },
    previous: {
      startedAt: "2025-01-01T00:00:00.000Z",
      keyPrefix: prefixes[0],
      documents: { "a.md": { path: "a.md", ...before } },
    },
  }
}

const parts = { content: "c1", "plugin:remark-gfm@4.0.1": "g1", "plugin:local:src/plugins/lint.ts": "l1" }

describe("explainDocument", () => {
  it("pairs a plugin whose version is in its part's name", () => {
    const explanation = explainDocument(
      manifest(
        { key: "k1", hit: true, parts },
        {
          key: "k2",
          hit: false,
          parts: { content: "c1", "plugin:remark-gfm@4.0.2": "g2", "plugin:local:src/plugins/lint.ts": "l1" },
        },
      ),
      "a.md",
    )
    expect(explanation?.changes).toEqual([
      {
        kind: "part",
        part: "plugin:remark-gfm@4.0.2",
        change: "changed",
        before: "g1",
        after: "g2",
        plugin: "remark-gfm",
        previousPart: "plugin:remark-gfm@4.0.1",
      },
    ])
    expect(describeChange(explanation!.changes[0]!)).toBe("plugin `remark-gfm` changed: remark-gfm@4.0.1 → remark-gfm@4.0.2")
  })

  it("tells a local plugin's change, and plugins added or removed", () => {
    const explanation = explainDocument(
      manifest(
        { key: "k1", hit: true, parts },
        {
          key: "k2",
          hit: false,
          parts: { content: "c1", "plugin:local:src/plugins/lint.ts": "l2", "plugin:rehype-slug@6.0.0": "s" },
        },
      ),
      "a.md",
    )
    expect(explanation?.changes.map(describeChange)).toEqual([
      "plugin `local:src/plugins/lint.ts` changed (its version, source or options) (l1 → l2)",
      "plugin `rehype-slug@6.0.0` is new in the key",
      "plugin `remark-gfm@4.0.1` is no longer in the key",
    ])
  })

  it("tells dependencies created, deleted, changed, newly read and no longer read", () => {
    const explanation = explainDocument(
      manifest(
        { key: "k", hit: true, deps: { "a.html": "1", "b.html": null, "c.html": "3", "d.html": "4" } },
        { key: "k", hit: false, deps: { "a.html": null, "b.html": "2", "c.html": "33", "e.html": "5" } },
      ),
      "a.md",
    )
    expect(
      explanation?.changes.map((change) => (change.kind === "dependency" ? [change.path, change.change] : change.kind)),
    ).toEqual([
      ["a.html", "deleted"],
      ["b.html", "created"],
      ["c.html", "changed"],
      ["e.html", "added"],
      ["d.html", "removed"],
    ])
    expect(explanation?.changes.map(describeChange)).toEqual([
      "dependency `a.html` was deleted",
      "dependency `b.html` was created (it did not exist before)",
      "dependency `c.html` changed (3 → 33)",
      "it now reads `e.html`, which it did not before",
      "it no longer reads `d.html`",
    ])
  })

  it("says the key changed when its parts were not recorded by name", () => {
    const explanation = explainDocument(manifest({ key: "k1", hit: true }, { key: "k2", hit: false }), "a.md")
    expect(explanation?.changes).toEqual([{ kind: "key", before: "k1", after: "k2" }])
  })

  it("reports a key prefix change first", () => {
    const explanation = explainDocument(
      manifest({ key: "k", hit: true, parts }, { key: "k", hit: false, parts }, ["p1", "p2"]),
      "a.md",
    )
    expect(explanation).toMatchObject({
      hit: false,
      previous: { key: "k", hit: true, build: "2025-01-01T00:00:00.000Z" },
      changes: [{ kind: "key-prefix", before: "p1", after: "p2" }],
    })
  })
})

describe("pluginOf", () => {
  it.each([
    ["plugin:remark-gfm@4.0.1", "remark-gfm@4.0.1"],
    ["plugins.rehype-slug", "rehype-slug"],
    ["plugin remark-toc", "remark-toc"],
    ["plugin:@mdx-js/rollup@3.0.0", "@mdx-js/rollup@3.0.0"],
    ["plugin", undefined],
    ["content", undefined],
  ])("%s → %s", (part, plugin) => {
    expect(pluginOf(part)).toBe(plugin)
  })
})
