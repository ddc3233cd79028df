import { appendFile, readFile, rm } from "node:fs/promises"
import { join } from "node:path"
import { readManifest, readRuns } from "@sitecache/core"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { loadSite, openCache, type Watcher, watch } from "../src/index.js"
import { BACKENDS, DOCUMENTS, makeSite, removeDir, tempDir, writeText } from "./helpers.js"

let dir: string
let watcher: Watcher | undefined

/** The next rebuild, or a failure that says which one never came. */
function next(step: string): ReturnType<Watcher["next"]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no rebuild after ${step} within 20 s`)), 20_000)
    watcher?.next().then(
      (event) => {
        clearTimeout(timer)
        resolve(event)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
beforeEach(async () => {
  dir = await tempDir()
  await makeSite(dir)
})
afterEach(async () => {
  await watcher?.close()
  watcher = undefined
  await removeDir(dir)
})

describe.each(BACKENDS)("watch mode on the %s backend", (backend) => {
  it("rebuilds exactly the documents a change touches, as files change on disk", async () => {
    const site = await loadSite({ cwd: dir, argv: ["--cache-backend", backend, "--cache-dir", join(dir, "cache")], env: {} })
    watcher = await watch(site, { debounceMs: 30 })
    expect(watcher.initial.stats.misses).toBe(6)
    /** The last build's manifest, read beside the watcher (the memory cache lives in the watcher alone). */
    const manifest = async () => {
      if (backend === "memory") return undefined
      const cache = await openCache(
        await loadSite({
          cwd: dir,
          argv: ["--cache-backend", backend, "--cache-dir", join(dir, "cache"), "--cache=read"],
          env: {},
        }),
      )
      try {
        return { ...(await readManifest(cache, "blog")), runs: (await readRuns(cache, "blog")).length }
      } finally {
        await cache.close()
      }
    }

    // A partial included by two pages.
    await writeText(join(dir, "partials/note.md"), "> The note, edited while watching.\n")
    const partial = await next("editing partials/note.md")
    expect(partial.changed).toEqual(["partials/note.md"])
    expect(partial.rebuilt).toEqual(["content/guide/a.md", "content/one.md"])
    expect(partial.misses).toEqual(["content/guide/a.md", "content/one.md"])
    expect(await readFile(join(dir, "dist/one.html"), "utf8")).toContain("edited while watching")

    // A layout partial used by the guide layout only.
    await writeText(join(dir, "partials/guide-nav.html"), "<nav>edited nav</nav>\n")
    const nav = await next("editing partials/guide-nav.html")
    expect(nav.rebuilt).toEqual(["content/guide/a.md", "content/guide/b.md"])
    expect(nav.misses).toEqual(["content/guide/a.md", "content/guide/b.md"])

    // One document.
    await writeText(join(dir, "content/two.md"), `${DOCUMENTS["content/two.md"]}\nWatched edit.\n`)
    const document = await next("editing content/two.md")
    expect(document.rebuilt).toEqual(["content/two.md"])
    expect(await readFile(join(dir, "dist/two.html"), "utf8")).toContain("Watched edit.")
    // Each rebuild is recorded: the last build's manifest has the edit, and keeps every other document.
    const lastBuild = await manifest()
    if (lastBuild !== undefined) {
      expect(lastBuild.runs).toBe(4)
      expect(lastBuild.startedAt).not.toBe(watcher.initial.run?.startedAt)
      expect(lastBuild.documents?.["content/two.md"]?.hit).toBe(false)
      expect(Object.keys(lastBuild.documents ?? {}).sort()).toEqual(watcher.initial.documents.map((page) => page.source).sort())
    }

    // A new document, then its removal.
    await writeText(join(dir, "content/new.md"), "# New\n")
    const added = await next("adding content/new.md")
    expect(added.rebuilt).toEqual(["content/new.md"])
    expect(await readFile(join(dir, "dist/index.html"), "utf8")).toContain("new.html")
    await rm(join(dir, "content/new.md"))
    const removed = await next("removing content/new.md")
    expect(removed.removed).toEqual(["content/new.md"])
    expect(Object.keys((await manifest())?.documents ?? {})).not.toContain("content/new.md")
    expect(await readFile(join(dir, "dist/index.html"), "utf8")).not.toContain("new.html")

    // A document created and written again at once: its creation and its change land in one window, and it is new.
    await writeText(join(dir, "content/fresh.md"), "# Fresh\n")
    await appendFile(join(dir, "content/fresh.md"), "\nWritten twice.\n")
    const fresh = await next("creating and appending to content/fresh.md")
    expect(fresh.rebuilt).toEqual(["content/fresh.md"])
    expect(await readFile(join(dir, "dist/fresh.html"), "utf8")).toContain("Written twice.")
  })
})
