/**
 * A sitecache database that is damaged (it fails `quick_check`, or its schema
 * is unreadable) or of an older format version is moved aside
 * (`cache.db.corrupt-<time>`) and recreated, with a warning; the build goes
 * on cold. Any other file at the cache path (another application's
 * database, a file that is not a database, a newer sitecache's database, a
 * stray WAL) is never moved, written or removed: the build goes on without
 * the cache, with one warning naming the file and what to do.
 */
import { createHash } from "node:crypto"
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import { type CacheInfo, createCache } from "@sitecache/core"
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

/** Every file in `dir` with a hash of its bytes: what "left untouched" is checked against. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => [
        name,
        createHash("sha256")
          .update(readFileSync(join(dir, name)))
          .digest("hex"),
      ]),
  )
}

/** Open the cache at `dir` (or `path`), read, write, persist, inspect and close; what it warned. */
async function useCache(options: { dir: string; path?: string }): Promise<{ warnings: string[]; info: CacheInfo }> {
  const warnings: string[] = []
  const cache = await createSqliteCache({ ...options, onWarning: (message) => warnings.push(message) })
  expect(await cache.get("k")).toBeUndefined()
  expect(await cache.put("k", "v")).toBe(false)
  expect(await cache.putMany([["k2", 2]])).toEqual([false])
  await cache.delete("k")
  await cache.persist()
  await cache.clear()
  expect(await cache.prune({ orphans: true })).toEqual({ removedCount: 0, removedSize: 0 })
  const info = await cache.inspect()
  await cache.close()
  return { warnings, info }
}

/** A database of another application: its own tables and rows, its own `application_id` (or none, when 0). */
function foreignDatabase(path: string, applicationId: number, journal: "wal" | "delete" = "delete"): void {
  const db = new Database(path)
  db.pragma(`journal_mode = ${journal}`)
  if (applicationId !== 0) db.pragma(`application_id = ${applicationId}`)
  db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
  const insert = db.prepare("INSERT INTO users (name) VALUES (?)")
  db.transaction(() => {
    for (let i = 0; i < 100; i++) insert.run(`user ${i}`)
  })()
  db.close()
}

describe("sqlite: creating the database", () => {
  it("removes sitecache's own WAL and shared-memory file left without their database before creating it", async () => {
    const dir = scratch()
    // A WAL of sitecache's, as a process that was killed leaves it: copied while the cache was open.
    const writer = await createSqliteCache({ dir })
    await writer.putMany([["old", "entry of the deleted database"]])
    const wal = readFileSync(join(dir, "cache.db-wal"))
    await writer.close()
    rmSync(join(dir, "cache.db"))
    writeFileSync(join(dir, "cache.db-wal"), wal)
    writeFileSync(join(dir, "cache.db-shm"), Buffer.alloc(4096, 7))
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, onWarning: (message) => warnings.push(message) })
    expect(await cache.get("old")).toBeUndefined()
    expect(await cache.put("k", "fresh")).toBe(true)
    expect((await cache.inspect()).entryCount).toBe(1)
    await cache.close()
    expect(warnings).toEqual([])
    expect(movedAside(dir)).toEqual([])
  })

  it("makes an empty file at the cache path its database, without a warning", async () => {
    const dir = scratch()
    writeFileSync(join(dir, "cache.db"), "")
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, onWarning: (message) => warnings.push(message) })
    expect(await cache.put("k", "v")).toBe(true)
    expect(await cache.get("k")).toBe("v")
    await cache.close()
    expect(warnings).toEqual([])
  })
})

describe("sqlite: a file at the cache path that is not sitecache's is never touched", () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    [
      "a database of another application",
      (dir) => foreignDatabase(join(dir, "cache.db"), 1234),
      /a database of another application \(`application_id` 1234\)/,
    ],
    [
      "a database of another application, in WAL mode",
      (dir) => foreignDatabase(join(dir, "cache.db"), 0x4e4f5045, "wal"),
      /a database of another application/,
    ],
    [
      "a database without any application id",
      (dir) => foreignDatabase(join(dir, "cache.db"), 0),
      /a database that is not sitecache's \(it has tables, and no `application_id`\)/,
    ],
    [
      "a file that is not a database",
      (dir) => writeFileSync(join(dir, "cache.db"), "notes that happen to be called cache.db\n".repeat(200)),
      /it is not a SQLite database/,
    ],
    [
      "a database of a newer sitecache (a later format version)",
      (dir) => {
        const db = new Database(join(dir, "cache.db"))
        db.exec(`CREATE TABLE entries (id INTEGER PRIMARY KEY, value BLOB); INSERT INTO entries (value) VALUES (x'00');
          PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${SCHEMA_VERSION + 1}`)
        db.close()
      },
      /written by a newer sitecache \(format version 2; this version reads 1\): upgrade @sitecache\/backend-sqlite/,
    ],
    [
      "a WAL that is not sitecache's, without its database",
      (dir) => writeFileSync(join(dir, "cache.db-wal"), Buffer.alloc(4096, 7)),
      /cache\.db-wal lies there without its database and is not recognizably sitecache's/,
    ],
  ]

  it.each(cases)("%s: the build goes on without the cache, with one warning naming the file", async (_, make, reason) => {
    const dir = scratch()
    make(dir)
    const before = snapshot(dir)
    // The same build three times (three moves aside used to delete the first file).
    for (let build = 0; build < 3; build++) {
      const { warnings, info } = await useCache({ dir })
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(reason)
      expect(warnings[0]).toContain(join(dir, "cache.db"))
      expect(warnings[0]).toMatch(/left untouched and this build runs without the cache: point `dir` at a directory/)
      expect(info).toMatchObject({ entryCount: 0, puts: 0, errors: 0 })
      expect(snapshot(dir)).toEqual(before)
    }
  })

  it("through createCache, names `sqlite.path` and warns through its onWarning, not process warnings", async () => {
    const dir = scratch()
    const path = join(dir, "app.db")
    foreignDatabase(path, 1234)
    const before = snapshot(dir)
    const warnings: string[] = []
    const emitted: string[] = []
    const onProcessWarning = (warning: Error) => emitted.push(warning.message)
    process.on("warning", onProcessWarning)
    try {
      const cache = await createCache(
        { backend: "sqlite", dir, sqlite: { path } },
        { resolveFrom: import.meta.url, onWarning: (message) => warnings.push(message) },
      )
      expect(await cache.put("k", 1)).toBe(false)
      expect(await cache.get("k")).toBeUndefined()
      await cache.close()
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/app\.db is not used because it is a database of another application/)
      expect(warnings[0]).toMatch(/point `sqlite\.path` at a file of sitecache's own, or remove .*app\.db if nothing needs it/)
      expect(emitted.filter((message) => /app\.db/.test(message))).toEqual([])
    } finally {
      process.off("warning", onProcessWarning)
    }
    expect(snapshot(dir)).toEqual(before)
  })

  it("in read-only mode: reads nothing from it, with the same warning", async () => {
    const dir = scratch()
    foreignDatabase(join(dir, "cache.db"), 1234)
    const before = snapshot(dir)
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, mode: "read-only", onWarning: (message) => warnings.push(message) })
    expect(await cache.get("k")).toBeUndefined()
    await cache.close()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/is not used because it is a database of another application/)
    expect(snapshot(dir)).toEqual(before)
  })
})

describe("sqlite: damaged and outdated sitecache databases", () => {
  it("moves a database of an older format version aside and starts empty, with one warning", async () => {
    const dir = scratch()
    await filledCache(dir)
    const db = new Database(join(dir, "cache.db"))
    db.pragma(`user_version = ${SCHEMA_VERSION - 1}`)
    db.close()
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, onWarning: (message) => warnings.push(message) })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/moved .*cache\.db aside .*format version is 0/)
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

  it("moves a database whose schema is unreadable aside when its header says it is sitecache's", async () => {
    const dir = scratch()
    await filledCache(dir, 5)
    // Page 1 keeps the database header (and its application id); the schema table after it is overwritten.
    const fd = openSync(join(dir, "cache.db"), "r+")
    writeSync(fd, Buffer.alloc(1000, 0x5a), 0, 1000, 100)
    closeSync(fd)
    const warnings: string[] = []
    const cache = await createSqliteCache({ dir, onWarning: (message) => warnings.push(message) })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/moved .*aside .*not a readable database/)
    expect(movedAside(dir)).toHaveLength(1)
    expect(await cache.put("k", 1)).toBe(true)
    expect(await cache.get("k")).toBe(1)
    await cache.close()
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
    expect((await cache.inspect()).entryCount).toBe(1)
    await cache.close()
  })

  it("keeps only the newest moved-aside copies of its own, and never removes a file of that name that is not", async () => {
    const dir = scratch()
    // Files named like moved-aside copies, older than any to come, that are not sitecache's.
    foreignDatabase(join(dir, "cache.db.corrupt-2000-01-01T00-00-00-000Z"), 1234)
    writeFileSync(join(dir, "cache.db.corrupt-2000-01-02T00-00-00-000Z"), "somebody's notes")
    const others = snapshot(dir)
    for (let i = 0; i < 4; i++) {
      await filledCache(dir, 5)
      damagePages(join(dir, "cache.db"))
      const cache = await createSqliteCache({ dir, quickCheck: "always", onWarning: () => {} })
      await cache.close()
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const ours = movedAside(dir).filter((name) => !(name in others))
    expect(ours).toHaveLength(2)
    const left = snapshot(dir)
    for (const [name, hash] of Object.entries(others)) expect(left[name]).toBe(hash)
  })
})
