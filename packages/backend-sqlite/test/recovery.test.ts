/**
 * A database of an unknown format version, a file that is not a database, and
 * one that fails `quick_check` are moved aside (`cache.db.corrupt-<time>`)
 * and recreated, with a warning; the build goes on cold. A database of
 * another application is refused, never moved.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import { createCache } from "@sitecache/core"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { APPLICATION_ID, createSqliteCache, SCHEMA_VERSION } from "../src/index.js"
import { scratch } from "./helpers.js"

function movedAside(dir: string): string[] {
  return readdirSync(dir).filter((name) => /^cache\.db\.corrupt-/.test(name) && !name.endsWith("-wal"))
}

async function filledCache(dir: string, count = 50): Promise<void> {
  const cache = await createSqliteCache({ dir })
  await cache.putMany(Array.from({ length: count }, (_, i) => [`k${i}`, { i, html: "<p>x</p>".repeat(500) }] as const))
  await cache.close()
}

/** Overwrite every page after the first (the schema) with a pattern: the tables are gone, the header is intact. */
function damagePages(path: string): void {
  const pageSize = readFileSync(path).readUInt16BE(16)
  const size = statSync(path).size
  const fd = openSync(path, "r+")
  const junk = Buffer.alloc(pageSize, 0x5a)
  for (let offset = pageSize * 2; offset < size; offset += pageSize) writeSync(fd, junk, 0, pageSize, offset)
  closeSync(fd)
}

describe("sqlite: creating the database", () => {
  it("removes a WAL and shared-memory file left without their database before creating it", async () => {
    const dir = scratch()
    await filledCache(dir, 5)
    // The database is deleted, its WAL and -shm stay behind (a stale WAL would be replayed into the new file).
    writeFileSync(join(dir, "cache.db-wal"), Buffer.alloc(4096, 7))
    writeFileSync(join(dir, "cache.db-shm"), Buffer.alloc(4096, 7))
    rmSync(join(dir, "cache.db"))
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, onWarning: (message) => warnings.push(message) })
    expect(await cache.get("k1")).toBeUndefined()
    expect(await cache.put("k", "fresh")).toBe(true)
    await cache.persist()
    expect((await cache.inspect()).entryCount).toBe(1)
    await cache.close()
    expect(warnings).toEqual([])
    expect(movedAside(dir)).toEqual([])
  })
})

describe("sqlite: damaged and foreign databases", () => {
  it("moves a database of an unknown format version aside and starts empty, with one warning", async () => {
    const dir = scratch()
    await filledCache(dir)
    const db = new Database(join(dir, "cache.db"))
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, onWarning: (message) => warnings.push(message) })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/moved .*cache\.db aside .*format version is 2/)
    expect(movedAside(dir)).toHaveLength(1)
    expect(await cache.get("k1")).toBeUndefined()
    expect(await cache.put("k1", "fresh")).toBe(true)
    expect(await cache.get("k1")).toBe("fresh")
    expect((await cache.inspect()).entryCount).toBe(1)
    await cache.close()
    // The moved file is the old database, kept for a look.
    const old = new Database(join(dir, movedAside(dir)[0]!), { readonly: true })
    expect(old.prepare("SELECT count(*) FROM entries").pluck().get()).toBe(50)
    old.close()
  })

  it("says so when a database lacks sitecache's application id, rather than blaming its format version", async () => {
    const dir = scratch()
    await filledCache(dir, 3)
    const db = new Database(join(dir, "cache.db"))
    db.pragma("application_id = 0")
    db.close()
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, onWarning: (message) => warnings.push(message) })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /aside .*because it is not marked as a sitecache database \(format version 1, \d+ schema objects\)/,
    )
    await cache.close()
  })

  it("moves a file that is not a database aside", async () => {
    const dir = scratch()
    writeFileSync(join(dir, "cache.db"), "this is not a database, but a text file long enough to have a header".repeat(100))
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, onWarning: (message) => warnings.push(message) })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/not a readable database/)
    expect(movedAside(dir)).toHaveLength(1)
    expect(await cache.put("k", 1)).toBe(true)
    expect(await cache.get("k")).toBe(1)
    await cache.close()
  })

  it("opened through createCache, warns through its onWarning, not process warnings", async () => {
    const dir = scratch()
    writeFileSync(join(dir, "cache.db"), "not a database either, and long enough to have a header".repeat(100))
    const warnings: string[] = []
    const emitted: string[] = []
    const onProcessWarning = (warning: Error) => emitted.push(warning.message)
    process.on("warning", onProcessWarning)
    try {
      const cache = await createCache(
        { backend: "sqlite", dir },
        { resolveFrom: import.meta.url, onWarning: (message) => warnings.push(message) },
      )
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/not a readable database/)
      expect(await cache.put("k", 1)).toBe(true)
      await cache.close()
      await new Promise((resolve) => setImmediate(resolve))
      expect(emitted.filter((message) => /not a readable database/.test(message))).toEqual([])
    } finally {
      process.off("warning", onProcessWarning)
    }
  })

  it("moves a database that fails quick_check aside (quickCheck: always)", async () => {
    const dir = scratch()
    await filledCache(dir)
    damagePages(join(dir, "cache.db"))
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, quickCheck: "always", onWarning: (message) => warnings.push(message) })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/quick_check/)
    expect(movedAside(dir)).toHaveLength(1)
    expect(await cache.get("k1")).toBeUndefined()
    expect(await cache.put("k1", "fresh")).toBe(true)
    await cache.close()
    const check = new Database(join(dir, "cache.db"))
    expect(check.pragma("quick_check", { simple: true })).toBe("ok")
    check.close()
  })

  it("checks at open when a WAL was left behind (a crashed writer), by default", async () => {
    const dir = scratch()
    await filledCache(dir)
    damagePages(join(dir, "cache.db"))
    writeFileSync(join(dir, "cache.db-wal"), Buffer.alloc(1024, 1))
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, onWarning: (message) => warnings.push(message) })
    expect(warnings.some((warning) => /quick_check|not a readable database|damaged/.test(warning))).toBe(true)
    expect(await cache.put("k", "fresh")).toBe(true)
    expect(await cache.get("k")).toBe("fresh")
    await cache.close()
  })

  it("damage found by a read is a miss; the file is moved aside and the cache goes on empty", async () => {
    const dir = scratch()
    await filledCache(dir, 200)
    damagePages(join(dir, "cache.db"))
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, quickCheck: "never", onWarning: (message) => warnings.push(message) })
    expect(await cache.get("k1")).toBeUndefined()
    expect((await cache.inspect()).errors).toBeGreaterThanOrEqual(1)
    expect(warnings.some((warning) => /damaged/.test(warning))).toBe(true)
    expect(movedAside(dir)).toHaveLength(1)
    expect(await cache.put("k1", "fresh")).toBe(true)
    expect(await cache.get("k1")).toBe("fresh")
    await cache.persist()
    expect((await cache.inspect()).entryCount).toBe(1)
    await cache.close()
  })

  it("keeps only the newest moved-aside files", async () => {
    const dir = scratch()
    for (let i = 0; i < 4; i++) {
      writeFileSync(join(dir, "cache.db"), `garbage ${i}`.repeat(200))
      const cache = await createSqliteCache({ dir, onWarning: () => {} })
      await cache.close()
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    expect(movedAside(dir)).toHaveLength(2)
  })

  it("refuses a database of another application, naming the option, and leaves it alone", async () => {
    const dir = scratch()
    const path = join(dir, "app.db")
    const db = new Database(path)
    db.pragma("application_id = 1234")
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    db.close()
    await expect(createSqliteCache({ path })).rejects.toMatchObject({ code: "SITECACHE_BAD_OPTION", option: "path" })
    await expect(createCache({ backend: "sqlite", dir, sqlite: { path } })).rejects.toMatchObject({
      code: "SITECACHE_BAD_OPTION",
      option: "sqlite.path",
    })
    expect(existsSync(path)).toBe(true)
    const again = new Database(path)
    expect(again.pragma("application_id", { simple: true })).toBe(1234)
    again.close()
    expect(APPLICATION_ID).not.toBe(1234)
  })
})
