/**
 * A writer killed with SIGKILL at random moments, over and over (50 times;
 * `SITECACHE_KILLS` raises it, e.g. to 500): every key it acknowledged reads
 * back exactly, no read throws or finds a corrupt entry, SQLite's
 * `quick_check` is ok, and `clean()` leaves no temporary file.
 *
 * A put is acknowledged when `put` resolves `true`: the entry is then in the
 * kernel (a filesystem entry's file, a committed SQLite transaction in the
 * WAL), whatever happens to the process next.
 */
import type { FsStore } from "@sitecache/backend-fs"
import { describe, expect, it } from "vitest"
import { BACKENDS, openCache, scratchDir, sqliteQuickCheck, startChild, tempFiles } from "./support.js"
import { contentHashOf, keyOf, random } from "./values.js"

const KILLS = Number(process.env.SITECACHE_KILLS ?? 50)
/** Distinct keys: children revisit earlier keys (put-if-absent) and add new ones. */
const POOL = 400
const MIN_SIZE = 1024
const MAX_SIZE = 256 * 1024

describe.each(BACKENDS)("%s: a writer killed at random moments", (backend) => {
  it(
    `loses nothing it acknowledged over ${KILLS} SIGKILLs`,
    async () => {
      const dir = scratchDir(`killed-${backend}`)
      const acked = new Map<number, string>()
      const cache = await openCache(backend, dir)
      const next = random(KILLS * 7919 + (backend === "fs" ? 1 : 2))
      let temporaryFilesSeen = 0
      for (let kill = 0; kill < KILLS; kill++) {
        const child = await startChild([
          "kill",
          backend,
          dir,
          String(kill + 1),
          String(POOL),
          String(MIN_SIZE),
          String(MAX_SIZE),
          "put",
        ])
        // One kill in ten lands while the child starts or opens the cache; the rest while it writes.
        if (next() < 0.9) await child.waitFor("ready")
        await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 120)))
        child.process.kill("SIGKILL")
        const result = await child.exited
        if (result.signal !== "SIGKILL") throw new Error(`the writer ended on its own (${result.code}):\n${result.stderr}`)
        for (const line of child.lines) {
          const [word, index, hash] = line.split(" ")
          if (word !== "ack") continue
          const i = Number(index)
          expect(acked.get(i) ?? hash).toBe(hash)
          acked.set(i, hash as string)
        }
        // Read a few acknowledged keys right away, between kills.
        const sample = [...acked.keys()].filter(() => next() < 0.02).slice(0, 5)
        const values = await cache.getMany(sample.map(keyOf))
        expect(values.map(contentHashOf)).toEqual(sample.map((i) => acked.get(i)))
        if (backend === "fs") temporaryFilesSeen += tempFiles(dir).length
      }

      expect(acked.size).toBeGreaterThan(KILLS / 2)
      const mismatches: number[] = []
      const keys = [...acked.keys()]
      for (let at = 0; at < keys.length; at += 50) {
        const batch = keys.slice(at, at + 50)
        const values = await cache.getMany(batch.map(keyOf))
        batch.forEach((i, n) => {
          if (contentHashOf(values[n]) !== acked.get(i)) mismatches.push(i)
        })
      }
      expect(mismatches).toEqual([])
      const info = await cache.inspect()
      expect(info.errors).toBe(0)
      expect(info.entryCount).toBeGreaterThanOrEqual(acked.size)

      if (backend === "fs") {
        const store = cache.store as FsStore
        store.clean({ olderThan: 0 })
        expect(tempFiles(dir)).toEqual([])
        console.log(
          `fs: ${acked.size} keys acknowledged over ${KILLS} kills; temporary files seen after kills: ${temporaryFilesSeen}`,
        )
      }
      await cache.close()
      if (backend === "sqlite") expect(sqliteQuickCheck(dir)).toBe("ok")
    },
    60_000 + KILLS * 3_000,
  )
})
