import { describe, expect, it } from "vitest"
import {
  CacheFaultError,
  createMemoryCache,
  createTieredStore,
  type EntryId,
  key,
  MemoryStore,
  type Store,
  StoreCache,
} from "../src/index.js"

/** A store whose operations fail with a given errno code while `failing` is set. */
class FaultyStore extends MemoryStore {
  failing: string | undefined
  #check(): void {
    if (this.failing) throw Object.assign(new Error(`injected ${this.failing}`), { code: this.failing })
  }
  override get(id: EntryId) {
    this.#check()
    return super.get(id)
  }
  override add(...args: Parameters<MemoryStore["add"]>) {
    this.#check()
    return super.add(...args)
  }
  override delete(id: EntryId) {
    this.#check()
    return super.delete(id)
  }
}

describe("StoreCache faults", () => {
  it("fails open: faults become misses and dropped writes, counted, one warning per cause; stored entries survive", async () => {
    const store = new FaultyStore()
    const warnings: string[] = []
    const cache = new StoreCache(store, { onWarning: (message) => warnings.push(message) })
    await cache.put("kept", "value")
    store.failing = "ENOSPC"
    expect(await cache.put("a", 1)).toBe(false)
    expect(await cache.put("b", 2)).toBe(false)
    expect(await cache.get("kept")).toBeUndefined()
    expect(await cache.getMany(["kept", "x"])).toEqual([undefined, undefined])
    expect(await cache.delete("kept")).toBe(false)
    store.failing = "EACCES"
    expect(await cache.put("c", 3)).toBe(false)
    // One warning per cause, whichever operations it failed.
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatch(/memory: `put` failed: injected ENOSPC/)
    expect(warnings[1]).toMatch(/memory: `put` failed: injected EACCES/)
    store.failing = undefined
    expect(await cache.get("kept")).toBe("value")
    const info = await cache.inspect()
    expect(info.errors).toBe(6)
    expect(info.misses).toBe(3)
  })

  it("warns once per cause", async () => {
    const store = new FaultyStore()
    const warnings: string[] = []
    const cache = new StoreCache(store, { onWarning: (message) => warnings.push(message) })
    store.failing = "ECONNREFUSED"
    for (let i = 0; i < 20; i++) await cache.get(`k${i}`)
    expect(warnings).toHaveLength(1)
    expect((await cache.inspect()).errors).toBe(20)
  })

  it("strict mode throws a CacheFaultError with the cause kept", async () => {
    const store = new FaultyStore()
    const cache = new StoreCache(store, { strict: true })
    store.failing = "ENOSPC"
    const error = await cache.put("a", 1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CacheFaultError)
    expect(error).toMatchObject({ code: "SITECACHE_FAULT", operation: "put", backend: "memory" })
    expect((error as Error).cause).toMatchObject({ code: "ENOSPC" })
    await expect(cache.get("a")).rejects.toMatchObject({ code: "SITECACHE_FAULT" })
  })

  it("a store that throws synchronously or rejects is handled alike", async () => {
    const rejecting: Store = {
      name: "rejecting",
      get: async () => Promise.reject(new Error("boom")),
      add: async () => Promise.reject(new Error("boom")),
      set: async () => {},
      delete: async () => Promise.reject(new Error("boom")),
      stats: async () => Promise.reject(new Error("boom")),
      clear: async () => Promise.reject(new Error("boom")),
      close: async () => {},
    }
    const cache = new StoreCache(rejecting, { onWarning: () => {} })
    expect(await cache.get("k")).toBeUndefined()
    expect(await cache.put("k", 1)).toBe(false)
    await cache.clear()
    expect((await cache.inspect()).errors).toBe(4)
  })
})

describe("StoreCache options", () => {
  it("checks options at creation and names them", () => {
    const store = new MemoryStore()
    expect(() => new StoreCache(store, { secret: "short" })).toThrow(/`secret`: a secret needs at least 32 bytes/)
    expect(() => new StoreCache(store, { ttl: -5 })).toThrow(/`ttl`/)
    expect(() => new StoreCache(store, { mode: "readonly" as never })).toThrow(/`mode`/)
    expect(() => new MemoryStore({ maxSize: 0 })).toThrow(/`maxSize`/)
  })

  it("a default ttl applies to every entry; a per-entry ttl overrides it", async () => {
    let now = 1_000
    const cache = createMemoryCache({ ttl: 100, clock: () => now })
    await cache.put("default", 1)
    await cache.put("longer", 2, { ttl: 1_000 })
    now += 150
    expect(await cache.getMany(["default", "longer"])).toEqual([undefined, 2])
  })

  it("a signed cache refuses entries written without its secret, and removes them so that its own write heals the key", async () => {
    const store = new MemoryStore()
    const secret = "0123456789abcdef0123456789abcdef"
    const warnings: string[] = []
    const signed = new StoreCache(store, { secret, onWarning: (message) => warnings.push(message) })
    const unsigned = new StoreCache(store, { onWarning: () => {} })
    await unsigned.put("k", "unsigned")
    expect(await signed.get("k")).toBeUndefined()
    expect((await signed.inspect()).errors).toBe(1)
    expect(warnings).toEqual([expect.stringMatching(/unsigned entry in a signed cache.*is removed/)])
    // The rejected entry does not block the signed write (put-if-absent would keep it otherwise).
    expect(await signed.put("k", "real")).toBe(true)
    expect(await signed.get("k")).toBe("real")
    expect((await signed.inspect()).errors).toBe(1)
  })

  it("the secret decides: a cache without one never removes a signed entry, a cache with another one replaces it", async () => {
    const store = new MemoryStore()
    const secret = "0123456789abcdef0123456789abcdef"
    const signed = new StoreCache(store, { secret, onWarning: () => {} })
    const unsigned = new StoreCache(store, { onWarning: () => {} })
    await signed.put("k", "real")
    // A build that forgot its secret reads a miss and cannot wipe the signed cache, even by writing.
    expect(await unsigned.get("k")).toBeUndefined()
    expect(await unsigned.put("k", "forged")).toBe(false)
    expect(await signed.get("k")).toBe("real")
    // A read-only cache with the secret removes nothing either.
    await unsigned.delete("k")
    await unsigned.put("k", "unsigned")
    const reader = new StoreCache(store, { secret, mode: "read-only", onWarning: () => {} })
    expect(await reader.get("k")).toBeUndefined()
    expect(await unsigned.get("k")).toBe("unsigned")
    // A rotated secret: the first read under the new one misses and removes, its write heals the key.
    await unsigned.delete("k")
    await signed.put("k", "old secret")
    const rotated = new StoreCache(store, { secret: `${secret}!`, onWarning: () => {} })
    expect(await rotated.get("k")).toBeUndefined()
    expect(await rotated.put("k", "new secret")).toBe(true)
    expect(await rotated.get("k")).toBe("new secret")
    expect(await signed.get("k")).toBeUndefined()
  })

  it("a value read through from a slower tier is the caller's to change: the copy the memory tier keeps stays whole", async () => {
    const fast = new MemoryStore()
    const slow = new MemoryStore()
    await new StoreCache(slow).put("k", { page: new Uint8Array([1, 2, 3]), title: "t" })
    const cache = new StoreCache(createTieredStore([fast, slow]))
    const first = await cache.get<{ page: Uint8Array }>("k")
    first?.page.fill(9)
    expect(fast.stats(cache.keyPrefix).entryCount).toBe(1)
    expect(await cache.get("k")).toStrictEqual({ page: new Uint8Array([1, 2, 3]), title: "t" })
    expect((await cache.inspect()).errors).toBe(0)
  })

  it("the memory store evicts least recently used entries past maxSize and counts them", async () => {
    const cache = createMemoryCache({ maxSize: 3_500 })
    for (const name of ["a", "b", "c"]) await cache.put(name, "x".repeat(1_000))
    await cache.get("a")
    await cache.put("d", "x".repeat(1_000))
    expect(await cache.getMany(["a", "b", "c", "d"])).toEqual([
      "x".repeat(1_000),
      undefined,
      "x".repeat(1_000),
      "x".repeat(1_000),
    ])
    const info = await cache.inspect()
    expect(info.evictions).toBe(1)
    expect(info.size).toBeLessThanOrEqual(3_500)
  })

  it("prune removes orphans of older prefixes and old entries", async () => {
    let now = 10_000
    const store = new MemoryStore()
    const cache = new StoreCache(store, { clock: () => now })
    cache.setKeyPrefix("v1")
    await cache.putMany([
      ["a", 1],
      ["b", 2],
    ])
    cache.setKeyPrefix("v2")
    await cache.put("a", 1)
    expect(await cache.inspect()).toMatchObject({ entryCount: 3, orphanedCount: 2 })
    expect(await cache.prune({ orphans: true })).toMatchObject({ removedCount: 2 })
    expect(await cache.inspect()).toMatchObject({ entryCount: 1, orphanedCount: 0 })
    now += 1
    expect(await cache.get(key("a"))).toBe(1)
  })
})
