/**
 * How the local backends open: bounded by default (`DEFAULT_MAX_SIZE`) from
 * every entry point, and, asked not to create (`createCache(config, { create:
 * false })`, what the `sitecache` command does), they open only a cache that
 * exists and create nothing.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createFsCache, type FsStore } from "@sitecache/backend-fs"
import { createSqliteCache, type SqliteStore } from "@sitecache/backend-sqlite"
import { type CacheConfig, createCache, DEFAULT_MAX_SIZE, type StoreCache } from "@sitecache/core"
import { afterEach, beforeEach, describe, expect, it } from "vitest"

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sitecache-open-"))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const resolveFrom = import.meta.url

/** Every file below `root` with its size and modification time. */
async function listing(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const name of await readdir(root, { recursive: true })) {
    const info = await stat(join(root, name))
    files[name] = info.isDirectory() ? "dir" : `${info.size} ${info.mtimeMs}`
  }
  return files
}

function maxSizeOf(cache: StoreCache): number | undefined {
  return (cache.store as FsStore | SqliteStore).maxSize
}

describe.each(["fs", "sqlite"] as const)("%s", (backend) => {
  it(`is bounded by default: ${DEFAULT_MAX_SIZE} bytes, through createCache and the direct constructor`, async () => {
    const configured = await createCache({ backend, dir }, { resolveFrom })
    const direct = backend === "fs" ? await createFsCache({ dir }) : await createSqliteCache({ dir })
    const set = await createCache({ backend, dir, maxSize: "2 GiB" }, { resolveFrom })
    try {
      expect(DEFAULT_MAX_SIZE).toBe(1024 ** 3)
      expect(maxSizeOf(configured)).toBe(DEFAULT_MAX_SIZE)
      expect(maxSizeOf(direct)).toBe(DEFAULT_MAX_SIZE)
      expect(maxSizeOf(set)).toBe(2 * 1024 ** 3)
    } finally {
      await Promise.all([configured.close(), direct.close(), set.close()])
    }
  })

  it("with `create: false`, a missing cache is CacheNotFoundError and nothing is created, in either mode", async () => {
    const config: CacheConfig = { backend, dir: join(dir, "node_modules", ".cache", "sitecache") }
    for (const mode of ["read-write", "read-only"] as const) {
      await expect(createCache({ ...config, mode }, { resolveFrom, create: false })).rejects.toMatchObject({
        code: "SITECACHE_NOT_FOUND",
        backend,
        location: join(dir, "node_modules", ".cache", "sitecache", backend === "fs" ? "fs-v1" : "cache.db"),
      })
    }
    expect(await readdir(dir)).toEqual([])
  })

  it("reading an existing cache in read-only mode leaves every file as it was (SQLite's -wal and -shm too)", async () => {
    const writer = await createCache({ backend, dir }, { resolveFrom })
    await writer.put("k", "v")
    await writer.close()
    const before = await listing(dir)
    const reader = await createCache({ backend, dir, mode: "read-only" }, { resolveFrom, create: false })
    expect(await reader.get("k")).toBe("v")
    expect((await reader.inspect()).entryCount).toBe(1)
    await reader.close()
    expect(await listing(dir)).toEqual(before)
  })

  it("with `create: false`, an existing cache opens as usual", async () => {
    const writer = await createCache({ backend, dir }, { resolveFrom })
    await writer.put("k", "v")
    await writer.close()
    const reader = await createCache({ backend, dir, mode: "read-only" }, { resolveFrom, create: false })
    try {
      expect(await reader.get("k")).toBe("v")
    } finally {
      await reader.close()
    }
  })
})
