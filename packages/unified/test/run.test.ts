import { join } from "node:path"
import { BuildStats, createMemoryCache } from "@sitecache/core"
import rehypeStringify from "rehype-stringify"
import remarkGfm from "remark-gfm"
import remarkParse from "remark-parse"
import remarkRehype from "remark-rehype"
import { unified } from "unified"
import { VFile } from "vfile"
import { afterEach, beforeEach, expect, it } from "vitest"
import { cached, cachedRun, cacheStatus, UnsupportedError } from "../src/index.js"
import { observe, PACKAGE_ROOT, removeDir, tempDir } from "./helpers.js"

let dir: string
beforeEach(async () => {
  dir = await tempDir()
})
afterEach(async () => {
  await removeDir(dir)
})

function remarkNote() {
  return (_tree: unknown, file: VFile) => {
    file.message("checked", { place: { line: 1, column: 1 }, ruleId: "note" })
    file.data.checked = true
  }
}

const SOURCE = "# Hello\n\n| a | b |\n| - | - |\n| 1 | 2 |\n"

it("caches the tree after run, for compilers that differ", async () => {
  const stats = new BuildStats()
  const runner = cachedRun(unified().use(remarkParse).use(remarkGfm).use(remarkNote).use(remarkRehype), {
    cache: createMemoryCache(),
    stats,
    root: PACKAGE_ROOT,
  })
  const path = join(dir, "doc.md")
  const cold = await runner.run(new VFile({ path, value: SOURCE }))
  const warm = await runner.run(new VFile({ path, value: SOURCE }))
  expect([cacheStatus(cold.file)?.hit, cacheStatus(warm.file)?.hit]).toEqual([false, true])
  expect(warm.tree).toEqual(cold.tree)
  expect(observe(warm.file)).toEqual(observe(cold.file))
  expect(warm.file.value).toBe(SOURCE)
  const html = unified()
    .use(rehypeStringify)
    .stringify(warm.tree as never, warm.file)
  const pretty = unified()
    .use(rehypeStringify, { closeSelfClosing: true, quoteSmart: true })
    .stringify(warm.tree as never, warm.file)
  expect(html).toContain("<table>")
  expect(pretty).toContain("<table>")
  expect(stats.hits).toBe(1)
})

it("keeps run entries apart from process entries of the same processor", async () => {
  const cache = createMemoryCache()
  const processor = unified().use(remarkParse).use(remarkRehype)
  const runner = cachedRun(processor, { cache, root: PACKAGE_ROOT })
  const { file: ran } = await runner.run("# a")
  const processed = await cached(unified().use(remarkParse).use(remarkRehype).use(rehypeStringify), {
    cache,
    root: PACKAGE_ROOT,
  }).process("# a")
  expect(cacheStatus(ran)?.key).not.toBe(cacheStatus(processed)?.key)
  expect(cacheStatus((await runner.run("# a")).file)?.hit).toBe(true)
  expect(() => runner.runSync("# a")).toThrow(UnsupportedError)
})
