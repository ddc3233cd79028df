import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { BuildStats, createMemoryCache, FileHasher } from "@sitecache/core"
import rehypeStringify from "rehype-stringify"
import remarkParse from "remark-parse"
import remarkRehype from "remark-rehype"
import { unified } from "unified"
import { VFile } from "vfile"
import { afterEach, beforeEach, expect, it } from "vitest"
import { cached, cacheStatus, dependenciesOf, dependOn } from "../src/index.js"
import { removeDir, tempDir } from "./helpers.js"

let dir: string
beforeEach(async () => {
  dir = await tempDir()
})
afterEach(async () => {
  await removeDir(dir)
})

interface Node {
  type: string
  value?: string
  children?: Node[]
}

/** Replaces a paragraph `include <name>` by the text of `<name>.txt` (relative to file.cwd), declaring it. */
function remarkInclude() {
  return async (tree: Node, file: VFile) => {
    for (const node of tree.children ?? []) {
      const text = node.type === "paragraph" ? node.children?.[0]?.value : undefined
      const match = /^include (\w+)$/.exec(text ?? "")
      if (!match || !node.children?.[0]) continue
      const path = `${match[1]}.txt`
      dependOn(file, path)
      node.children[0].value = await readFile(join(file.cwd, path), "utf8").catch(() => "(missing)")
    }
  }
}

it("a change to a declared file invalidates exactly the documents that read it", async () => {
  await writeFile(join(dir, "header.txt"), "Header v1")
  await writeFile(join(dir, "footer.txt"), "Footer v1")
  const cache = createMemoryCache()
  const files = new FileHasher({ root: dir })
  const documents = {
    "a.md": "# A\n\ninclude header",
    "b.md": "# B\n\ninclude header\n\ninclude footer",
    "c.md": "# C\n\ninclude footer",
    "d.md": "# D\n\nno includes",
  }
  const build = async () => {
    files.refresh()
    const stats = new BuildStats()
    const processor = cached(unified().use(remarkParse).use(remarkInclude).use(remarkRehype).use(rehypeStringify), {
      cache,
      stats,
      root: dir,
      files,
    })
    const out: Record<string, VFile> = {}
    for (const [name, value] of Object.entries(documents)) {
      out[name] = await processor.process(new VFile({ cwd: dir, path: join(dir, name), value }))
    }
    const missed = Object.keys(out).filter((name) => !cacheStatus(out[name] as VFile)?.hit)
    return { out, missed, stats }
  }
  const cold = await build()
  expect(cold.missed).toEqual(["a.md", "b.md", "c.md", "d.md"])
  expect(dependenciesOf(cold.out["b.md"] as VFile)).toEqual([join(dir, "header.txt"), join(dir, "footer.txt")])
  const warm = await build()
  expect(warm.missed).toEqual([])
  expect(dependenciesOf(warm.out["b.md"] as VFile)).toEqual([join(dir, "header.txt"), join(dir, "footer.txt")])
  expect(warm.stats.documentRecords.get("b.md")?.deps).toEqual({
    "header.txt": expect.any(String),
    "footer.txt": expect.any(String),
  })

  await writeFile(join(dir, "footer.txt"), "Footer v2, longer")
  const edited = await build()
  expect(edited.missed).toEqual(["b.md", "c.md"])
  expect(String(edited.out["c.md"])).toContain("Footer v2, longer")
  const again = await build()
  expect(again.missed).toEqual([])
})

it("a declared file that did not exist invalidates when it appears", async () => {
  const cache = createMemoryCache()
  const files = new FileHasher({ root: dir })
  const processor = cached(unified().use(remarkParse).use(remarkInclude).use(remarkRehype).use(rehypeStringify), {
    cache,
    root: dir,
    files,
  })
  const render = () => processor.process(new VFile({ cwd: dir, path: join(dir, "a.md"), value: "include later" }))
  expect(String(await render())).toContain("(missing)")
  files.refresh()
  expect(cacheStatus(await render())?.hit).toBe(true)
  await writeFile(join(dir, "later.txt"), "here now")
  files.refresh()
  const file = await render()
  expect(cacheStatus(file)?.hit).toBe(false)
  expect(String(file)).toContain("here now")
  // `result` names the entry and its dependencies' hashes: the same on a hit, another once a dependency changes.
  files.refresh()
  const hit = await render()
  expect(cacheStatus(hit)?.hit).toBe(true)
  expect(cacheStatus(hit)?.result).toBe(cacheStatus(file)?.result)
  expect(cacheStatus(hit)?.result).not.toBe(cacheStatus(hit)?.key)
  await writeFile(join(dir, "later.txt"), "here now, changed")
  files.refresh()
  const changed = await render()
  expect(cacheStatus(changed)?.key).toBe(cacheStatus(hit)?.key)
  expect(cacheStatus(changed)?.result).not.toBe(cacheStatus(hit)?.result)
})

it("dependOn needs a path", () => {
  expect(() => dependOn(new VFile(), "")).toThrow(/`dependOn`/)
})
