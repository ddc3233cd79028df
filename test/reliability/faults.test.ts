/**
 * Disks that fail: a disk that fills up (a 2 MiB tmpfs, or for the
 * filesystem backend also an injected `ENOSPC`), a cache directory made
 * read-only (a read-only remount), and a build without write permission (a
 * process of another user; tests run as root, which permissions do not stop).
 *
 * In the default mode no operation rejects: reads of what was stored before
 * the fault still hit, writes are dropped, every fault is counted in
 * `errors`, and each cause is warned about once.
 */
import * as nodeFs from "node:fs"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { FileSystem } from "@sitecache/backend-fs"
import type { StoreCache } from "@sitecache/core"
import { describe, expect, it } from "vitest"
import {
  BACKENDS,
  type Backend,
  itMounting,
  mountTmpfs,
  openCache,
  openUp,
  remount,
  runChild,
  scratchDir,
  tempFiles,
  unmount,
} from "./support.js"
import { contentHashOf, keyOf, valueFor } from "./values.js"

const ENTRY_SIZE = 32 * 1024

function value(i: number) {
  return valueFor(i, ENTRY_SIZE)
}

/** `operation:cause` of each warning; a cause must not be warned about twice. */
function causes(warnings: string[]): string[] {
  return warnings.map((message) => {
    const match = /`(\w+)` failed: (\S+?):?\s/.exec(message)
    return match ? `${match[1]}:${match[2]}` : message
  })
}

/**
 * Put rounds of four entries, each followed by `persist()`, until three
 * rounds in a row saw faults. Returns the keys of the rounds that saw none:
 * what the cache acknowledged before the disk filled.
 */
async function fillUp(cache: StoreCache): Promise<number[]> {
  const acked: number[] = []
  let faulty = 0
  for (let round = 0; faulty < 3 && round < 500; round++) {
    const before = (await cache.inspect()).errors
    const batch = [0, 1, 2, 3].map((j) => round * 4 + j)
    const added = await cache.putMany(batch.map((i) => [keyOf(i), value(i)]))
    await cache.persist()
    if ((await cache.inspect()).errors === before) acked.push(...batch.filter((_, j) => added[j]))
    else faulty++
  }
  expect(faulty).toBe(3)
  return acked
}

async function expectAllThere(cache: StoreCache, indexes: number[]): Promise<void> {
  const values = await cache.getMany(indexes.map(keyOf))
  expect(values.map(contentHashOf)).toEqual(indexes.map((i) => contentHashOf(value(i))))
}

/** Every write-side operation, none of which may reject. */
async function tryWrites(cache: StoreCache, existing: number): Promise<void> {
  expect(await cache.put("fault/new", value(100_000))).toBe(false)
  expect(await cache.putMany([["fault/new2", value(100_001)]])).toEqual([false])
  await cache.delete(keyOf(existing))
  await cache.persist()
}

describe.each(BACKENDS)("%s: a disk that fills up", (backend) => {
  itMounting(
    "on a 2 MiB tmpfs: nothing rejects, faults are counted and warned once per cause, earlier entries read back",
    async () => {
      const mountPoint = scratchDir(`full-${backend}`)
      if (!mountTmpfs(mountPoint, "2m")) throw new Error("mount failed")
      try {
        const dir = join(mountPoint, "cache")
        const warnings: string[] = []
        const cache = await openCache(backend, dir, {}, { onWarning: (message) => warnings.push(message) })
        const acked = await fillUp(cache)
        expect(acked.length).toBeGreaterThan(8)
        await expectAllThere(cache, acked)
        const info = await cache.inspect()
        expect(info.errors).toBeGreaterThan(0)
        expect(new Set(causes(warnings)).size).toBe(warnings.length)
        await cache.close()
        // A new cache on the full disk opens and reads what was acknowledged.
        const reopened = await openCache(backend, dir, {}, { onWarning: () => {} })
        await expectAllThere(reopened, acked)
        await reopened.close()
        if (backend === "fs") expect(tempFiles(dir)).toEqual([])
      } finally {
        unmount(mountPoint)
      }
    },
    120_000,
  )

  itMounting(
    "on a 2 MiB tmpfs: `put` is true only for what was stored, `puts` counts exactly that, and each lost write is an error",
    async () => {
      const mountPoint = scratchDir(`honest-${backend}`)
      if (!mountTmpfs(mountPoint, "2m")) throw new Error("mount failed")
      try {
        const dir = join(mountPoint, "cache")
        const cache = await openCache(backend, dir, {}, { onWarning: () => {} })
        const stored: number[] = []
        let lost = 0
        // One put after another, as a build makes them: no await here yields to the event loop.
        for (let i = 0; i < 200; i++) {
          if (await cache.put(keyOf(i), value(i))) stored.push(i)
          else lost++
        }
        await cache.persist()
        const info = await cache.inspect()
        await cache.close()
        expect(lost).toBeGreaterThan(0)
        expect({ puts: info.puts, errors: info.errors }).toEqual({ puts: stored.length, errors: lost })
        const reopened = await openCache(backend, dir, {}, { onWarning: () => {} })
        expect((await reopened.inspect()).entryCount).toBe(stored.length)
        await expectAllThere(reopened, stored)
        await reopened.close()
      } finally {
        unmount(mountPoint)
      }
    },
    120_000,
  )

  if (backend === "fs") {
    it("with ENOSPC injected on the 40th write: the same, without mounting anything", async () => {
      let writes = 0
      const fileSystem: FileSystem = {
        ...nodeFs,
        writeSync: ((...args: Parameters<typeof nodeFs.writeSync>) => {
          if (++writes >= 40) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })
          return (nodeFs.writeSync as (...a: unknown[]) => number)(...args)
        }) as typeof nodeFs.writeSync,
      }
      const dir = scratchDir("enospc")
      const warnings: string[] = []
      const cache = await openCache("fs", dir, { fs: { fileSystem } }, { onWarning: (message) => warnings.push(message) })
      const acked = await fillUp(cache)
      expect(acked.length).toBeGreaterThan(8)
      await expectAllThere(cache, acked)
      expect((await cache.inspect()).errors).toBeGreaterThan(0)
      expect(causes(warnings)).toEqual(["put:ENOSPC"])
      await cache.close()
      expect(tempFiles(dir)).toEqual([])
    })
  }
})

async function seeded(backend: Backend, dir: string, count: number): Promise<number[]> {
  const writer = await openCache(backend, dir)
  const indexes = Array.from({ length: count }, (_, i) => i)
  await writer.putMany(indexes.map((i) => [keyOf(i), value(i)]))
  await writer.close()
  return indexes
}

describe.each(BACKENDS)("%s: a cache directory made read-only", (backend) => {
  itMounting(
    "after a remount read-only: it opens, every stored entry hits, writes are dropped, nothing rejects",
    async () => {
      const mountPoint = scratchDir(`ro-${backend}`)
      if (!mountTmpfs(mountPoint, "16m")) throw new Error("mount failed")
      try {
        const dir = join(mountPoint, "cache")
        const indexes = await seeded(backend, dir, 20)
        remount(mountPoint, "ro")
        const warnings: string[] = []
        const cache = await openCache(backend, dir, {}, { onWarning: (message) => warnings.push(message) })
        await expectAllThere(cache, indexes)
        await tryWrites(cache, 0)
        await cache.clear()
        await expectAllThere(cache, indexes)
        expect((await cache.inspect()).entryCount).toBe(20)
        expect((await cache.inspect()).errors).toBeGreaterThan(0)
        expect(new Set(causes(warnings)).size).toBe(warnings.length)
        await cache.close()
      } finally {
        unmount(mountPoint)
      }
    },
    60_000,
  )

  if (backend === "fs") {
    itMounting("read-only in the middle of a build: the same, without reopening", async () => {
      const mountPoint = scratchDir("ro-mid-fs")
      if (!mountTmpfs(mountPoint, "16m")) throw new Error("mount failed")
      try {
        const dir = join(mountPoint, "cache")
        const warnings: string[] = []
        const cache = await openCache("fs", dir, {}, { onWarning: (message) => warnings.push(message) })
        const indexes = Array.from({ length: 20 }, (_, i) => i)
        await cache.putMany(indexes.map((i) => [keyOf(i), value(i)]))
        remount(mountPoint, "ro")
        await expectAllThere(cache, indexes)
        await tryWrites(cache, 0)
        await cache.clear()
        await expectAllThere(cache, indexes)
        expect(causes(warnings)).toEqual(["put:EROFS"])
        await cache.close()
        remount(mountPoint, "rw")
        // Writable again: the same cache directory takes writes.
        const again = await openCache("fs", dir)
        expect(await again.put("fault/new", value(1))).toBe(true)
        await again.close()
      } finally {
        unmount(mountPoint)
      }
    })
  }
})

const isRoot = process.getuid?.() === 0

describe.each(BACKENDS)("%s: a build without write permission", (backend) => {
  // Only root can start a process as another user: elsewhere a skip; CI runs as root, and fails here if it is not.
  it.skipIf(!isRoot && process.env.CI !== "true")(
    "reads every entry, drops writes, counts them and warns once per cause",
    async () => {
      if (!isRoot) throw new Error("this test needs root, as CI runs it")
      const scratch = scratchDir(`perm-${backend}`)
      const dir = join(scratch, "cache")
      mkdirSync(dir)
      const indexes = await seeded(backend, dir, 10)
      // Owned by root, readable by everyone, writable by nobody else.
      openUp(scratch)
      const result = await runChild<{
        hashes: string[]
        put: boolean
        deleted: boolean
        again: string
        errors: number
        warnings: string[]
      }>(["probe", backend, dir, JSON.stringify(indexes)], { uid: 65534, gid: 65534 })
      expect(result.hashes).toEqual(indexes.map((i) => contentHashOf(value(i))))
      expect({ put: result.put, deleted: result.deleted, again: result.again }).toEqual({
        put: false,
        deleted: false,
        again: contentHashOf(value(0)),
      })
      expect(result.errors).toBeGreaterThan(0)
      expect(new Set(causes(result.warnings)).size).toBe(result.warnings.length)
    },
  )
})
