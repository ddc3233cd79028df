/**
 * Something else where an entry's file or a cache directory belongs: a
 * symbolic link (left by whoever could write the cache directory, or by a
 * cache restored from an artifact), a FIFO, a directory. The cache never
 * follows a link: what a link points to is never read, written or removed,
 * even when it holds a perfectly valid entry. Each such thing is a damaged
 * entry: a miss, counted, warned once and removed, so that the next put heals
 * the key. (`sitecache verify` lists it: packages/cli/test/links.test.ts.)
 */
import { execFileSync } from "node:child_process"
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { afterEach, describe, expect, it } from "vitest"
import { createFsCache, type FsCache } from "../src/index.js"
import { filesBelow, removeAll, scratch } from "./helpers.js"

const opened: FsCache[] = []
async function open(dir: string, options: Parameters<typeof createFsCache>[0] = {}) {
  const warnings: string[] = []
  const cache = await createFsCache({ dir, onWarning: (message) => warnings.push(message), ...options })
  opened.push(cache)
  return { cache, warnings }
}

afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close()
  removeAll()
})

/** Where an entry of `cache` lives on disk. */
function entryFile(cache: FsCache, k: string): string {
  const id = cache.entryId(k)
  return join(cache.store.root, id.prefix.hex, id.key.hex.slice(0, 2), id.key.hex.slice(2))
}

/** Every file below `dir` with its bytes, to show that nothing there changed. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(filesBelow(dir).map((file) => [file, readFileSync(join(dir, file)).toString("hex")]))
}

describe("an entry file replaced by a symbolic link", () => {
  it("reads as a damaged entry (never the target, even a valid entry), is removed, and the next put heals the key", async () => {
    const dir = scratch()
    const outside = scratch()
    const { cache, warnings } = await open(dir)
    await cache.put("page.md", "<p>real</p>")
    await cache.put("other.md", "<p>planted</p>")
    // The target holds a valid entry (another key's bytes): following the link would serve it.
    copyFileSync(entryFile(cache, "other.md"), join(outside, "planted"))
    const before = snapshot(outside)
    unlinkSync(entryFile(cache, "page.md"))
    symlinkSync(join(outside, "planted"), entryFile(cache, "page.md"))

    expect(await cache.get("page.md")).toBeUndefined()
    expect(await cache.inspect()).toMatchObject({ errors: 1, misses: 1 })
    expect(warnings).toEqual([expect.stringMatching(/removed a corrupt entry/)])
    expect(existsSync(entryFile(cache, "page.md"))).toBe(false)
    expect(await cache.put("page.md", "<p>real</p>")).toBe(true)
    expect(await cache.get("page.md")).toBe("<p>real</p>")
    expect(lstatSync(entryFile(cache, "page.md")).isFile()).toBe(true)
    expect(snapshot(outside)).toEqual(before)
  })

  it("a link to itself or to nothing (ELOOP, dangling): every operation works, none fails", async () => {
    const dir = scratch()
    const { cache, warnings } = await open(dir)
    for (const name of ["loop", "dangling", "put-first"]) await cache.put(name, name)
    const loop = entryFile(cache, "loop")
    unlinkSync(loop)
    symlinkSync(loop, loop)
    unlinkSync(entryFile(cache, "dangling"))
    symlinkSync(join(dir, "nowhere"), entryFile(cache, "dangling"))
    unlinkSync(entryFile(cache, "put-first"))
    symlinkSync(entryFile(cache, "put-first"), entryFile(cache, "put-first"))

    expect(await cache.getMany(["loop", "dangling"])).toEqual([undefined, undefined])
    expect(await cache.has("loop")).toBe(false)
    // A put without a read first replaces the link too.
    expect(await cache.put("put-first", "healed")).toBe(true)
    expect(await cache.putMany([["loop", "healed"]])).toEqual([true])
    expect(await cache.getMany(["loop", "put-first"])).toEqual(["healed", "healed"])
    await cache.persist()
    const info = await cache.inspect()
    expect(info.errors).toBe(2)
    expect(info.entryCount).toBe(2)
    expect(warnings.join("\n")).not.toMatch(/ELOOP|failed/)
  })

  it("a FIFO or a directory in place of an entry file: no read blocks, each is removed and healed", async () => {
    const dir = scratch()
    const { cache } = await open(dir)
    await cache.putMany([
      ["fifo", 1],
      ["directory", 2],
    ])
    unlinkSync(entryFile(cache, "fifo"))
    execFileSync("mkfifo", [entryFile(cache, "fifo")])
    unlinkSync(entryFile(cache, "directory"))
    mkdirSync(join(entryFile(cache, "directory"), "inside"), { recursive: true })

    expect(await cache.getMany(["fifo", "directory"])).toEqual([undefined, undefined])
    expect((await cache.inspect()).errors).toBe(2)
    expect(existsSync(entryFile(cache, "fifo"))).toBe(false)
    expect(existsSync(entryFile(cache, "directory"))).toBe(false)
    expect(await cache.putMany([["fifo", 1]])).toEqual([true])
    mkdirSync(entryFile(cache, "directory"))
    expect(await cache.put("directory", 2)).toBe(true)
    expect(await cache.getMany(["fifo", "directory"])).toEqual([1, 2])
  })

  it("a read-only cache counts it as a miss and leaves it", async () => {
    const dir = scratch()
    const { cache: writer } = await open(dir)
    await writer.put("k", "v")
    unlinkSync(entryFile(writer, "k"))
    symlinkSync(join(dir, "nowhere"), entryFile(writer, "k"))
    const { cache: reader } = await open(dir, { mode: "read-only" })
    expect(await reader.get("k")).toBeUndefined()
    expect((await reader.inspect()).errors).toBe(1)
    expect(lstatSync(entryFile(writer, "k")).isSymbolicLink()).toBe(true)
  })

  it("a streamed entry replaced by a link: a counted miss, removed, and a new stream heals it", async () => {
    const dir = scratch()
    const outside = scratch()
    const { cache } = await open(dir)
    await pipeline(Readable.from([Buffer.from("streamed")]), cache.openForWrite("big"))
    const file = `${entryFile(cache, "big")}.stream`
    copyFileSync(file, join(outside, "copy"))
    unlinkSync(file)
    symlinkSync(join(outside, "copy"), file)
    expect(await cache.openForRead("big")).toBeUndefined()
    expect((await cache.inspect()).errors).toBe(1)
    expect(existsSync(file)).toBe(false)
    const sink = cache.openForWrite("big")
    await pipeline(Readable.from([Buffer.from("again")]), sink)
    expect(await sink.added).toBe(true)
    expect(existsSync(join(outside, "copy"))).toBe(true)
  })
})

describe("a cache directory replaced by a symbolic link", () => {
  /** A cache with entries, whose shard directory of `k` is made a link to a directory outside holding copies of its files. */
  async function linkedShard(options: Parameters<typeof createFsCache>[0] = {}) {
    const dir = scratch()
    const outside = scratch()
    const { cache, warnings } = await open(dir, options)
    await cache.put("k", "value")
    const shard = join(entryFile(cache, "k"), "..")
    for (const file of filesBelow(shard)) copyFileSync(join(shard, file), join(outside, file))
    // What a writer killed long ago would have left there: `clean` removes such files in the cache.
    writeFileSync(join(outside, ".tmp-stale"), "x")
    const { rmSync } = await import("node:fs")
    rmSync(shard, { recursive: true })
    symlinkSync(outside, shard)
    return { dir, outside, cache, warnings, shard, before: snapshot(outside) }
  }

  it("is never entered: reads miss (counted), and nothing outside is read, written or removed", async () => {
    const { outside, cache, shard, before } = await linkedShard()
    expect(await cache.get("k")).toBeUndefined()
    expect((await cache.inspect()).errors).toBe(1)
    // The link itself was removed (the entry's removal), never what it points to.
    expect(existsSync(shard)).toBe(false)
    expect(await cache.put("k", "value")).toBe(true)
    expect(lstatSync(shard).isDirectory()).toBe(true)
    expect(await cache.get("k")).toBe("value")
    expect(snapshot(outside)).toEqual(before)
  })

  it("statistics, prune, clean and writes never enter it; a write replaces the link by a directory", async () => {
    const { outside, cache, shard, before } = await linkedShard()
    expect((await cache.inspect()).entryCount).toBe(0)
    expect(cache.store.clean({ olderThan: 0 })).toBe(0)
    await cache.prune({ olderThan: 0, orphans: true })
    expect(snapshot(outside)).toEqual(before)
    expect(await cache.put("k", "new")).toBe(true)
    expect(lstatSync(shard).isDirectory()).toBe(true)
    expect(await cache.get("k")).toBe("new")
    await cache.persist()
    expect(snapshot(outside)).toEqual(before)
  })

  it("the fs-v1 root as a link: replaced by a directory when the cache opens, never entered read-only", async () => {
    const dir = scratch()
    const outside = scratch()
    const { cache: first } = await open(dir)
    await first.put("k", "value")
    await first.close()
    const { cpSync, rmSync } = await import("node:fs")
    cpSync(first.store.root, outside, { recursive: true })
    rmSync(first.store.root, { recursive: true })
    symlinkSync(outside, first.store.root)
    const before = snapshot(outside)
    const { cache: reader } = await open(dir, { mode: "read-only" })
    expect(await reader.get("k")).toBeUndefined()
    expect((await reader.inspect()).entryCount).toBe(0)
    const { cache: writer } = await open(dir)
    expect(lstatSync(writer.store.root).isDirectory()).toBe(true)
    expect(await writer.get("k")).toBeUndefined()
    expect(await writer.put("k", "value")).toBe(true)
    expect(snapshot(outside)).toEqual(before)
  })
})
