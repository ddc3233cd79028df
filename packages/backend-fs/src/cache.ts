/**
 * `createFsCache(options)` (a `FsCache`: the cache contract plus streams and
 * `clean()`), and `createStore(config)` for `createCache({ backend: "fs" })`.
 */
import { join, resolve } from "node:path"
import type { Readable } from "node:stream"
import {
  BadOptionError,
  type CacheCounters,
  CacheFaultError,
  CacheNotFoundError,
  ClosedError,
  CorruptEntryError,
  checkOptions,
  DEFAULT_MAX_SIZE,
  describeCause,
  type KeyLike,
  type ResolvedCacheConfig,
  StoreCache,
  type StoreCacheOptions,
  type StoreContext,
} from "@sitecache/core"
import { nodeFileSystem } from "./file-system.js"
import { ROOT_NAME } from "./layout.js"
import { checkDir, checkMaxSize, FS_CACHE_OPTIONS, FS_OPTIONS, type FsBackendOptions, withFsDefaults } from "./options.js"
import { type EntryWriteStream, FsStore, type OpenForReadOptions } from "./store.js"

export interface FsCacheOptions extends Omit<StoreCacheOptions, "ttl">, FsBackendOptions {
  /** Cache directory. Default `node_modules/.cache/sitecache` below the current directory. */
  readonly dir?: string
  /** Size bound: `"500 MB"` or bytes. Least recently used entries are removed past it. Default 1 GiB (`DEFAULT_MAX_SIZE`). */
  readonly maxSize?: string | number
  /** Default time to live of every entry: `"30d"` or ms. Default: none. */
  readonly ttl?: string | number
}

export interface StreamPutOptions {
  /** Time to live in ms; overrides the cache's `ttl`. */
  readonly ttl?: number
}

/** A filesystem cache: the `Cache` contract, plus streamed entries and `clean()`. */
export class FsCache extends StoreCache {
  declare readonly store: FsStore
  readonly #clock: () => number
  readonly #ttl: number | undefined
  readonly #onWarning: (message: string, cause: unknown) => void
  readonly #warned = new Set<string>()
  #streamHits = 0
  #streamMisses = 0
  #streamErrors = 0
  #closed = false

  constructor(store: FsStore, options: StoreCacheOptions = {}) {
    super(store, options)
    this.#clock = options.clock ?? Date.now
    this.#ttl = options.ttl
    this.#onWarning = options.onWarning ?? ((message) => process.emitWarning(message, { type: "SitecacheWarning" }))
  }

  /**
   * Read a streamed entry (written by `openForWrite`) without holding it in
   * memory. `undefined` on a miss: missing, expired, damaged (counted and
   * removed) or an operational fault (counted, one warning per cause; thrown
   * as `CacheFaultError` in `strict` mode). Consume or destroy the stream.
   *
   * @example
   * const stream = await cache.openForRead(key("image", hash))
   * if (stream) await pipeline(stream, createWriteStream(out))
   */
  async openForRead(key: KeyLike, options: OpenForReadOptions = {}): Promise<Readable | undefined> {
    this.#checkOpen("openForRead")
    const id = this.entryId(key)
    if (this.mode === "write-only") {
      this.#streamMisses++
      return undefined
    }
    try {
      const stream = await this.store.openForRead(id, this.#clock(), options)
      if (stream === undefined) this.#streamMisses++
      else {
        this.#streamHits++
        stream.once("error", (error) => {
          if (error instanceof CorruptEntryError) this.#corrupt(key, error)
        })
      }
      return stream
    } catch (error) {
      this.#streamMisses++
      if (error instanceof CorruptEntryError) this.#corrupt(key, error)
      else this.#fault("openForRead", error)
      return undefined
    }
  }

  /**
   * Store a large value as it is written, without holding it in memory. The
   * entry appears, complete, when the stream ends; `stream.added` then tells
   * whether it was stored (`false`: a live entry existed, or the write was
   * dropped). A fault drops the write (counted, one warning per cause) and
   * the stream accepts and discards the rest; in `strict` mode the stream
   * fails with a `CacheFaultError`. In `read-only` mode nothing is written.
   *
   * @example
   * const sink = cache.openForWrite(key("image", hash))
   * await pipeline(createReadStream(file), sink)
   * await sink.added
   */
  openForWrite(key: KeyLike, options: StreamPutOptions = {}): EntryWriteStream {
    this.#checkOpen("openForWrite")
    const ttl = options.ttl ?? this.#ttl
    if (ttl !== undefined && (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl < 0)) {
      throw new BadOptionError("ttl", `expected a finite number ≥ 0, got ${String(ttl)}`)
    }
    const id = this.entryId(key)
    const now = this.#clock()
    const meta = { created: now, expires: ttl === undefined || ttl === 0 ? 0 : now + ttl }
    const onFault = (error: unknown): Error | undefined => this.#fault("openForWrite", error, false)
    if (this.mode === "read-only") return this.store.openForWrite(id, meta, now, { discard: true, onFault })
    return this.store.openForWrite(id, meta, now, { onFault })
  }

  /**
   * Remove temporary files left by killed writers that are older than
   * `olderThan` ms (default: the `tempMaxAge` option, 10 minutes). Returns
   * how many were removed.
   */
  async clean(options: { olderThan?: number } = {}): Promise<number> {
    this.#checkOpen("clean")
    if (this.mode === "read-only") return 0
    try {
      return this.store.clean(options)
    } catch (error) {
      this.#fault("clean", error)
      return 0
    }
  }

  /** The counters, streamed entries included (and so `inspect()`'s). */
  override counters(): CacheCounters {
    const counters = super.counters()
    return {
      ...counters,
      hits: counters.hits + this.#streamHits,
      misses: counters.misses + this.#streamMisses,
      errors: counters.errors + this.#streamErrors,
    }
  }

  override async close(): Promise<void> {
    this.#closed = true
    await super.close()
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new ClosedError(this.name, operation)
  }

  #corrupt(key: KeyLike, error: CorruptEntryError): void {
    this.#streamErrors++
    this.#warnOnce(
      "stream:corrupt",
      `${this.name}: removed a corrupt streamed entry (${describeCause(error)}); it reads as a miss`,
      error,
    )
    if (this.mode === "read-only") return
    try {
      this.store.delete(this.entryId(key))
    } catch {
      // Best effort, like the removal of a corrupt value entry.
    }
  }

  /**
   * Count an operational fault; in `strict` mode throw it (or, with
   * `mayThrow` false, return it), otherwise warn once per cause.
   */
  #fault(operation: string, error: unknown, mayThrow = true): CacheFaultError | undefined {
    this.#streamErrors++
    const fault = new CacheFaultError(this.name, operation, error)
    if (this.strict) {
      if (mayThrow) throw fault
      return fault
    }
    const code = (error as { code?: unknown } | null)?.code
    const cause = typeof code === "string" ? code : error instanceof Error ? error.name : "unknown"
    this.#warnOnce(
      `fault:${cause}`,
      `${fault.message} (the build goes on without the cache for this operation; further ${cause} warnings are silenced)`,
      error,
    )
    return undefined
  }

  #warnOnce(cause: string, message: string, error: unknown): void {
    if (this.#warned.has(cause)) return
    this.#warned.add(cause)
    this.#onWarning(message, error)
  }
}

/**
 * Open a filesystem cache.
 *
 * @example
 * const cache = await createFsCache({ dir: ".cache/site", maxSize: "1 GB" })
 */
export async function createFsCache(options: FsCacheOptions = {}): Promise<FsCache> {
  const checked = checkOptions(options, FS_CACHE_OPTIONS)
  const { dir, maxSize, ttl, fsync: _fsync, tempMaxAge: _tempMaxAge, fileSystem: _fileSystem, ...cacheOptions } = options
  const store = new FsStore({
    dir: dir === undefined ? join(process.cwd(), "node_modules", ".cache", "sitecache") : resolve(checked.dir as string),
    maxSize: maxSize === undefined ? DEFAULT_MAX_SIZE : (checked.maxSize as number),
    readOnly: cacheOptions.mode === "read-only",
    ...(cacheOptions.clock === undefined ? {} : { clock: cacheOptions.clock }),
    ...withFsDefaults(checked),
  })
  return new FsCache(store, { ...cacheOptions, ...(ttl === undefined ? {} : { ttl: checked.ttl as number }) })
}

/**
 * The store behind `createCache({ backend: "fs" })`; backend options come from
 * `config.fs`. With `context.create` false, a directory without a cache
 * (no `fs-v1` in it) is `CacheNotFoundError`, and nothing is created.
 */
export function createStore(config: ResolvedCacheConfig, context: StoreContext = {}): FsStore {
  const backend = withFsDefaults(checkOptions(config.fs ?? {}, FS_OPTIONS, "fs."))
  const maxSize = checkMaxSize(config.maxSize) ?? DEFAULT_MAX_SIZE
  const dir = checkDir(config.dir)
  if (context.create === false) {
    const root = join(resolve(dir), ROOT_NAME)
    const stat = (backend.fileSystem ?? nodeFileSystem).statSync(root, { throwIfNoEntry: false })
    if (stat?.isDirectory() !== true) throw new CacheNotFoundError("fs", root)
  }
  return new FsStore({
    dir,
    maxSize,
    readOnly: config.mode === "read-only",
    ...(context.clock === undefined ? {} : { clock: context.clock }),
    ...backend,
  })
}
