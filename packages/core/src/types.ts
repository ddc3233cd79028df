import type { Key, KeyLike } from "./key.js"

export interface PutOptions {
  /** Time to live in ms; overrides the cache's `ttl`. */
  readonly ttl?: number
}

export interface CacheInfo {
  readonly name: string
  /** Bytes stored (all prefixes). */
  readonly size: number
  /** Entries stored (all prefixes). */
  readonly entryCount: number
  /** Counters since open. */
  readonly hits: number
  readonly misses: number
  readonly puts: number
  readonly evictions: number
  readonly errors: number
  /** Bytes of the entries this cache added, since open. */
  readonly bytesWritten?: number
  /** Entries and bytes under older key prefixes, where the backend can tell. */
  readonly orphanedCount?: number
  readonly orphanedSize?: number
  readonly tiers?: readonly { readonly name: string; readonly size: number; readonly entryCount: number }[]
}

/** The cache contract (DESIGN §2). */
export interface Cache {
  readonly name: string
  /** Scopes every later key; changing it hides, never deletes, older entries. */
  setKeyPrefix(prefix: Uint8Array | string): void
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
  inspect(): Promise<CacheInfo>
  /** Make everything put so far durable. */
  persist(): Promise<void>
  clear(): Promise<void>
  close(): Promise<void>
}

export type CacheMode = "read-write" | "read-only" | "write-only"

export type { Key, KeyLike }
