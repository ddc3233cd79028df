/**
 * The write-behind queue of a tiered store, against a fake remote store (no
 * server): a memory tier in front, and behind it a store that declares
 * `remote: true`, records every batch it is given, and can be held (a slow
 * network) or made to fail (an outage) at will.
 */
import { describe, expect, it } from "vitest"
import {
  type EntryId,
  type EntryMeta,
  type Key,
  MemoryStore,
  type Store,
  StoreCache,
  TieredStore,
  type TieredStoreOptions,
} from "../src/index.js"

type Entry = readonly [EntryId, Uint8Array, EntryMeta]

/** A remote store: a memory store behind batches that can be held and failed. */
class FakeRemoteStore implements Store {
  readonly name = "fake remote"
  readonly remote = true
  readonly #data = new MemoryStore()
  /** The keys (hex) of each batch given to the store, in order. */
  readonly batches: string[][] = []
  /** The keys (hex) written successfully, in order. */
  readonly written: string[] = []
  /** Batches that started and have not finished. */
  inFlight = 0
  /** When set, every write fails with this code. */
  failing: string | undefined
  #gate: Promise<void> | undefined
  #openGate: (() => void) | undefined

  /** Hold every write until `release()`. */
  hold(): void {
    this.#gate ??= new Promise((resolve) => {
      this.#openGate = resolve
    })
  }

  release(): void {
    this.#openGate?.()
    this.#gate = undefined
  }

  async addMany(entries: readonly Entry[], now: number): Promise<boolean[]> {
    this.batches.push(entries.map(([id]) => id.key.hex))
    this.inFlight++
    try {
      await this.#gate
      if (this.failing) throw Object.assign(new Error(`injected ${this.failing}`), { code: this.failing })
      this.written.push(...entries.map(([id]) => id.key.hex))
      return entries.map(([id, bytes, meta]) => this.#data.add(id, bytes, meta, now))
    } finally {
      this.inFlight--
    }
  }

  add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): Promise<boolean> {
    return this.addMany([[id, bytes, meta]], now).then(([added]) => added === true)
  }

  get(id: EntryId) {
    return this.#data.get(id)
  }
  set(id: EntryId, bytes: Uint8Array, meta: EntryMeta) {
    this.#data.set(id, bytes, meta)
  }
  delete(id: EntryId) {
    return this.#data.delete(id)
  }
  stats(prefix: Key) {
    return this.#data.stats(prefix)
  }
  clear() {
    this.#data.clear()
  }
  close() {}

  /** Keys (hex) stored here. */
  async keys(): Promise<string[]> {
    const keys: string[] = []
    for await (const entry of this.#data.entries()) keys.push(entry.id.key.hex)
    return keys
  }
}

function open(options: TieredStoreOptions = {}) {
  const local = new MemoryStore()
  const remote = new FakeRemoteStore()
  const store = new TieredStore([local, remote], options)
  const warnings: string[] = []
  const cache = new StoreCache(store, { onWarning: (message) => warnings.push(message) })
  const hex = (name: string) => cache.entryId(name).key.hex
  return { local, remote, store, cache, warnings, hex }
}

/** Let every pending promise callback and I/O callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

describe("write-behind to a remote tier (fake remote store)", () => {
  it("put returns once the local tier has the entry; the remote one gets it in the background", async () => {
    const { remote, store, cache, hex } = open()
    remote.hold()
    expect(await cache.put("a", "A")).toBe(true)
    expect(await cache.put("b", "B")).toBe(true)
    // Answered from the local tier while the remote write is held.
    expect(await cache.get("a")).toBe("A")
    expect(await remote.keys()).toEqual([])
    expect(store.queued).toBe(2)
    remote.release()
    await cache.persist()
    expect(store.queued).toBe(0)
    expect((await remote.keys()).sort()).toEqual([hex("a"), hex("b")].sort())
  })

  it("writes in put order, in batches of batchSize, one batch at a time; a key queued twice is written once", async () => {
    const { remote, cache, hex } = open({ batchSize: 3 })
    remote.hold()
    for (const name of ["k0", "k1", "k2", "k3", "k4", "k5", "k6"]) await cache.put(name, name)
    await settle()
    // The first batch left at once; the rest wait for it.
    expect(remote.batches).toEqual([[hex("k0")]])
    expect(remote.inFlight).toBe(1)
    remote.release()
    await cache.persist()
    expect(remote.batches).toEqual([[hex("k0")], [hex("k1"), hex("k2"), hex("k3")], [hex("k4"), hex("k5"), hex("k6")]])
    expect((await remote.keys()).length).toBe(7)
  })

  it("an entry deleted while queued is never written; deleted while in flight, it is deleted after the write", async () => {
    const { remote, cache, hex } = open()
    remote.hold()
    await cache.put("in-flight", 1)
    await settle()
    await cache.put("queued", 2)
    await cache.put("kept", 3)
    expect(await cache.delete("queued")).toBe(true)
    let deleted = false
    const deleting = cache.delete("in-flight").then((result) => {
      deleted = result
    })
    await settle()
    // The delete waits for the batch that holds the entry, so it lands after that write.
    expect(deleted).toBe(false)
    remote.release()
    await deleting
    expect(deleted).toBe(true)
    await cache.persist()
    expect(remote.batches.flat()).not.toContain(hex("queued"))
    expect(await remote.keys()).toEqual([hex("kept")])
  })

  it("a failed batch is dropped and reported once per cause; later batches are written; put never fails", async () => {
    const { remote, cache, warnings, hex } = open({ batchSize: 2 })
    remote.failing = "ECONNREFUSED"
    expect(
      await cache.putMany([
        ["a", 1],
        ["b", 2],
        ["c", 3],
      ]),
    ).toEqual([true, true, true])
    await cache.persist()
    expect(await remote.keys()).toEqual([])
    expect(warnings).toEqual([expect.stringMatching(/fake remote: .*injected ECONNREFUSED/)])
    expect((await cache.inspect()).errors).toBe(2)
    // The local tier kept everything.
    expect(await cache.getMany(["a", "b", "c"])).toEqual([1, 2, 3])
    remote.failing = undefined
    await cache.put("d", 4)
    await cache.persist()
    expect(await remote.keys()).toEqual([hex("d")])
    expect(warnings).toHaveLength(1)
  })

  it("a failing write never rejects persist or close", async () => {
    const { remote, cache } = open()
    remote.failing = "ETIMEDOUT"
    await cache.put("a", 1)
    await expect(cache.persist()).resolves.toBeUndefined()
    await cache.put("b", 2)
    await expect(cache.close()).resolves.toBeUndefined()
  })

  it("backpressure: past queueEntries, put waits until a batch is written", async () => {
    const { remote, store, cache } = open({ queueEntries: 3, batchSize: 1 })
    remote.hold()
    for (const name of ["a", "b", "c"]) await cache.put(name, name)
    expect(store.queued).toBe(3)
    let done = false
    const blocked = cache.put("d", "d").then(() => {
      done = true
    })
    await settle()
    await settle()
    expect(done).toBe(false)
    expect(store.queued).toBe(3)
    remote.release()
    await blocked
    expect(done).toBe(true)
    await cache.persist()
    expect((await remote.keys()).length).toBe(4)
  })

  it("backpressure: past queueBytes, put waits until the bytes in flight are written", async () => {
    const { remote, store, cache } = open({ queueBytes: 30_000, batchSize: 1 })
    remote.hold()
    await cache.put("a", "x".repeat(20_000))
    let done = false
    const blocked = cache.put("b", "y".repeat(20_000)).then(() => {
      done = true
    })
    await settle()
    expect(done).toBe(false)
    expect(store.queued).toBe(1)
    remote.release()
    await blocked
    await cache.persist()
    expect((await remote.keys()).length).toBe(2)
  })

  it("one entry larger than queueBytes is still written (alone)", async () => {
    const { remote, cache, hex } = open({ queueBytes: 1_000 })
    await cache.put("big", "z".repeat(50_000))
    await cache.persist()
    expect(await remote.keys()).toEqual([hex("big")])
  })

  it("persist and close flush every queued write; clear drops them", async () => {
    const flushed = open()
    flushed.remote.hold()
    await flushed.cache.putMany(Array.from({ length: 250 }, (_, i) => [`k${i}`, i] as [string, number]))
    const closing = flushed.cache.close()
    await settle()
    flushed.remote.release()
    await closing
    expect(flushed.remote.written).toHaveLength(250)

    const cleared = open({ batchSize: 1 })
    cleared.remote.hold()
    await cleared.cache.putMany([
      ["a", 1],
      ["b", 2],
      ["c", 3],
    ])
    await settle()
    const clearing = cleared.cache.clear()
    cleared.remote.release()
    await clearing
    await cleared.cache.persist()
    // Only the batch already in flight was written, and clear removed it from the remote tier afterwards.
    expect(cleared.remote.batches).toHaveLength(1)
    expect(await cleared.remote.keys()).toEqual([])
    expect(cleared.store.queued).toBe(0)
  })

  it("an entry the local tier already held is not queued again", async () => {
    const { remote, cache } = open()
    await cache.put("a", 1)
    expect(await cache.put("a", 1)).toBe(false)
    await cache.persist()
    expect(remote.batches.flat()).toHaveLength(1)
  })

  it("a hit in the remote tier is copied to the local one, and not written back", async () => {
    const { local, remote, cache, hex } = open()
    const writer = new StoreCache(remote)
    await writer.put("shared", "from another machine")
    remote.batches.length = 0
    expect(await cache.get("shared")).toBe("from another machine")
    expect((await local.stats(cache.keyPrefix)).entryCount).toBe(1)
    await cache.persist()
    expect(remote.batches).toEqual([])
    expect(await remote.keys()).toEqual([hex("shared")])
  })
})
