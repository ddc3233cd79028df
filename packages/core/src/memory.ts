/**
 * The memory backend: a byte-bounded least-recently-used map of encoded
 * entries. Values are held encoded, so a cached object is isolated from its
 * caller and its size is exact; bytes are copied in and out, since decoded
 * byte arrays are views of the bytes they were decoded from. Also the front
 * tier of a tiered cache.
 */
import { type Backend, type BackendContext, locationOf, prepareDirect } from "./backend.js"
import { StoreCache, type StoreCacheOptions } from "./cache.js"
import { BadOptionError } from "./errors.js"
import { Key } from "./key.js"
import { sizeOption } from "./options.js"
import type { EntryId, EntryMeta, PruneOptions, PruneResult, Store, StoreStats, SweepOptions } from "./store.js"
import type { Cache } from "./types.js"

export interface MemoryStoreOptions {
  /** Upper bound of bytes held; least recently used entries are evicted past it. Default 256 MiB. */
  readonly maxSize?: number
  /** Clock of access times (what `sweep` goes by), ms since the epoch. Default `Date.now`. */
  readonly clock?: () => number
}

interface MemoryEntry {
  readonly prefix: Key
  readonly bytes: Uint8Array
  readonly expires: number
  accessed: number
}

const DEFAULT_MEMORY_SIZE = 256 * 1024 * 1024

function slot(id: EntryId): string {
  return id.prefix.hex + id.key.hex
}

export class MemoryStore implements Store {
  readonly name = "memory"
  readonly maxSize: number
  /** Insertion order is recency order: the first entry is the least recently used. */
  #entries = new Map<string, MemoryEntry>()
  #size = 0
  #evictions = 0
  readonly #clock: () => number

  constructor(options: MemoryStoreOptions = {}) {
    const maxSize = options.maxSize ?? DEFAULT_MEMORY_SIZE
    if (typeof maxSize !== "number" || !(maxSize > 0))
      throw new BadOptionError("maxSize", `expected bytes > 0, got ${String(maxSize)}`)
    this.maxSize = maxSize
    this.#clock = options.clock ?? Date.now
  }

  get(id: EntryId): Uint8Array | undefined {
    const name = slot(id)
    const entry = this.#entries.get(name)
    if (entry === undefined) return undefined
    this.#entries.delete(name)
    this.#entries.set(name, entry)
    entry.accessed = this.#clock()
    // A copy: a decoded value's byte arrays are views of the bytes it was read from, and a caller that
    // changes them must not change (and so corrupt) the entry held here.
    return Uint8Array.prototype.slice.call(entry.bytes)
  }

  add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): boolean {
    const existing = this.#entries.get(slot(id))
    if (existing !== undefined && (existing.expires === 0 || existing.expires > now)) return false
    if (bytes.length > this.maxSize) return false
    this.set(id, bytes, meta)
    return true
  }

  set(id: EntryId, bytes: Uint8Array, meta: EntryMeta): void {
    if (bytes.length > this.maxSize) return
    this.delete(id)
    // A copy (Uint8Array#slice; Buffer#slice, what encoders return, is a view): a tiered cache stores here the
    // bytes it read from a slower tier and also decodes them for its caller.
    this.#entries.set(slot(id), {
      prefix: id.prefix,
      bytes: Uint8Array.prototype.slice.call(bytes),
      expires: meta.expires,
      accessed: this.#clock(),
    })
    this.#size += bytes.length
    this.#evictLeastRecentlyUsed(this.maxSize)
  }

  delete(id: EntryId): boolean {
    const name = slot(id)
    const entry = this.#entries.get(name)
    if (entry === undefined) return false
    this.#entries.delete(name)
    this.#size -= entry.bytes.length
    return true
  }

  stats(prefix: Key): StoreStats {
    let orphanedCount = 0
    let orphanedSize = 0
    for (const entry of this.#entries.values()) {
      if (!entry.prefix.equals(prefix)) {
        orphanedCount++
        orphanedSize += entry.bytes.length
      }
    }
    return { size: this.#size, entryCount: this.#entries.size, evictions: this.#evictions, orphanedCount, orphanedSize }
  }

  clear(): void {
    this.#entries.clear()
    this.#size = 0
  }

  close(): void {
    this.clear()
  }

  async *entries(): AsyncIterable<{ id: EntryId; bytes: Uint8Array }> {
    for (const [name, entry] of [...this.#entries]) {
      yield { id: { prefix: entry.prefix, key: keyFromSlot(name) }, bytes: entry.bytes }
    }
  }

  prune(options: PruneOptions): PruneResult {
    let removedCount = 0
    let removedSize = 0
    for (const [name, entry] of [...this.#entries]) {
      const old = options.olderThan !== undefined && entry.accessed <= options.now - options.olderThan
      const orphan = options.orphans === true && !entry.prefix.equals(options.prefix)
      const expired = entry.expires !== 0 && entry.expires <= options.now
      if (old || orphan || expired) {
        this.#entries.delete(name)
        this.#size -= entry.bytes.length
        removedCount++
        removedSize += entry.bytes.length
      }
    }
    if (options.maxSize !== undefined) {
      const before = { count: this.#entries.size, size: this.#size }
      this.#evictLeastRecentlyUsed(options.maxSize)
      removedCount += before.count - this.#entries.size
      removedSize += before.size - this.#size
    }
    return { removedCount, removedSize }
  }

  sweep(options: SweepOptions): PruneResult {
    let removedCount = 0
    let removedSize = 0
    for (const [name, entry] of [...this.#entries]) {
      if (entry.accessed >= options.unusedSince || options.keep.some((prefix) => prefix.equals(entry.prefix))) continue
      this.#entries.delete(name)
      this.#size -= entry.bytes.length
      removedCount++
      removedSize += entry.bytes.length
    }
    return { removedCount, removedSize }
  }

  #evictLeastRecentlyUsed(limit: number): void {
    for (const [name, entry] of this.#entries) {
      if (this.#size <= limit) return
      this.#entries.delete(name)
      this.#size -= entry.bytes.length
      this.#evictions++
    }
  }
}

function keyFromSlot(name: string): Key {
  return Key.fromHex(name.slice(32))
}

export interface MemoryCacheOptions extends StoreCacheOptions, Pick<MemoryStoreOptions, "maxSize"> {}

/** The backend `memory`: a store in this process's memory, lost when it exits. */
export const memoryBackend: Backend<MemoryStore> = {
  name: "memory",
  options: { maxSize: sizeOption },
  defaultMaxSize: DEFAULT_MEMORY_SIZE,
  persistent: false,
  location: () => "this process's memory",
  open: (context) => openMemoryStore(context),
}

function openMemoryStore(context: BackendContext): MemoryStore {
  // As a front tier it keeps its own bound (`memory.maxSize`), not the one meant for the disk behind it.
  const maxSize = (context.options.maxSize as number | undefined) ?? (context.tier ? undefined : context.maxSize)
  // The store's access times go by the cache's clock, as sweeps do.
  return new MemoryStore({
    ...(maxSize === undefined ? {} : { maxSize }),
    ...(context.clock === undefined ? {} : { clock: context.clock }),
  })
}

/** A cache held in this process's memory. */
export function createMemoryCache(options: MemoryCacheOptions = {}): StoreCache & Cache {
  const { prepared, cacheOptions } = prepareDirect(memoryBackend, options)
  return new StoreCache(openMemoryStore(prepared.context), { ...cacheOptions, location: locationOf([prepared]) })
}

/**
 * The store behind the null cache: holds nothing, so every read misses and
 * every write is dropped. What `--no-cache` selects.
 */
export class NullStore implements Store {
  readonly name = "null (caching off)"
  get(): undefined {
    return undefined
  }
  add(): boolean {
    return false
  }
  set(): void {}
  delete(): boolean {
    return false
  }
  stats(): StoreStats {
    return { size: 0, entryCount: 0 }
  }
  clear(): void {}
  close(): void {}
}

/** The backend `null`: stores nothing; what `--no-cache` and `mode: "off"` select. */
export const nullBackend: Backend<NullStore> = {
  name: "null",
  options: {},
  persistent: false,
  location: () => "nowhere (caching off)",
  open: () => new NullStore(),
}

/** A cache that stores nothing: `get` always misses, `put` returns `false`. */
export function createNullCache(options: StoreCacheOptions = {}): StoreCache & Cache {
  const { prepared, cacheOptions } = prepareDirect(nullBackend, options)
  return new StoreCache(new NullStore(), { ...cacheOptions, location: locationOf([prepared]) })
}
