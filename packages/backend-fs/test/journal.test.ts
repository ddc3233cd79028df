import { appendFileSync, existsSync, readFileSync, statSync, utimesSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { createFsCache, type FsCache } from "../src/index.js"
import { decodeIndex } from "../src/index-file.js"
import { countingFileSystem, filesBelow, persistedView, removeAll, scratch } from "./helpers.js"

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

function relOf(cache: FsCache, k: string): string {
  const id = cache.entryId(k)
  return `${id.prefix.hex}/${id.key.hex.slice(0, 2)}/${id.key.hex.slice(2)}`
}

/**
 * A cache of `count` entries written yesterday, as the next build finds it:
 * written, its directories aged past the settle window, then listed once.
 */
async function written(count: number): Promise<string> {
  const dir = scratch()
  const writer = await createFsCache({ dir })
  await writer.putMany(Array.from({ length: count }, (_, i) => [`k${i}`, `value ${i}`] as const))
  await writer.close()
  const old = new Date(Date.now() - 86_400_000)
  for (const file of filesBelow(join(dir, "fs-v1"))) utimesSync(join(dir, "fs-v1", file, ".."), old, old)
  const lister = await createFsCache({ dir })
  await lister.inspect()
  await lister.close()
  return dir
}

describe("persist() costs what the build did, not the size of the cache", () => {
  it("a build's reads and writes are appended to the journal as one batch; the index is not rewritten", async () => {
    const dir = await written(300)
    const index = join(dir, "fs-v1", "index")
    const before = readFileSync(index)
    const filesystem = countingFileSystem()
    const start = Date.now() + 86_400_000
    let now = start
    const build = await open({ dir, fileSystem: filesystem, clock: () => now })
    for (const k of ["k1", "k2", "k2"]) await build.get(k)
    now += 1000
    await build.put("new", "value")
    const listed = filesystem.calls.readdirSync ?? 0
    await build.persist()
    // No listing, no index: one batch of three records (12-byte head, 61 bytes each, 8-byte checksum).
    expect(filesystem.calls.readdirSync ?? 0).toBe(listed)
    expect(filesystem.calls.renameSync ?? 0).toBe(0)
    expect(readFileSync(index).equals(before)).toBe(true)
    expect(statSync(join(dir, "fs-v1", "journal")).size).toBe(12 + 3 * 61 + 8)
    const view = persistedView(dir)
    expect(view.get(relOf(build, "k2"))).toMatchObject({ hits: 2, accessed: start })
    expect(view.get(relOf(build, "k1"))?.hits).toBe(1)
    expect(view.get(relOf(build, "new"))).toMatchObject({ accessed: start + 1000, expires: 0, hits: 0 })
    // A new process counts exactly (the journal is an accelerator; the files are the truth).
    const reader = await open({ dir })
    expect((await reader.inspect()).entryCount).toBe(301)
  })

  it("the journal is compacted into the index once it outgrows it, hits kept", async () => {
    const dir = await written(20)
    const journal = join(dir, "fs-v1", "journal")
    let builds = 0
    let compacted = false
    while (!compacted && builds < 200) {
      const build = await createFsCache({ dir })
      for (let i = 0; i < 20; i++) await build.get(`k${i}`)
      await build.close()
      builds++
      compacted = !existsSync(journal)
    }
    // Batches of 20 records are 1,240 bytes: the build whose batch would take the journal past 64 KiB compacts.
    expect(builds).toBe(53)
    const index = decodeIndex(readFileSync(join(dir, "fs-v1", "index")))
    const probe = await open({ dir })
    expect(index?.get(relOf(probe, "k7"))?.hits).toBe(53)
    expect(existsSync(journal)).toBe(false)
  })

  it("a damaged or half-written batch is ignored, what came before it is kept, and the next persist() compacts", async () => {
    const dir = await written(10)
    const first = await createFsCache({ dir })
    await first.get("k3")
    await first.close()
    const journal = join(dir, "fs-v1", "journal")
    const batch = readFileSync(journal)
    appendFileSync(journal, batch.subarray(0, batch.length - 5)) // a writer killed mid-append
    appendFileSync(journal, batch) // never read: it follows the damage
    const probe = await open({ dir })
    expect(persistedView(dir).get(relOf(probe, "k3"))?.hits).toBe(1)
    expect((await probe.inspect()).entryCount).toBe(10)
    expect(await probe.get("k3")).toBe("value 3")
    await probe.persist()
    expect(existsSync(journal)).toBe(false)
    expect(decodeIndex(readFileSync(join(dir, "fs-v1", "index")))?.get(relOf(probe, "k3"))?.hits).toBe(2)
  })

  it("two processes appending at once lose nothing", async () => {
    const dir = await written(10)
    const one = await open({ dir })
    const two = await open({ dir })
    await one.get("k1")
    await two.get("k1")
    await two.get("k2")
    await Promise.all([one.persist(), two.persist()])
    const view = persistedView(dir)
    expect(view.get(relOf(one, "k1"))?.hits).toBe(2)
    expect(view.get(relOf(one, "k2"))?.hits).toBe(1)
  })
})
