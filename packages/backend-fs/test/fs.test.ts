import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { createCache } from "@sitecache/core"
import { afterEach, describe, expect, it } from "vitest"
import { createFsCache, type FsCache } from "../src/index.js"
import { decodeIndex } from "../src/index-file.js"
import { countingFileSystem, filesBelow, injectFaults, persistedView, removeAll, scratch, systemError } from "./helpers.js"

const opened: FsCache[] = []
async function open(options: Parameters<typeof createFsCache>[0] = {}): Promise<FsCache> {
  const cache = await createFsCache({ dir: scratch(), ...options })
  opened.push(cache)
  return cache
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

describe("layout", () => {
  it("keeps one file per entry under <dir>/fs-v1/<prefix>/<ab>/<rest>, holding exactly the stored bytes", async () => {
    const cache = await open()
    await cache.put("about.md", "<h1>About</h1>")
    const id = cache.entryId("about.md")
    const file = entryFile(cache, "about.md")
    expect(readFileSync(file)).toEqual(Buffer.from((await cache.store.get(id)) as Uint8Array))
    expect(filesBelow(cache.store.dir)).toEqual([
      "CACHEDIR.TAG",
      `fs-v1/${id.prefix.hex}/${id.key.hex.slice(0, 2)}/${id.key.hex.slice(2)}`,
    ])
  })

  it("creates directories 0700 and files 0600, and a CACHEDIR.TAG", async () => {
    const dir = join(scratch(), "nested", "cache")
    const cache = await open({ dir })
    await cache.put("k", "v")
    const file = entryFile(cache, "k")
    expect(statSync(file).mode & 0o777).toBe(0o600)
    for (const directory of [dir, cache.store.root, join(file, ".."), join(file, "..", "..")]) {
      expect(statSync(directory).mode & 0o777).toBe(0o700)
    }
    expect(readFileSync(join(dir, "CACHEDIR.TAG"), "utf8")).toMatch(/^Signature: 8a477f597d28d172789f06886806bc55\n/)
  })

  it("refuses a directory that is a file, or that cannot be created, naming `dir`", async () => {
    const file = join(scratch(), "a-file")
    writeFileSync(file, "x")
    await expect(createFsCache({ dir: file })).rejects.toMatchObject({ code: "SITECACHE_BAD_OPTION", option: "dir" })
    await expect(createFsCache({ dir: join(file, "below") })).rejects.toMatchObject({
      code: "SITECACHE_BAD_OPTION",
      option: "dir",
    })
    await expect(createFsCache({ dir: file, mode: "read-only" })).rejects.toMatchObject({ option: "dir" })
    await expect(createCache({ backend: "fs", dir: file }, { resolveFrom: import.meta.url })).rejects.toMatchObject({
      option: "dir",
    })
  })

  it("read-only mode creates nothing, and opens a directory that does not exist as an empty cache", async () => {
    const dir = join(scratch(), "absent")
    const cache = await open({ dir, mode: "read-only" })
    expect(await cache.get("k")).toBeUndefined()
    expect((await cache.inspect()).entryCount).toBe(0)
    await cache.close()
    expect(() => statSync(dir)).toThrow()
  })

  it("is what createCache opens for backend fs, with its options checked", async () => {
    const dir = scratch()
    const cache = await createCache({ backend: "fs", dir, fs: { fsync: true } }, { resolveFrom: import.meta.url })
    expect(cache.name).toMatch(/^fs \(/)
    expect(await cache.put("k", { v: 1 })).toBe(true)
    expect(await cache.get("k")).toEqual({ v: 1 })
    await cache.close()
    await expect(createCache({ backend: "fs", dir, fs: { nope: 1 } }, { resolveFrom: import.meta.url })).rejects.toMatchObject({
      option: "fs.nope",
    })
    await expect(
      createCache({ backend: "fs", dir, fs: { fsync: "yes" } }, { resolveFrom: import.meta.url }),
    ).rejects.toMatchObject({
      option: "fs.fsync",
    })
    await expect(createFsCache({ dir, tempMaxAge: "soon" })).rejects.toMatchObject({ option: "tempMaxAge" })
    await expect(createFsCache({ dir, maxSize: "lots" })).rejects.toMatchObject({ option: "maxSize" })
  })

  it("createFsCache refuses a typo as createCache does, before creating anything", async () => {
    const dir = join(scratch(), "never-created")
    for (const [options, option, meant] of [
      [{ maxSzie: "1 GB" }, "maxSzie", "maxSize"],
      [{ fsnyc: true }, "fsnyc", "fsync"],
      [{ compresAbove: 1024 }, "compresAbove", "compressAbove"],
    ] as const) {
      await expect(createFsCache({ dir, ...options } as never)).rejects.toMatchObject({
        code: "SITECACHE_BAD_OPTION",
        option,
        message: expect.stringContaining(`did you mean \`${meant}\`?`),
      })
    }
    await expect(createCache({ backend: "fs", dir, fs: { fsnyc: true } } as never)).rejects.toMatchObject({
      option: "fs.fsnyc",
      message: expect.stringContaining("did you mean `fs.fsync`?"),
    })
    expect(existsSync(dir)).toBe(false)
  })

  it("leaves no temporary file behind a put, a replaced entry or a put of an existing key", async () => {
    let now = 1_000_000
    const cache = await open({ clock: () => now })
    await cache.put("a", "x".repeat(5000), { ttl: 10 })
    expect(await cache.put("a", "again")).toBe(false)
    now += 20
    expect(await cache.put("a", "replaced")).toBe(true)
    expect(await cache.get("a")).toBe("replaced")
    expect(filesBelow(cache.store.dir).filter((f) => f.includes(".tmp-"))).toEqual([])
  })
})

describe("index and statistics", () => {
  it("persist() writes an index of sizes, hits and last access, and skips it when nothing changed", async () => {
    let now = 5_000_000
    const filesystem = countingFileSystem()
    const cache = await open({ clock: () => now, fileSystem: filesystem })
    await cache.putMany([
      ["a", "A".repeat(100)],
      ["b", "B"],
    ])
    now += 1000
    await cache.get("a")
    await cache.get("a")
    await cache.persist()
    const index = decodeIndex(readFileSync(join(cache.store.root, "index")))
    expect(index).toBeDefined()
    const a = cache.entryId("a")
    const record = index?.get(`${a.prefix.hex}/${a.key.hex.slice(0, 2)}/${a.key.hex.slice(2)}`)
    expect(record).toMatchObject({ hits: 2, accessed: 5_001_000, expires: 0, size: statSync(entryFile(cache, "a")).size })
    expect(index?.entries.size).toBe(2)
    const renames = filesystem.calls.renameSync
    await cache.persist()
    expect(filesystem.calls.renameSync).toBe(renames)
  })

  it("persist() merges the hits and access times other processes persisted meanwhile", async () => {
    const dir = scratch()
    const one = await open({ dir })
    const two = await open({ dir })
    await one.put("k", "v")
    await one.persist()
    await one.get("k")
    await one.get("k")
    await two.get("k")
    await one.persist()
    await two.persist()
    await one.get("k")
    await one.persist()
    const id = one.entryId("k")
    expect(persistedView(dir).get(`${id.prefix.hex}/${id.key.hex.slice(0, 2)}/${id.key.hex.slice(2)}`)?.hits).toBe(4)
  })

  it("reads never touch the index", async () => {
    const dir = scratch()
    const writer = await open({ dir })
    await writer.putMany(Array.from({ length: 20 }, (_, i) => [`k${i}`, i] as const))
    await writer.close()
    const filesystem = countingFileSystem()
    const reader = await open({ dir, fileSystem: filesystem })
    const opened = filesystem.calls.openSync ?? 0 // the CACHEDIR.TAG
    for (let i = 0; i < 20; i++) expect(await reader.get(`k${i}`)).toBe(i)
    // One open per read (and one lstat per directory the first time it is entered), nothing else.
    expect((filesystem.calls.openSync ?? 0) - opened).toBe(20)
    expect(filesystem.calls.readFileSync ?? 0).toBe(0)
    expect(filesystem.calls.readdirSync ?? 0).toBe(0)
  })

  it("counts exactly what another cache on the same directory writes and removes", async () => {
    const dir = scratch()
    const one = await open({ dir })
    const two = await open({ dir })
    await one.put("a", "x".repeat(1000))
    expect((await one.inspect()).entryCount).toBe(1)
    await two.putMany(Array.from({ length: 10 }, (_, i) => [`two-${i}`, i] as const))
    const info = await one.inspect()
    expect(info.entryCount).toBe(11)
    await two.deleteMany(["two-0", "two-1", "a"])
    const after = await one.inspect()
    expect(after.entryCount).toBe(8)
    const bytes = filesBelow(join(dir, "fs-v1"))
      .filter((f) => f !== "index" && f !== "journal")
      .reduce((sum, f) => sum + statSync(join(dir, "fs-v1", f)).size, 0)
    expect(after.size).toBe(bytes)
  })

  it("lists again only the shard directories that changed since they settled", async () => {
    const dir = scratch()
    const writer = await open({ dir })
    await writer.putMany(Array.from({ length: 40 }, (_, i) => [`k${i}`, i] as const))
    await writer.persist()
    // Age every directory beyond the settle window, as if the cache were written yesterday.
    const old = new Date(Date.now() - 86_400_000)
    for (const file of filesBelow(join(dir, "fs-v1"))) utimesSync(join(dir, "fs-v1", file, ".."), old, old)
    const filesystem = countingFileSystem()
    const reader = await open({ dir, fileSystem: filesystem })
    expect((await reader.inspect()).entryCount).toBe(40)
    const firstListing = filesystem.calls.readdirSync ?? 0
    expect((await reader.inspect()).entryCount).toBe(40)
    // Only the root and the prefix directory are listed again: every shard is settled and unchanged.
    expect((filesystem.calls.readdirSync ?? 0) - firstListing).toBe(2)
    await writer.put("new", 1)
    expect((await reader.inspect()).entryCount).toBe(41)
    expect((filesystem.calls.readdirSync ?? 0) - firstListing).toBe(2 + 2 + 1)
  })

  for (const damage of ["garbage", "truncated", "empty", "bit-flipped"] as const) {
    it(`rebuilds a ${damage} index from the files, with exact counts`, async () => {
      const dir = scratch()
      const writer = await open({ dir })
      await writer.putMany(Array.from({ length: 30 }, (_, i) => [`k${i}`, "v".repeat(i)] as const))
      await writer.persist()
      const expected = await writer.inspect()
      const indexFile = join(dir, "fs-v1", "index")
      const bytes = readFileSync(indexFile)
      if (damage === "garbage") writeFileSync(indexFile, "not an index")
      if (damage === "truncated") writeFileSync(indexFile, bytes.subarray(0, bytes.length - 30))
      if (damage === "empty") writeFileSync(indexFile, "")
      if (damage === "bit-flipped") {
        bytes[100] = (bytes[100] as number) ^ 1
        writeFileSync(indexFile, bytes)
      }
      const reader = await open({ dir })
      const info = await reader.inspect()
      expect({ size: info.size, entryCount: info.entryCount }).toEqual({ size: expected.size, entryCount: 30 })
      expect(await reader.get("k7")).toBe("v".repeat(7))
      await reader.persist()
      expect(decodeIndex(readFileSync(indexFile))?.entries.size).toBe(30)
    })
  }
})

describe("size and age", () => {
  it("prune removes the directories it empties (what it removes is the conformance suite's prune group)", async () => {
    const cache = await open()
    cache.setKeyPrefix("old")
    await cache.putMany([
      ["o1", 1],
      ["o2", 2],
    ])
    const oldPrefixDir = join(cache.store.root, cache.keyPrefix.hex)
    expect(statSync(oldPrefixDir).isDirectory()).toBe(true)
    cache.setKeyPrefix("")
    await cache.put("kept", 3)
    await cache.persist()
    expect(await cache.prune({ orphans: true })).toMatchObject({ removedCount: 2 })
    expect(() => statSync(oldPrefixDir)).toThrow()
    expect(filesBelow(cache.store.root).filter((f) => f.startsWith(`${cache.keyPrefix.hex}/`))).toHaveLength(1)
  })

  it("clean removes stale temporary files only", async () => {
    const cache = await open()
    await cache.put("k", 1)
    const shard = join(entryFile(cache, "k"), "..")
    const stale = join(shard, ".tmp-stale")
    const young = join(shard, ".tmp-young")
    writeFileSync(stale, "partial")
    writeFileSync(young, "partial")
    const hourAgo = new Date(Date.now() - 3_600_000)
    utimesSync(stale, hourAgo, hourAgo)
    expect(await cache.clean()).toBe(1)
    expect(filesBelow(shard)).toEqual([".tmp-young", entryFile(cache, "k").slice(shard.length + 1)])
    expect(await cache.clean({ olderThan: 0 })).toBe(1)
    expect(filesBelow(shard)).toHaveLength(1)
    expect(await cache.get("k")).toBe(1)
  })
})

describe("faults (injected)", () => {
  it("a full disk drops writes without rejecting, counts them, warns once, keeps earlier entries, leaves no temp file", async () => {
    let writes = 0
    const warnings: string[] = []
    const fileSystem = injectFaults({
      writeSync: (original, ...args) => {
        if (++writes > 5) throw systemError("ENOSPC", "write")
        return original(...args)
      },
    })
    const cache = await open({ fileSystem, onWarning: (message) => warnings.push(message) })
    writes = 0 // the CACHEDIR.TAG was written at open
    for (let i = 0; i < 5; i++) expect(await cache.put(`before${i}`, i)).toBe(true)
    for (let i = 0; i < 5; i++) expect(await cache.put(`after${i}`, i)).toBe(false)
    await cache.persist()
    for (let i = 0; i < 5; i++) expect(await cache.get(`before${i}`)).toBe(i)
    expect(await cache.get("after0")).toBeUndefined()
    const info = await cache.inspect()
    expect(info.errors).toBe(6) // five puts and the index write of persist()
    // One cause, one warning: the puts and the index write fail alike.
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("ENOSPC")
    expect(filesBelow(cache.store.dir).filter((f) => f.includes(".tmp-"))).toEqual([])
  })

  it("throws CacheFaultError in strict mode", async () => {
    const fileSystem = injectFaults({
      openSync: (original, ...args) => {
        if (String(args[0]).includes(".tmp-")) throw systemError("EROFS", "open")
        return original(...args)
      },
    })
    const cache = await open({ fileSystem, strict: true })
    await expect(cache.put("k", 1)).rejects.toMatchObject({ code: "SITECACHE_FAULT" })
  })

  it("a read-only filesystem or lost permissions make misses and dropped writes, one warning per cause", async () => {
    const dir = scratch()
    const writer = await open({ dir })
    await writer.putMany(Array.from({ length: 5 }, (_, i) => [`k${i}`, i] as const))
    await writer.close()
    const warnings: string[] = []
    let denied = ""
    const readOnlyDisk = injectFaults({
      openSync: (original, ...args) => {
        if (String(args[0]).includes(".tmp-")) throw systemError("EROFS", "open")
        if (args[0] === denied) throw systemError("EACCES", "open")
        return original(...args)
      },
      unlinkSync: () => {
        throw systemError("EROFS", "unlink")
      },
      renameSync: () => {
        throw systemError("EROFS", "rename")
      },
    })
    const cache = await open({ dir, fileSystem: readOnlyDisk, onWarning: (message) => warnings.push(message) })
    denied = entryFile(cache, "k3")
    expect(await cache.put("new", 1)).toBe(false)
    expect(await cache.put("new2", 2)).toBe(false)
    expect(await cache.delete("k0")).toBe(false)
    await cache.clear()
    await cache.persist()
    expect(await cache.getMany(["k0", "k1", "k2", "k4"])).toEqual([0, 1, 2, 4])
    expect(await cache.get("k3")).toBeUndefined()
    const info = await cache.inspect()
    expect(info.errors).toBe(5)
    expect(
      warnings.map((w) =>
        w
          .match(/`(\w+)` failed: (\w+)/)
          ?.slice(1)
          .join(" "),
      ),
    ).toEqual(["put EROFS", "get EACCES"])
  })

  it("works on a filesystem without hard links (check, then rename)", async () => {
    const fileSystem = injectFaults({
      linkSync: () => {
        throw systemError("EPERM", "link")
      },
    })
    const cache = await open({ fileSystem })
    expect(await cache.put("k", 1)).toBe(true)
    expect(await cache.put("k", 2)).toBe(false)
    expect(await cache.get("k")).toBe(1)
    expect(filesBelow(cache.store.dir).filter((f) => f.includes(".tmp-"))).toEqual([])
  })
})
