/**
 * The recipe of docs/ci.md, run: two CI runs of the example blog, each a
 * fresh checkout in a new folder with the cache folder restored by copying.
 * The second run is warm (every page from the cache, the same bytes), which
 * also proves the cache relocatable: keys are project-relative. A pull
 * request's run (`--cache=read`, restore only) reads the cache and leaves it
 * as it was.
 */
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { type CiRun, SimulatedCi } from "./simulate.js"

const DAY = 86_400_000
const START = Date.UTC(2030, 0, 1)

function hitsAndMisses(run: CiRun) {
  return { hits: run.result.stats.hits, misses: run.result.stats.misses }
}

describe.each(["sqlite", "fs"] as const)("CI on %s", (backend) => {
  let ci: SimulatedCi
  beforeEach(async () => {
    ci = await SimulatedCi.create({ backend })
  })
  afterEach(async () => {
    await ci.dispose()
  })

  it("the second run, in another folder with the cache folder restored, is warm: every page from the cache, the same bytes", async () => {
    const first = await ci.run({ at: START })
    const documents = first.result.documents.length
    expect(documents).toBeGreaterThan(20)
    expect(hitsAndMisses(first)).toEqual({ hits: 0, misses: documents })
    expect(first.cacheBytes).toBeGreaterThan(0)

    const second = await ci.run({ at: START + DAY })
    expect(second.checkout).not.toBe(first.checkout)
    expect(hitsAndMisses(second)).toEqual({ hits: documents, misses: 0 })
    expect(second.result.pipelineLoaded).toBe(false)
    expect(second.pages).toEqual(first.pages)
  })

  it("a pull request's run reads the restored cache, renders only what it changed, and writes nothing to it", async () => {
    await ci.run({ at: START })
    const edit = async (checkout: string) => {
      const file = join(checkout, "content", "faq.md")
      await writeFile(file, `${await readFile(file, "utf8")}\nOne more answer.\n`)
    }
    const pull = await ci.run({ at: START + DAY, readOnly: true, edit })
    expect(pull.result.stats.misses).toBe(1)
    expect(pull.result.documents.find((document) => !document.hit)?.source).toBe("content/faq.md")
    expect(pull.result.cache?.puts).toBe(0)
    expect(pull.cacheUntouched).toBe(true)
    // What the next run restores is what the first saved: the pull request wrote nothing.
    const next = await ci.run({ at: START + 2 * DAY })
    expect(next.result.stats.misses).toBe(0)
  })
})
