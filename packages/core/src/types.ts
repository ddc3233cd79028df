import type { Key, KeyLike } from "./key.js"
import type { PruneResult } from "./store.js"

export interface PutOptions {
  /** Time to live in ms; overrides the cache's `ttl`. */
  readonly ttl?: number
}

/** What a cache counted since it was opened: known without asking the store. */
export interface CacheCounters {
  readonly name: string
  readonly hits: number
  readonly misses: number
  /** Entries this cache added. */
  readonly puts: number
  /** Faults and corrupt entries met. */
  readonly errors: number
  /** Bytes of the entries this cache added. */
  readonly bytesWritten: number
}

/** The counters, and what the store holds (which may take a pass over it: see `Cache.inspect`). */
export interface CacheInfo extends CacheCounters {
  /** Bytes stored (all prefixes). */
  readonly size: number
  /** Entries stored (all prefixes). */
  readonly entryCount: number
  /** Entries removed to respect a size limit, since open. */
  readonly evictions: number
  /** Entries and bytes under older key prefixes, where the backend can tell. */
  readonly orphanedCount?: number
  readonly orphanedSize?: number
  readonly tiers?: readonly { readonly name: string; readonly size: number; readonly entryCount: number }[]
}

/** What `Cache.sweep` removes: entries nobody read or wrote for `maxIdle` ms, of every prefix but `keep`. */
export interface SweepRequest {
  /** ms; entries unused for longer go. */
  readonly maxIdle: number
  /** User prefixes (as given to `setKeyPrefix`) whose entries stay however long they went unused. */
  readonly keep?: readonly (string | Uint8Array)[]
}

/**
 * The cache contract: everything a caller (memo, the build records, an
 * adapter, the CLI's build-facing parts) may use. `StoreCache` implements it
 * over any backend `Store`; a caller never needs a concrete class.
 */
export interface Cache {
  readonly name: string
  /** Where the entries live, for people: a path, a Redis URL (without its password) and namespace, `memory`. */
  readonly location: string
  /** `read-write`; `read-only` serves hits and never writes (pull requests); `write-only` never serves a hit. */
  readonly mode: CacheMode
  /** The key prefix in force: every key is scoped by it (format, codec and the user's prefix, hashed). */
  readonly keyPrefix: Key
  /** Scopes every later key; changing it hides, never deletes, older entries. */
  setKeyPrefix(prefix: Uint8Array | string): void
  /**
   * The same store under another key prefix, with its own counters; closing
   * the view leaves the store open. For records that must outlive a prefix
   * change (run history, build manifests).
   */
  withKeyPrefix(prefix: Uint8Array | string, options?: { readonly mode?: CacheMode }): Cache
  /** Whether `prefetch` can warm anything: the store has a faster tier in front of a slower one. */
  readonly canPrefetch: boolean
  /** Copy the entries of `keys` from the slower tiers into the faster ones, in batches; how many were found. */
  prefetch(keys: readonly KeyLike[]): Promise<number>
  /** `true`: added; `false`: an entry already existed under key (or the write was dropped). */
  put(key: KeyLike, value: unknown, options?: PutOptions): Promise<boolean>
  /** `undefined` on a miss, an expired or a corrupt entry. */
  get<T = unknown>(key: KeyLike): Promise<T | undefined>
  has(key: KeyLike): Promise<boolean>
  /** Idempotent; `true` when an entry was removed. */
  delete(key: KeyLike): Promise<boolean>
  getMany<T = unknown>(keys: readonly KeyLike[]): Promise<(T | undefined)[]>
  putMany(entries: readonly (readonly [KeyLike, unknown])[], options?: PutOptions): Promise<boolean[]>
  deleteMany(keys: readonly KeyLike[]): Promise<number>
  /**
   * The counters and what the store holds. Counting what a store holds may
   * take a pass over all of it (Redis: a `SCAN` of the namespace, shared by
   * every build), so it is for tools (`sitecache inspect`), never for a build.
   */
  inspect(): Promise<CacheInfo>
  /** The counters alone, without a word to the store: what a build reports. */
  counters(): CacheCounters
  /**
   * How long an entry may go unused before a build's sweep removes it (ms),
   * or `false`: never. What `finishBuild` sweeps with.
   */
  readonly maxIdle: number | false
  /** The cache's clock, ms since the epoch: what TTLs, access times and sweeps go by. */
  now(): number
  /**
   * Remove the entries, of every prefix but `keep`, that nobody read or wrote
   * for `maxIdle` ms. `undefined` when the store cannot (Redis expires
   * entries itself) or the cache is read-only. A fault fails open.
   */
  sweep(request: SweepRequest): Promise<PruneResult | undefined>
  /** Make everything put so far durable. */
  persist(): Promise<void>
  clear(): Promise<void>
  close(): Promise<void>
}

export type CacheMode = "read-write" | "read-only" | "write-only"

export type { Key, KeyLike }
