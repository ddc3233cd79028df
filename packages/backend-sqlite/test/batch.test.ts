/**
 * Writes and several processes: every write call is one transaction,
 * committed before it resolves, so another process sees a put as soon as it
 * resolves and the write lock is never held between calls (across a render);
 * put-if-absent is decided by the database, so it holds across processes; the
 * WAL stays bounded however much is written.
 */
import { statSync } from "node:fs"
import { join } from "node:path"
import { runChildScript } from "@sitecache/conformance"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { createSqliteCache } from "../src/index.js"
import { scratch } from "./helpers.js"

const source = new URL("../src/index.ts", import.meta.url).href

/** Block the event loop for `ms`, as a render does. */
function render(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until);
}

describe("sqlite: writes and several processes", () => {
  it("a put is committed when it resolves: another connection and another process read it at once", async () => {
    const dir = scratch()
    const cache = await createSqliteCache({ dir })
    const other = new Database(join(dir, "cache.db"), { readonly: true })
    const count = () => other.prepare("SELECT count(*) FROM entries").pluck().get()
    expect(await cache.put("seed", 0)).toBe(true)
    expect(count()).toBe(1)
    // No await here yields to the event loop, and no persist(): still committed.
    expect(await cache.putMany(Array.from({ length: 20 }, (_, i) => [`k${i}`, i] as const))).toEqual(Array(20).fill(true))
    expect(count()).toBe(21)
    other.close()

    const out = await runChildScript(`
      const { createSqliteCache } = await import(${JSON.stringify(source)})
      const cache = await createSqliteCache({ dir: ${JSON.stringify(dir)} })
      process.stdout.write(JSON.stringify(await cache.getMany(["k0", "k7", "k19"])))
      await cache.close()
    `)
    expect(JSON.parse(out)).toEqual([0, 7, 19])
    await cache.close()
  })

  it("never holds the write lock between calls: another writer gets it during the next render", async () => {
    const dir = scratch()
    const cache = await createSqliteCache({ dir })
    const other = new Database(join(dir, "cache.db"))
    other.pragma("busy_timeout = 0")
    for (let document = 0; document < 5; document++) {
      await cache.put(`page-${document}`, `<p>${document}</p>`)
      await cache.get(`page-${document}`)
      // The build renders the next document in the same event-loop turn: another process must be able to write.
      render(5)
      other.exec("BEGIN IMMEDIATE")
      other.exec("COMMIT")
    }
    other.close()
    await cache.close()
  })

  it("put-if-absent holds across processes: of two racing writers, exactly one adds each key", async () => {
    const dir = scratch()
    const first = await createSqliteCache({ dir })
    await first.close()
    const writer = (name: string) =>
      runChildScript(`
        const { createSqliteCache } = await import(${JSON.stringify(source)})
        const cache = await createSqliteCache({ dir: ${JSON.stringify(dir)}, busyTimeout: 10000 })
        const added = []
        for (let i = 0; i < 300; i++) {
          added.push(await cache.put("key-" + i, ${JSON.stringify(name)} + "-" + i))
          if (i % 7 === 0) await new Promise((resolve) => setImmediate(resolve))
        }
        await cache.persist()
        process.stdout.write(JSON.stringify({ added, errors: (await cache.inspect()).errors }))
        await cache.close()
      `)
    const [a, b] = (await Promise.all([writer("a"), writer("b")])).map(
      (out) => JSON.parse(out) as { added: boolean[]; errors: number },
    )
    expect(a!.errors + b!.errors).toBe(0)
    const cache = await createSqliteCache({ dir })
    const values = await cache.getMany(Array.from({ length: 300 }, (_, i) => `key-${i}`))
    for (let i = 0; i < 300; i++) {
      expect(a!.added[i] !== b!.added[i]).toBe(true)
      expect(values[i]).toBe(`${a!.added[i] ? "a" : "b"}-${i}`)
    }
    expect((await cache.inspect()).entryCount).toBe(300)
    await cache.close()
  })

  it("keeps the WAL bounded after many puts", async () => {
    const dir = scratch()
    const cache = await createSqliteCache({ dir })
    const value = Buffer.alloc(32 * 1024, 7)
    const wal = () => statSync(join(dir, "cache.db-wal")).size
    let largest = 0
    // 48 MiB in all, in builds of 6 MiB each ended by persist().
    for (let build = 0; build < 8; build++) {
      for (let i = 0; i < 192; i++) await cache.put(`b${build}-${i}`, value.subarray(0, value.length - i))
      await cache.persist()
      largest = Math.max(largest, wal())
    }
    expect((await cache.inspect()).size).toBeGreaterThan(40 * 1024 * 1024)
    // The auto-checkpoint threshold (1,000 pages of 8 KiB) and some: far below what was written.
    expect(largest).toBeLessThan(20 * 1024 * 1024)
    await cache.close()
    // The last connection to close checkpoints and removes the WAL.
    expect(() => wal()).toThrow()
  })
})
