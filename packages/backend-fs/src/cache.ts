/**
 * `FsCache`: the cache contract plus streams and `clean()` (opened by
 * `createFsCache`, see backend.ts).
 */
import type { Readable } from "node:stream"
import { CorruptEntryError, describeCause, type KeyLike, StoreCache, type StoreCacheOptions } from "@sitecache/core"
import type { FsBackendOptions } from "./options.js"
import type { EntryWriteStream, FsStore, OpenForReadOptions } from "./store.js"

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

/**
 * A filesystem cache: the `Cache` contract, plus streamed entries and
 * `clean()`. Its own operations count, warn and fail open through
 * `StoreCache`'s (the same counters, one warning per cause, `strict` mode).
 */
export class FsCache extends StoreCache {
  declare readonly store: FsStore

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
    this.checkOpen("openForRead")
    const id = this.entryId(key)
    if (this.mode === "write-only") {
      this.countRead(false)
      return undefined
    }
    try {
      const stream = await this.store.openForRead(id, this.now(), options)
      this.countRead(stream !== undefined)
      stream?.once("error", (error) => {
        if (error instanceof CorruptEntryError) this.#corrupt(key, error)
      })
      return stream
    } catch (error) {
      this.countRead(false)
      if (error instanceof CorruptEntryError) this.#corrupt(key, error)
      else {
        const fault = this.fault("openForRead", error)
        if (fault !== undefined) throw fault
      }
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
    this.checkOpen("openForWrite")
    const meta = this.entryMeta(options.ttl)
    const id = this.entryId(key)
    const onFault = (error: unknown): Error | undefined => {
      try {
        return this.fault("openForWrite", error)
      } catch (thrown) {
        return thrown as Error
      }
    }
    if (this.mode === "read-only") return this.store.openForWrite(id, meta, meta.created, { discard: true, onFault })
    return this.store.openForWrite(id, meta, meta.created, { onFault })
  }

  /**
   * Remove temporary files left by killed writers that are older than
   * `olderThan` ms (default: the `tempMaxAge` option, 10 minutes). Returns
   * how many were removed.
   */
  async clean(options: { olderThan?: number } = {}): Promise<number> {
    this.checkOpen("clean")
    if (this.mode === "read-only") return 0
    try {
      return this.store.clean(options)
    } catch (error) {
      const fault = this.fault("clean", error)
      if (fault !== undefined) throw fault
      return 0
    }
  }

  #corrupt(key: KeyLike, error: CorruptEntryError): void {
    this.reportCorrupt(
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
}
