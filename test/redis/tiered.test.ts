/**
 * The tiered store on its own, with a scripted "remote" tier (a memory store
 * that can fail, stall and count its calls): the order of reads, copies into
 * faster tiers, the write-behind queue and its bound, fault isolation,
 * prefetch from the previous build's manifest, and read-only mode.
 */
import {
  BuildStats,
  type EntryId,
  type EntryMeta,
  FileHasher,
  finishBuild,
  type Key,
  MemoryStore,
  memoize,
  prefetchFromManifest,
  type Store,
  StoreCache,
  type StoreStats,
  TieredStore,
} from "@sitecache/core"
import { describe, expect, it } from "vitest"

/** A remote tier: a memory store behind switches. */
class ScriptedRemote implements Store {
  readonly name: string
  readonly remote: boolean
  readonly inner = new MemoryStore()
  readonly calls = { get: 0, getMany: 0, add: 0, addMany: 0, delete: 0 }
  /** Thrown by every call while set. */
  failure: Error | undefined
  /** Writes wait for this while set. */
  gate: Promise<void> | undefined

  constructor(name = "remote", remote = true) {
    this.name = name
    this.remote = remote
  }

  #check(): void {
    if (this.failure !== undefined) throw this.failure
  }

  async get(id: EntryId) {
    this.calls.get++
    this.#check()
    return this.inner.get(id)
  }
  async getMany(ids: readonly EntryId[]) {
    this.calls.getMany++
    this.#check()
    return ids.map((id) => this.inner.get(id))
  }
  async add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number) {
    this.calls.add++
    await this.gate
    this.#check()
    return this.inner.add(id, bytes, meta, now)
  }
  async addMany(entries: readonly (readonly [EntryId, Uint8Array, EntryMeta])[], now: number) {
    this.calls.addMany++
    await this.gate
    this.#check()
    return entries.map(([id, bytes, meta]) => this.inner.add(id, bytes, meta, now))
  }
  async set(id: EntryId, bytes: Uint8Array, meta: EntryMeta) {
    this.#check()
    this.inner.set(id, bytes, meta)
  }
  async delete(id: EntryId) {
    this.calls.delete++
    this.#check()
    return this.inner.delete(id)
  }
  async stats(prefix: Key): Promise<StoreStats> {
    this.#check()
    return this.inner.stats(prefix)
  }
  clear() {
    this.inner.clear()
  }
  close() {}
}

function fault(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code })
}

function setup(options: { queueEntries?: number; mode?: "read-only" | "read-write"; strict?: boolean } = {}) {
  const front = new MemoryStore()
  const middle = new MemoryStore()
  const remote = new ScriptedRemote()
  const warnings: string[] = []
  const store = new TieredStore([front, middle, remote], options.queueEntries ? { queueEntries: options.queueEntries } : {})
  const cache = new StoreCache(store, {
    onWarning: (message) => warnings.push(message),
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.strict ? { strict: true } : {}),
  })
  return { front, middle, remote, store, cache, warnings }
}

describe("tiered store", () => {
  it("reads tiers in order and copies a hit into every faster tier", async () => {
    const { front, middle, remote, cache } = setup()
    // An entry only the remote tier has (another machine put it).
    const writer = new StoreCache(remote.inner)
    await writer.put("shared", { html: "<p>from CI</p>" })
    expect(await cache.get("shared")).toEqual({ html: "<p>from CI</p>" })
    expect(front.stats(cache.keyPrefix).entryCount).toBe(1)
    expect(middle.stats(cache.keyPrefix).entryCount).toBe(1)
    const remoteReads = remote.calls.get + remote.calls.getMany
    expect(await cache.get("shared")).toEqual({ html: "<p>from CI</p>" })
    expect(remote.calls.get + remote.calls.getMany).toBe(remoteReads)
  })

  it("getMany asks each slower tier once, only for what the faster ones lacked", async () => {
    const { remote, cache } = setup()
    await new StoreCache(remote.inner).putMany(Array.from({ length: 50 }, (_, i) => [`r${i}`, i] as const))
    await cache.putMany([
      ["local-a", "a"],
      ["local-b", "b"],
    ])
    await cache.persist()
    remote.calls.getMany = 0
    remote.calls.get = 0
    const keys = ["local-a", ...Array.from({ length: 50 }, (_, i) => `r${i}`), "local-b", "nowhere"]
    const values = await cache.getMany(keys)
    expect(values).toEqual(["a", ...Array.from({ length: 50 }, (_, i) => i), "b", undefined])
    expect(remote.calls).toMatchObject({ getMany: 1, get: 0 })
    expect(await cache.inspect()).toMatchObject({ hits: 52, misses: 1 })
  })

  it("puts reach the local tiers at once and the remote tier behind a queue that persist() drains", async () => {
    const { front, middle, remote, store, cache } = setup()
    let release!: () => void
    remote.gate = new Promise((resolve) => (release = resolve))
    expect(await cache.putMany(Array.from({ length: 20 }, (_, i) => [`k${i}`, i] as const))).toEqual(Array(20).fill(true))
    expect(front.stats(cache.keyPrefix).entryCount).toBe(20)
    expect(middle.stats(cache.keyPrefix).entryCount).toBe(20)
    expect(remote.inner.stats(cache.keyPrefix).entryCount).toBe(0)
    expect(store.queued).toBe(20)
    const persisted = cache.persist()
    release()
    await persisted
    expect(store.queued).toBe(0)
    expect(remote.inner.stats(cache.keyPrefix).entryCount).toBe(20)
    // An entry a local tier already held is not sent again.
    remote.calls.add = 0
    remote.calls.addMany = 0
    expect(await cache.put("k1", "again")).toBe(false)
    await cache.persist()
    expect(remote.calls.add + remote.calls.addMany).toBe(0)
  })

  it("never blocks a put until the queue is full, then waits for room", async () => {
    const { remote, store, cache } = setup({ queueEntries: 10 })
    let release!: () => void
    remote.gate = new Promise((resolve) => (release = resolve))
    for (let i = 0; i < 10; i++) expect(await cache.put(`k${i}`, i)).toBe(true)
    expect(store.queued).toBe(10)
    let eleventhDone = false
    const eleventh = cache.put("k10", 10).then((added) => {
      eleventhDone = true
      return added
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(eleventhDone).toBe(false)
    release()
    expect(await eleventh).toBe(true)
    await cache.persist()
    expect(remote.inner.stats(cache.keyPrefix).entryCount).toBe(11)
  })

  it("a failing remote tier fails nothing else: local tiers keep serving, one warning, errors counted", async () => {
    const { front, remote, cache, warnings } = setup()
    remote.failure = fault("ECONNREFUSED")
    expect(await cache.put("a", "A")).toBe(true)
    expect(await cache.get("a")).toBe("A")
    expect(await cache.get("missing")).toBeUndefined()
    await cache.persist()
    expect(await cache.getMany(["a", "b"])).toEqual(["A", undefined])
    expect(await cache.delete("a")).toBe(true)
    expect(front.stats(cache.keyPrefix).entryCount).toBe(0)
    const info = await cache.inspect()
    expect(info.errors).toBeGreaterThan(0)
    expect(info.tiers?.map((tier) => tier.name)).toEqual(["memory", "memory", "remote"])
    // One warning per cause, naming the tier.
    expect(warnings).toEqual([expect.stringMatching(/remote: .*ECONNREFUSED/)])
  })

  it("in strict mode a tier's fault is thrown", async () => {
    const { remote, cache } = setup({ strict: true })
    remote.failure = fault("ECONNREFUSED")
    await expect(cache.get("a")).rejects.toMatchObject({ code: "SITECACHE_FAULT" })
  })

  it("delete wins over a queued put (no resurrection), clear drops the queue", async () => {
    const { remote, cache } = setup()
    let release!: () => void
    remote.gate = new Promise((resolve) => (release = resolve))
    await cache.put("gone", 1)
    await cache.put("also", 2)
    // "gone" may be in the batch in flight: the delete waits for it, then removes it everywhere.
    const deleted = cache.delete("gone")
    release()
    expect(await deleted).toBe(true)
    await cache.persist()
    expect(await remote.inner.get(cache.entryId("gone"))).toBeUndefined()
    expect(await remote.inner.get(cache.entryId("also"))).toBeDefined()
    remote.gate = new Promise((resolve) => (release = resolve))
    await cache.put("queued", 3)
    const cleared = cache.clear()
    release()
    await cleared
    await cache.persist()
    expect(remote.inner.stats(cache.keyPrefix).entryCount).toBe(0)
  })

  it("prefetch warms the local tiers in one batch", async () => {
    const { front, remote, cache } = setup()
    const keys = Array.from({ length: 200 }, (_, i) => `doc-${i}`)
    await new StoreCache(remote.inner).putMany(keys.map((k, i) => [k, `<p>${i}</p>`] as const))
    remote.calls.getMany = 0
    expect(await cache.prefetch(keys)).toBe(200)
    expect(remote.calls.getMany).toBe(1)
    expect(front.stats(cache.keyPrefix).entryCount).toBe(200)
    remote.failure = fault("ECONNREFUSED")
    expect(await cache.getMany(keys)).toEqual(keys.map((_, i) => `<p>${i}</p>`))
    // The reads never reached the failing tier (`inspect()` would: it asks every tier, and counts its fault).
    expect(cache.counters().errors).toBe(0)
  })

  it("prefetchFromManifest warms what the previous build used, so the next build never waits on the remote tier", async () => {
    const remote = new ScriptedRemote()
    const docs = Array.from({ length: 30 }, (_, i) => ({ path: `p/${i}.md`, source: `# ${i}` }))
    const buildOnce = async (cache: StoreCache) => {
      const stats = new BuildStats()
      const files = new FileHasher()
      for (const doc of docs) {
        await memoize(cache, [doc.path, doc.source], () => `<h1>${doc.source.slice(2)}</h1>`, {
          stats,
          files,
          document: doc.path,
        })
      }
      await finishBuild(cache, stats, "blog")
      return stats
    }
    // Machine 1: a cold build fills the shared tier and records the manifest.
    const first = new StoreCache(new TieredStore([new MemoryStore(), remote]))
    expect((await buildOnce(first)).misses).toBe(30)
    await first.close()
    // Machine 2: a fresh memory tier, warmed from the manifest in one batch.
    const second = new StoreCache(new TieredStore([new MemoryStore(), remote]))
    remote.calls.get = 0
    remote.calls.getMany = 0
    expect(await prefetchFromManifest(second, "blog")).toBe(30)
    const readsAfterPrefetch = remote.calls.get + remote.calls.getMany
    expect(remote.calls.getMany).toBe(1)
    const stats = await buildOnce(second)
    expect(stats.hits).toBe(30)
    // Only build records (run history, manifest) went to the remote tier during the build.
    expect(remote.calls.get + remote.calls.getMany - readsAfterPrefetch).toBeLessThanOrEqual(4)
    // A changed key prefix: the old entries are not this build's; nothing to warm.
    second.setKeyPrefix("v2")
    expect(await prefetchFromManifest(second, "blog")).toBe(0)
    expect(await prefetchFromManifest(second, "no-such-tool")).toBe(0)
    await second.close()
  })

  it("read-only: warms only memory tiers, writes nothing to a persistent or remote tier", async () => {
    const front = new MemoryStore()
    const disk = new ScriptedRemote("disk", false)
    const remote = new ScriptedRemote()
    const reader = new StoreCache(new TieredStore([front, disk, remote]), { mode: "read-only" })
    await new StoreCache(remote.inner).put("shared", "S")
    expect(await reader.get("shared")).toBe("S")
    expect(await reader.prefetch(["shared"])).toBe(0)
    expect(front.stats(reader.keyPrefix).entryCount).toBe(1)
    expect(await reader.put("new", 1)).toBe(false)
    await reader.persist()
    await reader.close()
    expect(disk.calls.add + disk.calls.addMany + remote.calls.add + remote.calls.addMany).toBe(0)
    expect(disk.inner.stats(reader.keyPrefix).entryCount).toBe(0)
  })
})
