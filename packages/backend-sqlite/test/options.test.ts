/** Options are checked when the cache is created, and a bad one is named. */
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { createCache } from "@sitecache/core"
import { describe, expect, it } from "vitest"
import { createSqliteCache } from "../src/index.js"
import { scratch } from "./helpers.js"

describe("sqlite: options", () => {
  it("opens <dir>/cache.db through createCache, or the file sqlite.path names", async () => {
    const dir = scratch()
    const cache = await createCache({ backend: "sqlite", dir })
    expect(cache.name).toBe(`sqlite (${join(dir, "cache.db")})`)
    await cache.close()
    const other = await createCache({ backend: "sqlite", root: dir, sqlite: { path: "elsewhere/own.db" } })
    expect(other.name).toBe(`sqlite (${join(dir, "elsewhere", "own.db")})`)
    await other.close()
    expect(existsSync(join(dir, "elsewhere", "own.db"))).toBe(true)
  })

  it.each([
    [{ busyTimeout: "soon" }, "sqlite.busyTimeout"],
    [{ busyTimeout: -1 }, "sqlite.busyTimeout"],
    [{ quickCheck: "sometimes" }, "sqlite.quickCheck"],
    [{ path: 42 }, "sqlite.path"],
    [{ journal: "wal" }, "sqlite.journal"],
  ])("refuses sqlite %j naming `%s`", async (sqlite, option) => {
    const dir = scratch()
    await expect(createCache({ backend: "sqlite", dir, sqlite })).rejects.toMatchObject({ code: "SITECACHE_BAD_OPTION", option })
  })

  it("refuses bad options of createSqliteCache by their own names", async () => {
    const dir = scratch()
    await expect(createSqliteCache({ dir, busyTimeout: "soon" as never })).rejects.toMatchObject({ option: "busyTimeout" })
    await expect(createSqliteCache({ dir, maxSize: "lots" })).rejects.toMatchObject({ option: "maxSize" })
    await expect(createSqliteCache({ dir, ttl: -5 })).rejects.toMatchObject({ option: "ttl" })
  })

  it("refuses a typo as createCache does, before opening the database", async () => {
    const dir = scratch()
    for (const [options, option, meant] of [
      [{ maxSzie: "1 GB" }, "maxSzie", "maxSize"],
      [{ busytimeout: 10 }, "busytimeout", "busyTimeout"],
      [{ mdoe: "read-only" }, "mdoe", "mode"],
    ] as const) {
      await expect(createSqliteCache({ dir, ...options } as never)).rejects.toMatchObject({
        code: "SITECACHE_BAD_OPTION",
        option,
        message: expect.stringContaining(`did you mean \`${meant}\`?`),
      })
    }
    await expect(createCache({ backend: "sqlite", dir, maxSzie: "1 GB" } as never)).rejects.toMatchObject({
      option: "maxSzie",
      message: expect.stringContaining("did you mean `maxSize`?"),
    })
    expect(existsSync(join(dir, "cache.db"))).toBe(false)
  })

  it("names the directory it cannot create (and `sqlite.path` when that names the file)", async () => {
    const dir = scratch()
    writeFileSync(join(dir, "a-file"), "")
    const refused = createCache({ backend: "sqlite", dir: join(dir, "a-file", "cache") })
    await expect(refused).rejects.toMatchObject({ code: "SITECACHE_BAD_OPTION", option: "dir" })
    // It says what happens: the cache is refused, not opened with its writes dropped.
    const message = await refused.catch((error: Error) => error.message)
    expect(message).toContain(`${join(dir, "a-file")} is a file, not a directory`)
    expect(message).not.toMatch(/dropped/)
    await expect(
      createCache({ backend: "sqlite", dir, sqlite: { path: join(dir, "a-file", "cache.db") } }),
    ).rejects.toMatchObject({ code: "SITECACHE_BAD_OPTION", option: "sqlite.path" })
  })

  it("read-only never creates a database, and reads what is there", async () => {
    const dir = scratch()
    const empty = await createSqliteCache({ dir, mode: "read-only" })
    expect(await empty.get("k")).toBeUndefined()
    await empty.close()
    expect(existsSync(join(dir, "cache.db"))).toBe(false)

    const writer = await createSqliteCache({ dir })
    await writer.put("k", "v")
    await writer.close()
    const reader = await createCache({ backend: "sqlite", dir, mode: "read-only" })
    expect(await reader.get("k")).toBe("v")
    await reader.close()
  })
})
