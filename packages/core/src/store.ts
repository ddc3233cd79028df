/**
 * The backend driver contract. A backend implements a `Store`: raw entry
 * bytes by id, with put-if-absent. Everything the `Cache` contract promises on
 * top (keys, prefixes, the entry format and its checks, TTL, value isolation,
 * modes, statistics, fail-open fault handling) lives once in `StoreCache`, so
 * every backend agrees on what a miss is.
 *
 * Required: `get`, `add`, `set`, `delete`, `stats`, `clear`, `close`.
 * Optional, with fallbacks in the core: `getMany`, `addMany`, `deleteMany`,
 * `persist`, `entries`, `prune`, `sweep`.
 *
 * A store may throw any error for an operational fault (ENOSPC, ECONNREFUSED,
 * a timeout): the cache counts it, warns once per cause and fails open.
 */
import type { Key } from "./key.js"
import type { CacheMode } from "./types.js"

export type Awaitable<T> = T | Promise<T>

/** Where an entry lives: the cache's current key prefix and the entry's key. */
export interface EntryId {
  readonly prefix: Key
  readonly key: Key
}

export interface EntryMeta {
  /** ms since the epoch, by the cache's clock. */
  readonly created: number
  /** ms since the epoch; 0 = never. */
  readonly expires: number
}

export interface StoreStats {
  /** Bytes stored, all prefixes. */
  readonly size: number
  /** Entries stored, all prefixes. */
  readonly entryCount: number
  /** Entries removed to respect a size limit, since open. */
  readonly evictions?: number
  /** Entries and bytes stored under another prefix than the current one. */
  readonly orphanedCount?: number
  readonly orphanedSize?: number
  /** Per-tier detail, for composite stores. */
  readonly tiers?: readonly (StoreStats & { readonly name: string })[]
}

export interface PruneOptions {
  /** Evict least recently used entries until at most this many bytes remain. */
  readonly maxSize?: number
  /** Remove entries not read or written for this many ms. */
  readonly olderThan?: number
  /** Remove entries of every prefix but `prefix`. */
  readonly orphans?: boolean
  readonly prefix: Key
  readonly now: number
}

/** What `Store.sweep` removes: entries nobody read or wrote since `unusedSince`, except those of `keep`. */
export interface SweepOptions {
  /** ms since the epoch, by the cache's clock. */
  readonly unusedSince: number
  /** Prefixes whose entries stay however long they went unused (the build records'). */
  readonly keep: readonly Key[]
}

export interface PruneResult {
  readonly removedCount: number
  readonly removedSize: number
}

export interface StoredEntry {
  readonly id: EntryId
  readonly bytes: Uint8Array
  /**
   * Why what is stored under `id` is no entry at all, whatever its bytes (a
   * symbolic link in place of an entry file); `bytes` is then empty.
   */
  readonly damage?: string
}

/** What a cache tells the store it was given to (see `Store.attach`). */
export interface StoreOwner {
  readonly mode: CacheMode
  readonly strict: boolean
  /** Count a fault the store absorbed (a failing tier of a tiered store) and warn once per cause. */
  fault(operation: string, error: unknown): void
}

export interface Store {
  /** Human-friendly, e.g. `sqlite (node_modules/.cache/sitecache/cache.db)`. */
  readonly name: string
  /** A network store (Redis): a tiered store writes it behind a queue, not at once. */
  readonly remote?: boolean
  /** The size bound it enforces, in bytes (least recently used entries go past it); none where the engine bounds itself. */
  readonly maxSize?: number | undefined
  /** Called by each `StoreCache` built on this store, in its constructor. */
  attach?(owner: StoreOwner): void
  /** The raw stored bytes, or `undefined`. */
  get(id: EntryId): Awaitable<Uint8Array | undefined>
  getMany?(ids: readonly EntryId[]): Awaitable<(Uint8Array | undefined)[]>
  /**
   * Store `bytes` unless an entry exists under `id` whose `expires` is 0 or
   * later than `now`. Returns `true` when stored. Never visible half-written.
   */
  add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): Awaitable<boolean>
  addMany?(entries: readonly (readonly [EntryId, Uint8Array, EntryMeta])[], now: number): Awaitable<boolean[]>
  /** Store `bytes`, replacing any entry under `id` (metadata records, repairs, tests). */
  set(id: EntryId, bytes: Uint8Array, meta: EntryMeta): Awaitable<void>
  /** Remove the entry; `true` when there was one. Idempotent. */
  delete(id: EntryId): Awaitable<boolean>
  deleteMany?(ids: readonly EntryId[]): Awaitable<number>
  stats(prefix: Key): Awaitable<StoreStats>
  /** Make every write so far durable. */
  persist?(): Awaitable<void>
  /** Remove every entry of this store (every prefix, only this store's namespace). */
  clear(): Awaitable<void>
  close(): Awaitable<void>
  /** Every stored entry, for `verify` and migrations. */
  entries?(): AsyncIterable<StoredEntry>
  prune?(options: PruneOptions): Awaitable<PruneResult>
  /**
   * Remove every entry, of any prefix but `keep`, that nobody read or wrote
   * since `unusedSince` (the automatic sweep at the end of a build: see
   * sweep.ts). Goes by the access times the store keeps, never by reading
   * entries: it may list the store, not read it.
   */
  sweep?(options: SweepOptions): Awaitable<PruneResult>
  /** Warm the local tiers of a composite store. */
  prefetch?(ids: readonly EntryId[]): Awaitable<number>
}
