/**
 * `StoreCache`: the `Cache` contract over any backend `Store`.
 *
 * Owns what must be the same on every backend: key normalization and
 * prefixes, the entry format and its checks, TTL by an injectable clock, value
 * isolation (values are stored encoded, decoded fresh on every read), the
 * modes, the statistics, and fail-open fault handling.
 *
 * Longer than this repository's ~400 lines: it is one class whose every read
 * and write path shares the same counters, prefix, modes, warn-once set and
 * fail-open fault handling (private state that subclasses such as `FsCache`
 * reach only through the protected members below). What stands alone lives
 * apart: the options and their schema (cache-options.ts), decoding within
 * bounds (bounds.ts), fault causes (causes.ts), the entry format (entry.ts)
 * and the codec (codec.ts).
 */
import { decodeWithinBounds, valueFault } from "./bounds.js"
import { CACHE_OPTIONS, checkPrefix, type StoreCacheOptions } from "./cache-options.js"
import { describeCause, faultCause } from "./causes.js"
import { type Codec, jsonOrV8Codec } from "./codec.js"
import { decodeEntry, encodeEntry, FORMAT_VERSION, readEntryHeader } from "./entry.js"
import { BadOptionError, CacheFaultError, ClosedError, CorruptEntryError, SitecacheError, UnserializableError } from "./errors.js"
import { type Key, type KeyLike, key, toKey } from "./key.js"
import { checkOptions, nonNegativeOption } from "./options.js"
import type { EntryId, EntryMeta, PruneOptions, PruneResult, Store } from "./store.js"
import { DEFAULT_MAX_IDLE } from "./sweep.js"
import type { Cache, CacheCounters, CacheInfo, CacheMode, PutOptions, SweepRequest } from "./types.js"

export type { StoreCacheOptions } from "./cache-options.js"

const DEFAULT_MAX_ENTRY_SIZE = 512 * 1024 * 1024

/** The prefix every key is scoped by: format, codec and the user's prefix. */
export function derivePrefix(codec: Codec, userPrefix: string | Uint8Array): Key {
  // A string prefix is its UTF-8 bytes, so "v2" and its encoding are one prefix.
  const bytes = typeof userPrefix === "string" ? Buffer.from(userPrefix, "utf8") : userPrefix
  return key("sitecache", FORMAT_VERSION, codec.name, codec.version, bytes)
}

export class StoreCache implements Cache {
  readonly store: Store
  readonly mode: CacheMode
  readonly strict: boolean
  readonly codec: Codec
  /** See `StoreCacheOptions.maxIdle`. */
  readonly maxIdle: number | false
  #name: string
  readonly location: string
  #ttl: number | undefined
  #secret: Uint8Array | undefined
  #maxEntrySize: number
  #compressAbove: number | undefined
  #clock: () => number
  #onWarning: (message: string, cause: unknown) => void
  #prefix: Key
  #options: StoreCacheOptions
  /** A view made by `withKeyPrefix`: closing it leaves the store open. */
  #view = false
  #closed = false
  /** Removals of expired or corrupt entries found by a read, awaited before the read resolves. */
  #discards: Promise<unknown>[] = []
  #warned = new Set<string>()
  #hits = 0
  #misses = 0
  #puts = 0
  #errors = 0
  #bytesWritten = 0

  constructor(store: Store, options: StoreCacheOptions = {}) {
    this.store = store
    const checked = checkOptions(options, CACHE_OPTIONS) as StoreCacheOptions & { secret?: Uint8Array }
    this.#options = options
    this.mode = checked.mode ?? "read-write"
    this.strict = checked.strict === true
    this.codec = checked.codec ?? jsonOrV8Codec
    this.#name = checked.name ?? store.name
    this.location = checked.location ?? store.name
    this.#ttl = checked.ttl
    this.#secret = checked.secret
    this.#maxEntrySize = checked.maxEntrySize ?? DEFAULT_MAX_ENTRY_SIZE
    this.#compressAbove = checked.compressAbove
    this.maxIdle = checked.maxIdle === false ? false : (checked.maxIdle ?? DEFAULT_MAX_IDLE)
    this.#clock = checked.clock ?? Date.now
    this.#onWarning = checked.onWarning ?? ((message) => process.emitWarning(message, { type: "SitecacheWarning" }))
    this.#prefix = derivePrefix(this.codec, checked.keyPrefix ?? "")
    store.attach?.({ mode: this.mode, strict: this.strict, fault: (operation, error) => this.#fault(operation, error, false) })
  }

  get name(): string {
    return this.#name
  }

  /** Whether entries are signed and checked with a secret (HMAC-SHA256) rather than a checksum. */
  get signed(): boolean {
    return this.#secret !== undefined
  }

  /** The current key prefix (derived from format, codec and the user's prefix). */
  get keyPrefix(): Key {
    return this.#prefix
  }

  setKeyPrefix(prefix: Uint8Array | string): void {
    this.#prefix = derivePrefix(this.codec, checkPrefix(prefix, "keyPrefix"))
  }

  /**
   * The same store, codec, secret and options under another key prefix, with
   * its own counters; closing the view leaves the store open. For records
   * that must outlive a prefix change (run history, build manifests).
   */
  withKeyPrefix(prefix: Uint8Array | string, options: Pick<StoreCacheOptions, "mode"> = {}): StoreCache {
    const view = new StoreCache(this.store, { ...this.#options, name: this.#name, ...options, keyPrefix: prefix })
    view.#view = true
    // One cache, one warning per cause: the records' view says nothing its cache already said.
    view.#warned = this.#warned
    return view
  }

  /** Where `key` is stored under the current prefix. */
  entryId(key: KeyLike): EntryId {
    return { prefix: this.#prefix, key: toKey(key) }
  }

  async put(key: KeyLike, value: unknown, options?: PutOptions): Promise<boolean> {
    const [result] = await this.putMany([[key, value]], options)
    return result ?? false
  }

  async putMany(entries: readonly (readonly [KeyLike, unknown])[], options?: PutOptions): Promise<boolean[]> {
    this.#open("putMany")
    // Encode everything first: an unserializable value rejects the batch before anything is written.
    const meta = this.entryMeta(options?.ttl)
    const now = meta.created
    const encoded = entries.map(([k, value]) => [this.entryId(k), this.#encode(value, meta), meta] as const)
    if (this.mode === "read-only" || encoded.length === 0) return encoded.map(() => false)
    try {
      const added = this.store.addMany
        ? await this.store.addMany(encoded, now)
        : await Promise.all(encoded.map(([id, bytes, m]) => this.store.add(id, bytes, m, now)))
      added.forEach((wasAdded, i) => {
        if (!wasAdded) return
        this.#puts++
        this.#bytesWritten += (encoded[i] as (typeof encoded)[number])[1].length
      })
      return added
    } catch (error) {
      this.#fault("put", error)
      return encoded.map(() => false)
    }
  }

  async get<T = unknown>(key: KeyLike): Promise<T | undefined> {
    // Not `getMany([key])`: a warm build makes one `get` a document, and a batch's arrays and closures cost it.
    this.#open("get")
    const id = this.entryId(key)
    if (this.mode === "write-only") {
      this.#misses++
      return undefined
    }
    const value = this.#counted<T>(id, await this.#readOne(id))
    if (this.#discards.length > 0) await this.#settleDiscards()
    return value
  }

  async getMany<T = unknown>(keys: readonly KeyLike[]): Promise<(T | undefined)[]> {
    this.#open("getMany")
    const ids = keys.map((k) => this.entryId(k))
    if (this.mode === "write-only") {
      this.#misses += ids.length
      return ids.map(() => undefined)
    }
    const stored = await this.#read(ids)
    const values = stored.map((bytes, i) => this.#counted<T>(ids[i] as EntryId, bytes))
    if (this.#discards.length > 0) await this.#settleDiscards()
    return values
  }

  async has(key: KeyLike): Promise<boolean> {
    this.#open("has")
    if (this.mode === "write-only") return false
    const id = this.entryId(key)
    const bytes = await this.#readOne(id)
    const live = bytes !== undefined && this.#payload(id, bytes) !== undefined
    if (this.#discards.length > 0) await this.#settleDiscards()
    return live
  }

  async delete(key: KeyLike): Promise<boolean> {
    return (await this.deleteMany([key])) > 0
  }

  async deleteMany(keys: readonly KeyLike[]): Promise<number> {
    this.#open("deleteMany")
    const ids = keys.map((k) => this.entryId(k))
    if (this.mode === "read-only" || ids.length === 0) return 0
    try {
      if (this.store.deleteMany) return await this.store.deleteMany(ids)
      let removed = 0
      for (const id of ids) if (await this.store.delete(id)) removed++
      return removed
    } catch (error) {
      this.#fault("delete", error)
      return 0
    }
  }

  counters(): CacheCounters {
    return {
      name: this.#name,
      hits: this.#hits,
      misses: this.#misses,
      puts: this.#puts,
      errors: this.#errors,
      bytesWritten: this.#bytesWritten,
    }
  }

  async inspect(): Promise<CacheInfo> {
    this.#open("inspect")
    try {
      const stats = await this.store.stats(this.#prefix)
      return {
        ...this.counters(),
        size: stats.size,
        entryCount: stats.entryCount,
        evictions: stats.evictions ?? 0,
        ...(stats.orphanedCount === undefined ? {} : { orphanedCount: stats.orphanedCount }),
        ...(stats.orphanedSize === undefined ? {} : { orphanedSize: stats.orphanedSize }),
        ...(stats.tiers === undefined ? {} : { tiers: stats.tiers }),
      }
    } catch (error) {
      this.#fault("inspect", error)
      return { ...this.counters(), size: 0, entryCount: 0, evictions: 0 }
    }
  }

  async persist(): Promise<void> {
    this.#open("persist")
    if (this.mode === "read-only") return
    try {
      await this.store.persist?.()
    } catch (error) {
      this.#fault("persist", error)
    }
  }

  async clear(): Promise<void> {
    this.#open("clear")
    if (this.mode === "read-only") return
    try {
      await this.store.clear()
    } catch (error) {
      this.#fault("clear", error)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    try {
      if (this.mode !== "read-only") await this.store.persist?.()
    } catch (error) {
      this.#fault("persist", error)
    } finally {
      this.#closed = true
      try {
        if (!this.#view) await this.store.close()
      } catch (error) {
        this.#fault("close", error)
      }
    }
  }

  /** Remove least recently used, old or orphaned entries (backends that support it). */
  async prune(options: Omit<PruneOptions, "prefix" | "now">): Promise<PruneResult> {
    this.#open("prune")
    if (!this.store.prune) throw new BadOptionError("backend", `${this.#name} cannot \`prune\``)
    if (this.mode === "read-only") return { removedCount: 0, removedSize: 0 }
    return this.store.prune({ ...options, prefix: this.#prefix, now: this.#clock() })
  }

  /**
   * Remove the entries, of every prefix but `keep` (user prefixes, as given
   * to `setKeyPrefix`), that nobody read or wrote for `maxIdle` ms. Returns
   * `undefined` when the store cannot (`Store.sweep`) or the cache is
   * read-only. A fault fails open, like a `put`.
   */
  async sweep(options: SweepRequest): Promise<PruneResult | undefined> {
    this.#open("sweep")
    if (options.maxIdle === undefined) throw new BadOptionError("maxIdle", "`sweep` needs a number of ms")
    const maxIdle = nonNegativeOption(options.maxIdle, "maxIdle")
    if (!this.store.sweep || this.mode === "read-only") return undefined
    const keep = (options.keep ?? []).map((prefix) => derivePrefix(this.codec, checkPrefix(prefix, "keep")))
    try {
      return await this.store.sweep({ unusedSince: this.#clock() - maxIdle, keep })
    } catch (error) {
      this.#fault("sweep", error)
      return undefined
    }
  }

  /** The cache's clock, ms since the epoch: what TTLs, access times and sweeps go by. */
  now(): number {
    return this.#clock()
  }

  // The members below serve a backend's own operations on its cache (a subclass, as `FsCache`'s streams),
  // so that they count, warn and fail open as the cache's do, without a copy of that logic.

  /** Throws `ClosedError` once the cache is closed. */
  protected checkOpen(operation: string): void {
    this.#open(operation)
  }

  /** Creation and expiry of an entry written now, `ttl` ms (default: the cache's `ttl`; 0 never expires). */
  protected entryMeta(ttl?: number): EntryMeta {
    const lifetime = ttl === undefined ? this.#ttl : nonNegativeOption(ttl, "ttl")
    const now = this.#clock()
    return { created: now, expires: lifetime === undefined || lifetime === 0 ? 0 : now + lifetime }
  }

  /** Count a read as a hit or a miss. */
  protected countRead(hit: boolean): void {
    if (hit) this.#hits++
    else this.#misses++
  }

  /**
   * An operational fault of a subclass's operation, handled as the cache's
   * own: counted, one warning per cause; in `strict` mode returned as a
   * `CacheFaultError` for the caller to throw (or to fail a stream with).
   */
  protected fault(operation: string, error: unknown): CacheFaultError | undefined {
    if (!this.strict) {
      this.#fault(operation, error, false)
      return undefined
    }
    this.#errors++
    return error instanceof CacheFaultError ? error : new CacheFaultError(this.#name, operation, error)
  }

  /** A damaged entry met by a subclass's read: counted as an error, one warning per `cause`. */
  protected reportCorrupt(cause: string, message: string, error: unknown): void {
    this.#errors++
    this.#warnOnce(cause, message, error)
  }

  get canPrefetch(): boolean {
    return typeof this.store.prefetch === "function"
  }

  /** Warm the local tiers (composite stores); returns how many entries were copied. */
  async prefetch(keys: readonly KeyLike[]): Promise<number> {
    this.#open("prefetch")
    if (!this.store.prefetch || this.mode === "write-only" || keys.length === 0) return 0
    try {
      return await this.store.prefetch(keys.map((k) => this.entryId(k)))
    } catch (error) {
      this.#fault("prefetch", error)
      return 0
    }
  }

  /**
   * Check one stored entry without counting a hit or a miss: `ok`, `expired`,
   * or the reason it is corrupt. For `verify` and tests.
   */
  check(bytes: Uint8Array): { ok: true; expires: number; created: number } | { ok: false; reason: string } {
    try {
      const header = readEntryHeader(bytes)
      const entry = decodeEntry(bytes, { maxPayload: this.#maxEntrySize, secret: this.#secret })
      if (header.codecId !== this.codec.id) return { ok: false, reason: `codec ${header.codecId}` }
      decodeWithinBounds(this.codec, entry.payload)
      return { ok: true, expires: entry.expires, created: entry.created }
    } catch (error) {
      return { ok: false, reason: describeCause(error) }
    }
  }

  #open(operation: string): void {
    if (this.#closed) throw new ClosedError(this.#name, operation)
  }

  #encode(value: unknown, meta: EntryMeta): Uint8Array {
    const payload = this.codec.encode(value)
    const fault = valueFault(value, payload.length)
    if (fault !== undefined) throw new UnserializableError(fault)
    return encodeEntry(payload, {
      codecId: this.codec.id,
      created: meta.created,
      expires: meta.expires,
      ...(this.#compressAbove === undefined ? {} : { compressAbove: this.#compressAbove }),
      secret: this.#secret,
    })
  }

  async #read(ids: EntryId[]): Promise<(Uint8Array | undefined)[]> {
    if (ids.length === 1) return [await this.#readOne(ids[0] as EntryId)]
    try {
      if (this.store.getMany) return await this.store.getMany(ids)
      return await Promise.all(ids.map((id) => this.store.get(id)))
    } catch (error) {
      this.#fault("get", error)
      return ids.map(() => undefined)
    }
  }

  async #readOne(id: EntryId): Promise<Uint8Array | undefined> {
    try {
      return await this.store.get(id)
    } catch (error) {
      this.#fault("get", error)
      return undefined
    }
  }

  /** The value of stored bytes (or `undefined`), counted as a hit or a miss. */
  #counted<T>(id: EntryId, bytes: Uint8Array | undefined): T | undefined {
    const value = bytes === undefined ? undefined : this.#decode<T>(id, bytes)
    if (value === undefined) this.#misses++
    else this.#hits++
    return value
  }

  /** The checked payload of a live entry, or `undefined` (expired or corrupt entries are removed). */
  #payload(id: EntryId, bytes: Uint8Array): Uint8Array | undefined {
    let entry: ReturnType<typeof decodeEntry>
    try {
      entry = decodeEntry(bytes, { maxPayload: this.#maxEntrySize, secret: this.#secret })
      if (entry.codecId !== this.codec.id) throw new CorruptEntryError(`codec ${entry.codecId}, expected ${this.codec.id}`)
    } catch (error) {
      this.#corrupt(id, error)
      return undefined
    }
    if (entry.expires !== 0 && entry.expires <= this.#clock()) {
      this.#discard(id)
      return undefined
    }
    return entry.payload
  }

  #decode<T>(id: EntryId, bytes: Uint8Array): T | undefined {
    const payload = this.#payload(id, bytes)
    if (payload === undefined) return undefined
    try {
      return decodeWithinBounds(this.codec, payload) as T
    } catch (error) {
      this.#corrupt(id, error)
      return undefined
    }
  }

  /**
   * Count a corrupt or unverifiable entry and remove it, so that the next
   * `put` stores a sound one. The secret decides over signatures: a cache
   * with a secret removes what it cannot verify (unsigned, tampered, or
   * signed with another secret), so turning a secret on or rotating it heals
   * in one build; a cache without one leaves signed entries in place, so a
   * build that forgot its secret cannot wipe a signed cache. Read-only
   * caches never remove anything (`#discard`).
   */
  #corrupt(id: EntryId, error: unknown): void {
    this.#errors++
    if (error instanceof CorruptEntryError && !error.removable) {
      if (this.#secret === undefined) {
        this.#warnOnce(
          "unverifiable",
          `${this.#name}: a signed entry was met by a cache without a secret (${describeCause(error)}); it reads as a miss and is left in place (is the cache's secret set for every build?)`,
          error,
        )
        return
      }
      this.#warnOnce(
        "unverifiable",
        `${this.#name}: an entry failed its signature check (${describeCause(error)}); it reads as a miss${this.mode === "read-only" ? "" : " and is removed, so this build's write replaces it"} (an entry written without this cache's secret, or with another one)`,
        error,
      )
      this.#discard(id)
      return
    }
    const fate = this.mode === "read-only" ? "met" : "removed"
    this.#warnOnce("corrupt", `${this.#name}: ${fate} a corrupt entry (${describeCause(error)}); it reads as a miss`, error)
    this.#discard(id)
  }

  /** Best-effort removal of an expired or corrupt entry; never fails a read. */
  #discard(id: EntryId): void {
    if (this.mode === "read-only") return
    try {
      const removal = this.store.delete(id)
      if (removal instanceof Promise) this.#discards.push(removal.catch((error: unknown) => this.#fault("delete", error, false)))
    } catch (error) {
      this.#fault("delete", error, false)
    }
  }

  async #settleDiscards(): Promise<void> {
    const pending = this.#discards
    this.#discards = []
    await Promise.all(pending)
  }

  #fault(operation: string, error: unknown, mayThrow = true): void {
    if (error instanceof SitecacheError && error.code !== "SITECACHE_FAULT") throw error
    this.#errors++
    const fault = error instanceof CacheFaultError ? error : new CacheFaultError(this.#name, operation, error)
    if (this.strict && mayThrow) throw fault
    const cause = faultCause(error)
    // Per cause, not per operation: one outage fails gets, puts, deletes and the build's records alike.
    this.#warnOnce(
      `fault:${cause}`,
      `${fault.message} (the build goes on without the cache for this operation; further ${cause} warnings are silenced)`,
      error,
    )
  }

  #warnOnce(cause: string, message: string, error: unknown): void {
    if (this.#warned.has(cause)) return
    this.#warned.add(cause)
    this.#onWarning(message, error)
  }
}
