/**
 * Code blocks whose language embeds others lazily (a markdown sample holding a
 * JavaScript block) are highlighted the same way whatever rendered before
 * them: uncached, cold, and when the page is rendered alone after an edit.
 * See `loadEmbeddedLanguages` in src/shiki.ts.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { createMemoryCache } from "@sitecache/core"
import { afterAll, describe, expect, it } from "vitest"
import { createSite } from "./site.js"

// A page whose only code block is markdown, holding JavaScript: Shiki's markdown grammar embeds
// JavaScript lazily, so nothing but this block asks for it.
const FENCES = [
  "# Fences inside fences",
  "",
  "How to write a code block in a readme:",
  "",
  "````markdown",
  "Some *emphasis*, then code:",
  "",
  "```js",
  "const answer = 42",
  "```",
  "````",
  "",
].join("\n")

/** The HTML of the page, from the output directory of the site's `n`th build (site.ts names them `dist-<n>`). */
function page(root: string, n: number): string {
  return readFileSync(join(root, `dist-${n}`, "fences", "index.html"), "utf8")
}

describe("code blocks that embed another language", () => {
  const site = createSite()
  afterAll(() => site.remove())
  const cache = createMemoryCache()

  it("are highlighted inside when the page renders alone after an edit, as in an uncached build", async () => {
    const cold = await site.build({ cache })
    expect(cold.report).toMatchObject({ hits: 0, misses: 3 })
    writeFileSync(join(site.root, "src/pages/fences.md"), FENCES)
    // Every other page is a hit: the highlighter of this build sees this one block and nothing else.
    const edited = await site.build({ cache })
    expect(edited.report).toMatchObject({ hits: 3, misses: 1 })
    const alone = page(site.root, 2)
    // The JavaScript inside is tokenized as JavaScript: `const` is a token of its own, not part of a plain line.
    expect(alone).toMatch(/>const<\/span>/)
    expect(alone).not.toMatch(/>const answer = 42</)
    const off = await site.build({ cache, env: { SITECACHE: "off" } })
    expect(page(site.root, 3)).toBe(alone)
    expect(off.files).toEqual(edited.files)
  })
})
