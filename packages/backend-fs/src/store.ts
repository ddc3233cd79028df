/**
 * `FsStore`: the filesystem backend driver (see layout.ts for the files it
 * keeps, index-file.ts for the index and stream.ts for streamed entries).
 *
 * Hot path. A read is one read of the entry's file (open, fstat, read,
 * close, as `readFileSync`), never through a symbolic link (see guard.ts);
 * all checks happen in `StoreCache`. Its access is noted in memory only (a map of last
 * access and hit counts) and reaches the index on `persist()`. A write is a
 * temporary file (opened exclusively, `0600`, never through a symlink)
 * written in the entry's directory, then `link`ed to the entry's name:
 * `link` fails with `EEXIST` when an entry is already there, which makes
 * put-if-absent atomic between processes without any lock. An existing entry
 * that has expired (or whose header is unreadable) is replaced by `rename`.
 * The temporary file is removed in `finally`, whatever happens.
 *
 * Durability. Without the `fsync` option, nothing is flushed: a write is
 * visible to every process once `put` returns and survives the writer being
 * killed (the kernel holds it); a power loss may lose recent entries or leave
 * damaged files, which read as misses (the checksum) and are replaced by the
 * next `put`. With `fsync`, each entry file and its directory are flushed
 * before `put` returns.
 *
 * Counts. `stats()` lists the directories (only those whose modification time
 * changed since they were last listed, see view.ts) and so is exact while
 * other processes write. `maxSize` is enforced by this process on its own
 * writes: past it, least recently used entries (by the index's access times,
 * this process's reads, and file times for entries nobody has read) are
 * removed until 90% of `maxSize` remains, after listing the directories again
 * to count other processes' entries.
 */
import { randomUUID } from "node:crypto"
import type { FileHandle } from "node:fs/promises"
import { isAbsolute, relative, resolve } from "node:path"
import { Readable, Writable } from "node:stream"
import {
  BadOptionError,
  CorruptEntryError,
  describeCause,
  type EntryId,
  type EntryMeta,
  HEADER_SIZE,
  Key,
  type PruneOptions,
  type PruneResult,
  readEntryHeader,
  type Store,
  type StoredEntry,
  type StoreStats,
  type SweepOptions,
} from "@sitecache/core"
import { errorCode, type FileSystem, isLinkUnsupported, isMissing, nodeFileSystem } from "./file-system.js"
import { DirectoryGuard, describeNonFile, isNotAFile, NO_BYTES, readRegularFile } from "./guard.js"
import { decodeIndex, encodeIndex } from "./index-file.js"
import {
  CACHEDIR_TAG,
  CACHEDIR_TAG_TEXT,
  DIR_MODE,
  ENTRY_FILE,
  entryPath,
  FILE_MODE,
  INDEX_NAME,
  isStreamPath,
  keyHexOf,
  PREFIX_DIR,
  prefixOf,
  READ_FLAGS,
  ROOT_NAME,
  SHARD_DIR,
  STREAM_SUFFIX,
  TEMP_FLAGS,
  TEMP_PREFIX,
  TRASH_PREFIX,
} from "./layout.js"
import { DEFAULT_TEMP_MAX_AGE } from "./options.js"
import {
  decodeStreamHeader,
  encodeStreamHeader,
  STREAM_BLOCK,
  STREAM_HEADER,
  STREAM_TRAILER,
  StreamDigest,
  streamFileSize,
} from "./stream.js"
import { type EntryRecord, SETTLE_MS, View } from "./view.js"

export interface FsStoreOptions {
  /** The cache directory; created (`0700`) with its parents unless `readOnly`. */
  readonly dir: string
  /** Bytes; past it, least recently used entries are removed down to 90% of it. Default: unbounded. */
  readonly maxSize?: number
  /** Flush every entry and the index to disk before they become visible. Default `false`. */
  readonly fsync?: boolean
  /** ms: temporary files older than this are removed by `clean()`. Default 10 minutes. */
  readonly tempMaxAge?: number
  /** Create nothing (no directory, no tag) and never write. */
  readonly readOnly?: boolean
  /** The file system calls to make. Default `node:fs`. */
  readonly fileSystem?: FileSystem
  /** Clock of access times (least-recently-used order), ms since the epoch. Default `Date.now`. */
  readonly clock?: () => number
}

export interface OpenForReadOptions {
  /**
   * Check every block of the entry before handing out the first byte (one
   * extra sequential read, usually from the page cache), so that a damaged
   * entry is a miss and never a stream that fails halfway. Default `true`.
   * With `false`, each block is still checked before it is handed out, and
   * a damaged block errors the stream.
   */
  readonly verifyFirst?: boolean
}

export interface OpenForWriteOptions {
  /** Accept and discard everything (a read-only cache): `added` resolves `false`. */
  readonly discard?: boolean
  /**
   * Called on an operational fault (disk full, permission lost) while
   * writing. Return an error to fail the stream with it, or `undefined` to
   * drop the write quietly: the stream then accepts and discards the rest,
   * and `added` resolves `false`. Default: the stream fails with the fault.
   */
  readonly onFault?: (error: unknown) => Error | undefined
}

/** A stream that stores what is written to it as one entry when it ends. */
export interface EntryWriteStream extends Writable {
  /**
   * Resolves once the stream has finished: `true` when the entry was stored,
   * `false` when a live entry already existed (it is kept) or the write was
   * dropped. Rejects when the stream failed.
   */
  readonly added: Promise<boolean>
}

const LOW_WATER = 0.9
/** `readFileSync` takes numeric flags (Node passes them to `open`), though its types say string. */
const READ_OPTIONS = { flag: READ_FLAGS as unknown as string }
/** Enough bytes for `readEntryHeader` and for a stream header. */
const HEAD_PROBE = HEADER_SIZE + 8

type ExpiryReader = (head: Buffer) => number
const valueExpiry: ExpiryReader = (head) => readEntryHeader(head).expires
const streamExpiry: ExpiryReader = (head) => decodeStreamHeader(head).expires

function displayPath(dir: string): string {
  const rel = relative(process.cwd(), dir)
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? dir : rel
}

export class FsStore implements Store {
  readonly name: string
  /** The cache directory (absolute). */
  readonly dir: string
  /** The versioned root below it, `<dir>/fs-v1`. */
  readonly root: string
  readonly maxSize: number | undefined
  readonly fsync: boolean
  readonly tempMaxAge: number
  readonly readOnly: boolean
  readonly #fs: FileSystem
  readonly #clock: () => number
  /** `root` + "/": entry paths are `#base + rel`. */
  readonly #base: string
  /** The directory listing, loaded on first need (stats, persist, prune, `maxSize`). */
  #view: View | undefined
  /**
   * What this process did since the last `persist()`, by relative path: last
   * access, reads, and the expiry of what it wrote. Merged into the index by
   * `persist()`; never written on the hot path.
   */
  #pending = new Map<string, { accessed: number; hits: number; expires?: number }>()
  /** Something was written or removed since the last `persist()`. */
  #dirty = false
  #evictions = 0
  /** A removal that failed during eviction; reported by the next `persist()`. */
  #evictionError: unknown
  /** Identity (inode, size, mtime) of the index file as this process last read or wrote it. */
  #indexStamp: string | undefined
  /** Which directories may be entered (see guard.ts). */
  readonly #guard: DirectoryGuard

  constructor(options: FsStoreOptions) {
    this.dir = resolve(options.dir)
    this.root = `${this.dir}/${ROOT_NAME}`
    this.#base = `${this.root}/`
    this.maxSize = options.maxSize
    this.fsync = options.fsync ?? false
    this.tempMaxAge = options.tempMaxAge ?? DEFAULT_TEMP_MAX_AGE
    this.readOnly = options.readOnly ?? false
    this.#fs = options.fileSystem ?? nodeFileSystem
    this.#clock = options.clock ?? Date.now
    this.name = `fs (${displayPath(this.dir)})`
    this.#guard = new DirectoryGuard(this.#fs, this.#base)
    this.#open()
  }

  #open(): void {
    const refuse = (error: unknown): never => {
      throw new BadOptionError("dir", `cannot use ${this.dir} as a cache directory: ${describeCause(error)}`, { cause: error })
    }
    if (this.readOnly) {
      let stat: ReturnType<FileSystem["statSync"]>
      try {
        stat = this.#fs.statSync(this.dir, { throwIfNoEntry: false })
      } catch (error) {
        refuse(error)
      }
      if (stat !== undefined && !stat.isDirectory()) refuse(Object.assign(new Error("not a directory"), { code: "ENOTDIR" }))
      const root = this.#fs.lstatSync(this.root, { throwIfNoEntry: false })
      if (root !== undefined && !root.isDirectory()) this.#guard.refuseRoot()
      return
    }
    try {
      this.#fs.mkdirSync(this.dir, { recursive: true, mode: DIR_MODE })
      // The root is this cache's own name: a link (or a file) in its place is removed, never followed.
      const root = this.#fs.lstatSync(this.root, { throwIfNoEntry: false })
      if (root !== undefined && !root.isDirectory()) this.#fs.unlinkSync(this.root)
      this.#fs.mkdirSync(this.root, { recursive: true, mode: DIR_MODE })
      if (!this.#fs.lstatSync(this.root).isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" })
    } catch (error) {
      refuse(error)
    }
    this.#writeTag()
  }

  /** A `CACHEDIR.TAG`, so that backup tools skip the directory. Best effort. */
  #writeTag(): void {
    try {
      const fd = this.#fs.openSync(`${this.dir}/${CACHEDIR_TAG}`, TEMP_FLAGS, FILE_MODE)
      try {
        this.#fs.writeSync(fd, CACHEDIR_TAG_TEXT)
      } finally {
        this.#fs.closeSync(fd)
      }
    } catch {
      // Already there (EEXIST), or a read-only disk with an existing cache: neither stops the cache.
    }
  }

  // ---------------------------------------------------------------- values

  /**
   * The entry's bytes. Anything but a regular file in its place (a symbolic
   * link, a directory, a FIFO), or under a directory that is not one, reads
   * as an entry of no bytes: the cache counts it as damaged and removes it
   * (`delete` unlinks what is there, never following it).
   */
  get(id: EntryId): Uint8Array | undefined {
    const rel = entryPath(id)
    const directories = this.#guard.check(rel)
    if (directories === "missing") return undefined
    if (directories === "linked") return NO_BYTES
    const bytes = readRegularFile(this.#fs, this.#base + rel)
    if (bytes === undefined) return undefined
    if (bytes === null) return NO_BYTES
    this.#touch(rel)
    return bytes
  }

  getMany(ids: readonly EntryId[]): (Uint8Array | undefined)[] {
    return ids.map((id) => this.get(id))
  }

  add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): boolean {
    if (this.maxSize !== undefined && bytes.length > this.maxSize) return false
    const rel = entryPath(id)
    const path = this.#base + rel
    this.#enterable(rel)
    // No existence check first: a put is nearly always of a new entry (a build puts what it missed),
    // and `link` tells whether one exists at no extra cost.
    const added = this.#commit(this.#writeTemp(path, bytes), path, now, valueExpiry)
    if (added) this.#recordWrite(rel, bytes.length, meta.expires)
    return added
  }

  addMany(entries: readonly (readonly [EntryId, Uint8Array, EntryMeta])[], now: number): boolean[] {
    return entries.map(([id, bytes, meta]) => this.add(id, bytes, meta, now))
  }

  set(id: EntryId, bytes: Uint8Array, meta: EntryMeta): void {
    const rel = entryPath(id)
    const path = this.#base + rel
    this.#enterable(rel)
    const temp = this.#writeTemp(path, bytes)
    try {
      this.#clearDirectoryAt(path)
      this.#fs.renameSync(temp, path)
    } catch (error) {
      this.#removeQuietly(temp)
      throw error
    }
    this.#syncDirectory(path)
    this.#recordWrite(rel, bytes.length, meta.expires)
  }

  /** Removes the entry and a streamed entry of the same key. */
  delete(id: EntryId): boolean {
    const rel = entryPath(id)
    const value = this.#removeEntry(rel)
    const stream = this.#removeEntry(rel + STREAM_SUFFIX)
    return value || stream
  }

  deleteMany(ids: readonly EntryId[]): number {
    let removed = 0
    for (const id of ids) if (this.delete(id)) removed++
    return removed
  }

  // ---------------------------------------------------------------- whole cache

  stats(prefix: Key): StoreStats {
    const view = this.#freshView()
    const orphaned = view.orphaned(prefix.hex)
    return {
      size: view.size,
      entryCount: view.entries.size,
      evictions: this.#evictions,
      orphanedCount: orphaned.count,
      orphanedSize: orphaned.size,
    }
  }

  /**
   * Write the index: the listing, with access times and hits merged from the
   * index on disk (other processes may have persisted since) and from this
   * process's reads. Skipped when nothing was read or written since the last
   * call.
   */
  persist(): void {
    if (this.readOnly) return
    const evictionError = this.#evictionError
    this.#evictionError = undefined
    if (this.#dirty || this.#pending.size > 0) {
      const view = this.#freshView()
      this.#mergeIndex(view)
      for (const [rel, touch] of this.#pending) {
        const record = view.get(rel)
        if (record === undefined) continue
        record.accessed = Math.max(record.accessed, touch.accessed)
        record.hits += touch.hits
        if (touch.expires !== undefined) record.expires = touch.expires
      }
      this.#writeIndex(view)
      this.#pending.clear()
      this.#dirty = false
    }
    if (evictionError !== undefined) throw evictionError
  }

  /** Remove every entry of every prefix (the whole `fs-v1` root, renamed away first so it vanishes at once). */
  clear(): void {
    const trash = `${this.dir}/${TRASH_PREFIX}${randomUUID()}`
    try {
      this.#fs.renameSync(this.root, trash)
    } catch (error) {
      if (!isMissing(error)) throw error
    }
    this.#view = undefined
    this.#indexStamp = undefined
    this.#pending.clear()
    this.#dirty = false
    this.#guard.forget()
    this.#fs.mkdirSync(this.root, { recursive: true, mode: DIR_MODE })
    this.#fs.rmSync(trash, { recursive: true, force: true })
  }

  close(): void {
    this.#view = undefined
    this.#pending.clear()
  }

  /** Every value entry (not streamed ones), read from the files; for `verify` and migrations. */
  async *entries(): AsyncGenerator<StoredEntry> {
    for (const prefixHex of this.#list("")) {
      if (!PREFIX_DIR.test(prefixHex)) continue
      const prefix = Key.fromHex(prefixHex)
      for (const shard of this.#list(prefixHex)) {
        if (!SHARD_DIR.test(shard)) continue
        for (const name of this.#list(`${prefixHex}/${shard}`)) {
          if (!ENTRY_FILE.test(name) || name.endsWith(STREAM_SUFFIX)) continue
          const rel = `${prefixHex}/${shard}/${name}`
          const bytes = readRegularFile(this.#fs, this.#base + rel)
          if (bytes === undefined) continue
          const id = { prefix, key: Key.fromHex(keyHexOf(rel)) }
          if (bytes !== null) {
            yield { id, bytes }
            continue
          }
          const what = describeNonFile(this.#fs.lstatSync(this.#base + rel, { throwIfNoEntry: false }))
          yield { id, bytes: NO_BYTES, damage: `${what} in place of an entry file (never followed)` }
        }
      }
    }
  }

  /**
   * Remove orphans (entries of every prefix but `prefix`), entries not read
   * or written for `olderThan` ms, expired entries, and then least recently
   * used entries down to `maxSize` bytes; then stale temporary files and
   * empty directories.
   */
  prune(options: PruneOptions): PruneResult {
    const view = this.#freshView()
    let removedCount = 0
    let removedSize = 0
    for (const [rel, record] of [...view.entries]) {
      const orphan = options.orphans === true && prefixOf(rel) !== options.prefix.hex
      const old = options.olderThan !== undefined && this.#lastAccess(rel, record) <= options.now - options.olderThan
      if ((orphan || old || this.#expired(rel, record, options.now)) && this.#removeEntry(rel)) {
        removedCount++
        removedSize += record.size
      }
    }
    if (options.maxSize !== undefined) {
      const before = { count: view.entries.size, size: view.size }
      this.#evictLeastRecentlyUsed(view, options.maxSize)
      removedCount += before.count - view.entries.size
      removedSize += before.size - view.size
    }
    this.#removeEmptyDirectories()
    this.clean()
    return { removedCount, removedSize }
  }

  /**
   * Remove entries of every prefix but `keep` that nobody read or wrote since
   * `unusedSince` (by the index's access times, this process's reads, and
   * file times for entries nobody has read), then empty directories. Lists
   * directories; reads no entry.
   */
  sweep(options: SweepOptions): PruneResult {
    const view = this.#freshView()
    // Another process may have read an entry since this one loaded the index: its reads count.
    this.#mergeIndex(view)
    const keep = new Set(options.keep.map((prefix) => prefix.hex))
    let removedCount = 0
    let removedSize = 0
    for (const [rel, record] of [...view.entries]) {
      if (keep.has(prefixOf(rel)) || this.#lastAccess(rel, record) >= options.unusedSince) continue
      if (this.#removeEntry(rel)) {
        removedCount++
        removedSize += record.size
      }
    }
    if (removedCount > 0) this.#removeEmptyDirectories()
    return { removedCount, removedSize }
  }

  /**
   * Remove temporary files left by killed writers (and the remains of an
   * interrupted `clear()`) that are older than `olderThan` ms (default: the
   * `tempMaxAge` option); `olderThan: 0` removes every one, whatever its
   * timestamp says. Returns how many were removed.
   */
  clean(options: { olderThan?: number } = {}): number {
    const olderThan = options.olderThan ?? this.tempMaxAge
    // Temporary files are judged by their own (real) modification time.
    const cutoff = Date.now() - olderThan
    let removed = 0
    const removeIfStale = (path: string, isDirectory: boolean): void => {
      try {
        const stat = this.#fs.lstatSync(path, { throwIfNoEntry: false })
        // Not by time when every one is asked for: a file written this millisecond has an mtime (to the
        // nanosecond) past `Date.now()` (whole milliseconds), and another machine's clock may be ahead.
        if (stat === undefined || (olderThan > 0 && stat.mtimeMs > cutoff)) return
        if (isDirectory) this.#fs.rmSync(path, { recursive: true, force: true })
        else this.#fs.unlinkSync(path)
        removed++
      } catch (error) {
        if (!isMissing(error)) throw error
      }
    }
    for (const name of this.#listAt(this.dir)) {
      if (name.startsWith(TRASH_PREFIX)) removeIfStale(`${this.dir}/${name}`, true)
    }
    for (const prefix of this.#list("")) {
      if (prefix.startsWith(TEMP_PREFIX)) removeIfStale(this.#base + prefix, false)
      if (!PREFIX_DIR.test(prefix)) continue
      for (const shard of this.#list(prefix)) {
        if (!SHARD_DIR.test(shard)) continue
        for (const name of this.#list(`${prefix}/${shard}`)) {
          if (name.startsWith(TEMP_PREFIX)) removeIfStale(`${this.#base}${prefix}/${shard}/${name}`, false)
        }
      }
    }
    return removed
  }

  // ---------------------------------------------------------------- streams

  /**
   * A stream of a streamed entry's bytes, `undefined` when there is none or
   * it has expired. Throws `CorruptEntryError` for a damaged entry (checked
   * in full first, unless `verifyFirst` is false) and any other error for an
   * operational fault. Consume or destroy the stream: it holds the file open.
   */
  async openForRead(id: EntryId, now: number, options: OpenForReadOptions = {}): Promise<Readable | undefined> {
    const rel = entryPath(id) + STREAM_SUFFIX
    const directories = this.#guard.check(rel)
    if (directories === "missing") return undefined
    const notAFile = () =>
      new CorruptEntryError(
        `${describeNonFile(this.#fs.lstatSync(this.#base + rel, { throwIfNoEntry: false }))} in place of a streamed entry (never followed)`,
      )
    if (directories === "linked") throw new CorruptEntryError("a link in place of a cache directory (never followed)")
    let handle: FileHandle
    try {
      handle = await this.#fs.promises.open(this.#base + rel, READ_FLAGS)
    } catch (error) {
      if (isMissing(error)) return undefined
      if (isNotAFile(error)) throw notAFile()
      throw error
    }
    try {
      const stat = await handle.stat()
      if (!stat.isFile()) throw notAFile()
      const { size } = stat
      const head = Buffer.alloc(STREAM_HEADER)
      if (size < STREAM_HEADER + STREAM_TRAILER)
        throw new CorruptEntryError(`stream of ${size} bytes is shorter than its framing`)
      await readExactly(handle, head, 0)
      const header = decodeStreamHeader(head)
      const trailer = Buffer.alloc(STREAM_TRAILER)
      await readExactly(handle, trailer, size - STREAM_TRAILER)
      const length = Number(trailer.readBigUInt64LE(0))
      if (streamFileSize(length) !== size) {
        throw new CorruptEntryError(`stream of ${size} bytes, expected ${streamFileSize(length)} (truncated or padded)`)
      }
      if (header.expires !== 0 && header.expires <= now) {
        await handle.close()
        return undefined
      }
      if (options.verifyFirst ?? true) await verifyStream(handle, head, trailer, length)
      this.#touch(rel)
      return blockReader(handle, head, trailer, length)
    } catch (error) {
      await handle.close().catch(() => {})
      throw error
    }
  }

  /**
   * A stream whose bytes become a streamed entry when it ends: written to a
   * temporary file block by block (one block of memory), committed like
   * `add` (an existing live entry is kept). See `EntryWriteStream.added`.
   */
  openForWrite(id: EntryId, meta: EntryMeta, now: number, options: OpenForWriteOptions = {}): EntryWriteStream {
    const rel = entryPath(id) + STREAM_SUFFIX
    const path = this.#base + rel
    if (options.discard !== true) this.#enterable(rel)
    const directory = path.slice(0, path.lastIndexOf("/"))
    const temp = `${directory}/${TEMP_PREFIX}${randomUUID()}`
    const header = encodeStreamHeader(meta)
    const digest = new StreamDigest(header)
    const block = Buffer.allocUnsafe(STREAM_BLOCK)
    let handle: FileHandle | undefined
    let filled = 0
    let length = 0
    let position = 0
    /** A live entry exists, or a fault was dropped: accept and discard. */
    let sink = options.discard === true
    let committed = false
    let settle!: (added: boolean) => void
    let fail!: (error: unknown) => void
    const added = new Promise<boolean>((resolve, reject) => {
      settle = resolve
      fail = reject
    })
    added.catch(() => {})

    const writeAt = async (buffers: Buffer[]): Promise<void> => {
      for (const buffer of buffers) {
        await writeExactly(handle as FileHandle, buffer, position)
        position += buffer.length
      }
    }
    const flushBlock = async (): Promise<void> => {
      if (filled === 0) return
      const data = block.subarray(0, filled)
      await writeAt([data, digest.block(data)])
      filled = 0
    }
    const discard = async (): Promise<void> => {
      const open = handle
      handle = undefined
      if (open !== undefined) await open.close().catch(() => {})
      this.#removeQuietly(temp)
    }
    /** Run one step; on a fault, either drop the write (sink) or fail the stream. */
    const step = (work: () => Promise<void>, callback: (error?: Error | null) => void): void => {
      if (sink) {
        callback()
        return
      }
      work().then(
        () => callback(),
        async (error: unknown) => {
          await discard()
          const failure = options.onFault ? options.onFault(error) : (error as Error)
          if (failure === undefined) {
            sink = true
            callback()
          } else callback(failure)
        },
      )
    }

    const stream = new Writable({
      highWaterMark: STREAM_BLOCK,
      construct: (callback) =>
        step(async () => {
          if (this.#live(path, now, streamExpiry)) {
            sink = true
            return
          }
          handle = await this.#openTempHandle(temp, directory)
          await writeAt([header])
        }, callback),
      write: (chunk: Buffer, _encoding, callback) =>
        step(async () => {
          let offset = 0
          while (offset < chunk.length) {
            const n = Math.min(chunk.length - offset, STREAM_BLOCK - filled)
            chunk.copy(block, filled, offset, offset + n)
            filled += n
            offset += n
            length += n
            if (filled === STREAM_BLOCK) await flushBlock()
          }
        }, callback),
      final: (callback) =>
        step(async () => {
          await flushBlock()
          await writeAt([digest.trailer(length)])
          const open = handle as FileHandle
          if (this.fsync) await open.sync()
          handle = undefined
          await open.close()
          committed = true
          const wasAdded = this.#commit(temp, path, now, streamExpiry)
          if (wasAdded) this.#recordWrite(rel, position, meta.expires)
          settle(wasAdded)
        }, callback),
      destroy: (error, callback) => {
        const cleanup = committed ? Promise.resolve() : discard()
        cleanup.then(() => {
          if (error) fail(error)
          else settle(false)
          callback(error)
        })
      },
    })
    return Object.defineProperty(stream, "added", { value: added, enumerable: true }) as EntryWriteStream
  }

  // ---------------------------------------------------------------- internals

  #touch(rel: string): void {
    const touch = this.#pending.get(rel)
    if (touch === undefined) this.#pending.set(rel, { accessed: this.#clock(), hits: 1 })
    else {
      touch.accessed = this.#clock()
      touch.hits++
    }
  }

  #lastAccess(rel: string, record: EntryRecord): number {
    const touch = this.#pending.get(rel)
    return touch === undefined ? record.accessed : Math.max(record.accessed, touch.accessed)
  }

  /** Whether a live entry is at `path`: there, readable, and not expired at `now`. */
  #live(path: string, now: number, expiryOf: ExpiryReader): boolean {
    const expires = this.#readExpiry(path, expiryOf)
    return expires !== undefined && (expires === 0 || expires > now)
  }

  /** The expiry in an entry's header; `undefined` when it is missing or its header is unreadable. */
  #readExpiry(path: string, expiryOf: ExpiryReader): number | undefined {
    let fd: number
    try {
      fd = this.#fs.openSync(path, READ_FLAGS)
    } catch (error) {
      if (isMissing(error) || isNotAFile(error)) return undefined
      throw error
    }
    try {
      if (!this.#fs.fstatSync(fd).isFile()) return undefined
      const head = Buffer.alloc(HEAD_PROBE)
      const n = this.#fs.readSync(fd, head, 0, HEAD_PROBE, 0)
      try {
        return expiryOf(head.subarray(0, n))
      } catch {
        return undefined
      }
    } finally {
      this.#fs.closeSync(fd)
    }
  }

  #expired(rel: string, record: EntryRecord, now: number): boolean {
    if (record.expires === 0 || record.expires > now) return false
    // Not known, or recorded as expired: read the header (another process may have replaced the entry).
    const expires = this.#readExpiry(this.#base + rel, isStreamPath(rel) ? streamExpiry : valueExpiry)
    if (expires === undefined) return false
    record.expires = expires
    return expires !== 0 && expires <= now
  }

  /** Write `bytes` to a new temporary file beside `path`; returns its path. */
  #writeTemp(path: string, bytes: Uint8Array): string {
    const directory = path.slice(0, path.lastIndexOf("/"))
    const temp = `${directory}/${TEMP_PREFIX}${randomUUID()}`
    const fd = this.#openTemp(temp, directory)
    try {
      try {
        let offset = 0
        while (offset < bytes.length) {
          const written = this.#fs.writeSync(fd, bytes, offset, bytes.length - offset)
          if (written <= 0) throw Object.assign(new Error(`short write to ${temp}`), { code: "EIO" })
          offset += written
        }
        if (this.fsync) this.#fs.fsyncSync(fd)
      } finally {
        this.#fs.closeSync(fd)
      }
    } catch (error) {
      this.#removeQuietly(temp)
      throw error
    }
    return temp
  }

  #openTemp(temp: string, directory: string): number {
    try {
      return this.#fs.openSync(temp, TEMP_FLAGS, FILE_MODE)
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error
      this.#makeDirectory(directory)
      return this.#fs.openSync(temp, TEMP_FLAGS, FILE_MODE)
    }
  }

  async #openTempHandle(temp: string, directory: string): Promise<FileHandle> {
    try {
      return await this.#fs.promises.open(temp, TEMP_FLAGS, FILE_MODE)
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error
      this.#makeDirectory(directory)
      return await this.#fs.promises.open(temp, TEMP_FLAGS, FILE_MODE)
    }
  }

  /**
   * Create a shard directory (and its prefix directory when missing). Tried
   * without `recursive` first: a recursive `mkdir` reports `ENOENT` where the
   * real cause is `EROFS` or `EACCES`, and the warning should name the cause.
   */
  #makeDirectory(directory: string): void {
    try {
      this.#fs.mkdirSync(directory, { mode: DIR_MODE })
    } catch (error) {
      const code = errorCode(error)
      if (code === "EEXIST") return
      if (code !== "ENOENT") throw error
      this.#fs.mkdirSync(directory.slice(0, directory.lastIndexOf("/")), { recursive: true, mode: DIR_MODE })
      try {
        this.#fs.mkdirSync(directory, { mode: DIR_MODE })
      } catch (again) {
        if (errorCode(again) !== "EEXIST") throw again
      }
    }
  }

  /**
   * Give the complete temporary file its entry's name, put-if-absent: `link`
   * fails with `EEXIST` when an entry is there; a live one is kept, an
   * expired or unreadable one is replaced by `rename`. The temporary file is
   * always gone afterwards.
   */
  #commit(temp: string, path: string, now: number, expiryOf: ExpiryReader): boolean {
    let renamed = false
    try {
      try {
        this.#fs.linkSync(temp, path)
        this.#syncDirectory(path)
        return true
      } catch (error) {
        // Filesystems without hard links get check-then-rename: a race may then replace a live entry with the same value.
        if (errorCode(error) !== "EEXIST" && !isLinkUnsupported(error)) throw error
      }
      if (this.#live(path, now, expiryOf)) return false
      this.#clearDirectoryAt(path)
      this.#fs.renameSync(temp, path)
      renamed = true
      this.#syncDirectory(path)
      return true
    } finally {
      if (!renamed) this.#removeQuietly(temp)
    }
  }

  #syncDirectory(path: string): void {
    // Windows cannot open a directory to flush it; NTFS journals the link itself.
    if (!this.fsync || process.platform === "win32") return
    const fd = this.#fs.openSync(path.slice(0, path.lastIndexOf("/")), "r")
    try {
      this.#fs.fsyncSync(fd)
    } finally {
      this.#fs.closeSync(fd)
    }
  }

  /** Make the directories of `rel` safe to write in: unlink a link in place of one (see guard.ts). */
  #enterable(rel: string): void {
    if (this.#guard.check(rel) === "linked") this.#guard.unlinkLinks(rel)
  }

  /**
   * Remove a directory found where an entry's file belongs (`rename` and
   * `unlink` refuse to replace one), with what it holds: `rmSync` unlinks the
   * links inside, never following them. `true` when there was one.
   */
  #clearDirectoryAt(path: string): boolean {
    const stat = this.#fs.lstatSync(path, { throwIfNoEntry: false })
    if (stat === undefined || !stat.isDirectory()) return false
    this.#fs.rmSync(path, { recursive: true, force: true })
    return true
  }

  #removeQuietly(path: string): void {
    try {
      this.#fs.unlinkSync(path)
    } catch {
      // Already gone, or the disk refuses: `clean()` removes it later.
    }
  }

  /**
   * Unlink one entry file (or whatever is in its place, never following it);
   * `true` when something was there. Under a link in place of a directory,
   * the link is what is removed.
   */
  #removeEntry(rel: string): boolean {
    const directories = this.#guard.check(rel)
    if (directories !== "ok") {
      this.#view?.remove(rel)
      return directories === "linked" && this.#guard.unlinkLinks(rel)
    }
    try {
      this.#fs.unlinkSync(this.#base + rel)
    } catch (error) {
      if (isMissing(error)) {
        this.#view?.remove(rel)
        return false
      }
      // A directory in place of the entry (unlink refuses one) goes with what it holds.
      if (!this.#clearDirectoryAt(this.#base + rel)) throw error
    }
    this.#view?.remove(rel)
    this.#pending.delete(rel)
    this.#dirty = true
    return true
  }

  #recordWrite(rel: string, size: number, expires: number): void {
    this.#dirty = true
    this.#pending.set(rel, { accessed: this.#clock(), hits: this.#pending.get(rel)?.hits ?? 0, expires })
    const view = this.#view ?? (this.maxSize === undefined ? undefined : this.#freshView())
    if (view === undefined) return
    view.set(rel, { size, accessed: this.#clock(), hits: view.get(rel)?.hits ?? 0, expires })
    if (this.maxSize !== undefined && view.size > this.maxSize) {
      // Count what other processes wrote too, then make room in one batch.
      this.#refresh(view)
      if (view.size > this.maxSize) this.#evictLeastRecentlyUsed(view, Math.floor(this.maxSize * LOW_WATER))
    }
  }

  #evictLeastRecentlyUsed(view: View, limit: number): void {
    if (view.size <= limit) return
    const order = [...view.entries].map(([rel, record]) => [rel, this.#lastAccess(rel, record)] as const)
    order.sort((a, b) => a[1] - b[1])
    for (const [rel] of order) {
      if (view.size <= limit) return
      try {
        if (this.#removeEntry(rel)) this.#evictions++
      } catch (error) {
        this.#evictionError ??= error
        return
      }
    }
  }

  /** Merge into `view` the access times other processes persisted since this one last read or wrote the index. */
  #mergeIndex(view: View): void {
    const onDisk = this.#indexChanged() ? this.#readIndex() : undefined
    if (onDisk === undefined) return
    for (const [rel, record] of view.entries) {
      const stored = onDisk.get(rel)
      if (stored === undefined) continue
      record.accessed = Math.max(record.accessed, stored.accessed)
      record.hits = Math.max(record.hits, stored.hits)
      if (record.expires < 0) record.expires = stored.expires
    }
  }

  #freshView(): View {
    if (this.#view === undefined) this.#view = this.#readIndex() ?? new View()
    this.#refresh(this.#view)
    return this.#view
  }

  /** The index on disk, or `undefined` when it is missing or damaged (it is then rebuilt). */
  #readIndex(): View | undefined {
    try {
      this.#indexStamp = this.#stampIndex()
      return decodeIndex(this.#fs.readFileSync(this.#base + INDEX_NAME, READ_OPTIONS))
    } catch {
      return undefined
    }
  }

  #stampIndex(): string | undefined {
    const stat = this.#fs.lstatSync(this.#base + INDEX_NAME, { bigint: true, throwIfNoEntry: false })
    return stat === undefined ? undefined : `${stat.ino}:${stat.size}:${stat.mtimeNs}`
  }

  #indexChanged(): boolean {
    try {
      return this.#stampIndex() !== this.#indexStamp
    } catch {
      return true
    }
  }

  #writeIndex(view: View): void {
    const path = this.#base + INDEX_NAME
    const temp = this.#writeTemp(path, encodeIndex(view))
    try {
      this.#fs.renameSync(temp, path)
    } catch (error) {
      this.#removeQuietly(temp)
      throw error
    }
    this.#indexStamp = this.#stampIndex()
  }

  /** Bring the view up to date with the directories (see view.ts for what is listed again). */
  #refresh(view: View): void {
    const started = Date.now()
    const seen = new Set<string>()
    for (const prefix of this.#list("")) {
      if (!PREFIX_DIR.test(prefix)) continue
      for (const shard of this.#list(prefix)) {
        if (!SHARD_DIR.test(shard)) continue
        const shardRel = `${prefix}/${shard}`
        const stat = this.#fs.lstatSync(this.#base + shardRel, { bigint: true, throwIfNoEntry: false })
        if (stat === undefined || !stat.isDirectory()) continue
        seen.add(shardRel)
        const known = view.shards.get(shardRel)
        if (known?.settled === true && known.mtimeNs === stat.mtimeNs) continue
        this.#listShard(view, shardRel, stat.mtimeNs, started)
      }
    }
    for (const shardRel of [...view.shards.keys()]) if (!seen.has(shardRel)) view.dropShard(shardRel)
  }

  #listShard(view: View, shardRel: string, mtimeNs: bigint, started: number): void {
    const shard = view.shard(shardRel)
    const present = new Set<string>()
    let temps = false
    for (const name of this.#list(shardRel)) {
      if (ENTRY_FILE.test(name)) {
        const rel = `${shardRel}/${name}`
        const stat = this.#fs.lstatSync(this.#base + rel, { throwIfNoEntry: false })
        if (stat === undefined || !stat.isFile()) continue
        present.add(rel)
        const known = view.get(rel)
        if (known === undefined) {
          // What this process did to the entry beats the file's time (and uses its clock).
          const touch = this.#pending.get(rel)
          view.set(rel, { size: stat.size, accessed: touch?.accessed ?? stat.mtimeMs, hits: 0, expires: touch?.expires ?? -1 })
        } else if (known.size !== stat.size) view.resize(known, stat.size)
      } else if (name.startsWith(TEMP_PREFIX)) temps = true
    }
    for (const rel of [...shard.entries]) if (!present.has(rel)) view.remove(rel)
    shard.mtimeNs = mtimeNs
    // What was listed is worth keeping in the index (next process skips settled directories).
    this.#dirty = true
    // A directory with writes in flight, or changed within the settle window, is listed again next time.
    shard.settled = !temps && Number(mtimeNs / 1_000_000n) < started - SETTLE_MS
  }

  /** The names in a directory of the cache (`""`: the root); nothing when it is not a real directory. */
  #list(rel: string): string[] {
    if (!this.#guard.isDirectory(rel)) return []
    return this.#listAt(this.#base + rel)
  }

  #listAt(path: string): string[] {
    try {
      return this.#fs.readdirSync(path)
    } catch (error) {
      if (isMissing(error)) return []
      throw error
    }
  }

  #removeEmptyDirectories(): void {
    for (const prefix of this.#list("")) {
      if (!PREFIX_DIR.test(prefix)) continue
      for (const shard of this.#list(prefix)) {
        if (SHARD_DIR.test(shard)) this.#removeDirectoryIfEmpty(`${prefix}/${shard}`)
      }
      this.#removeDirectoryIfEmpty(prefix)
    }
  }

  #removeDirectoryIfEmpty(rel: string): void {
    try {
      this.#fs.rmdirSync(this.#base + rel)
      this.#view?.dropShard(rel)
    } catch {
      // Not empty (ENOTEMPTY/EEXIST), or already gone.
    }
  }
}

async function readExactly(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let offset = 0
  while (offset < buffer.length) {
    const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, position + offset)
    if (bytesRead === 0) throw new CorruptEntryError("stream ends early")
    offset += bytesRead
  }
}

async function writeExactly(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let offset = 0
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset, position + offset)
    if (bytesWritten <= 0) throw Object.assign(new Error("short write"), { code: "EIO" })
    offset += bytesWritten
  }
}

/** Check every block and the trailer of a streamed entry, with one block of memory. */
async function verifyStream(handle: FileHandle, head: Buffer, trailer: Buffer, length: number): Promise<void> {
  const digest = new StreamDigest(head)
  const buffer = Buffer.allocUnsafe(STREAM_BLOCK + 8)
  let position = STREAM_HEADER
  for (let remaining = length; remaining > 0; ) {
    const n = Math.min(STREAM_BLOCK, remaining)
    const block = buffer.subarray(0, n + 8)
    await readExactly(handle, block, position)
    if (!digest.block(block.subarray(0, n)).equals(block.subarray(n))) {
      throw new CorruptEntryError(`stream block at byte ${position} fails its checksum`)
    }
    position += n + 8
    remaining -= n
  }
  if (!digest.trailer(length).equals(trailer)) throw new CorruptEntryError("stream checksum mismatch")
}

/** A readable that hands out each block only after it passed its checksum. */
function blockReader(handle: FileHandle, head: Buffer, trailer: Buffer, length: number): Readable {
  const digest = new StreamDigest(head)
  let position = STREAM_HEADER
  let remaining = length
  const stream: Readable = new Readable({
    highWaterMark: STREAM_BLOCK,
    read() {
      next().catch((error: unknown) => stream.destroy(error as Error))
    },
    destroy(error, callback) {
      handle.close().then(
        () => callback(error),
        (closeError: unknown) => callback(error ?? (closeError as Error)),
      )
    },
  })
  async function next(): Promise<void> {
    if (remaining === 0) {
      if (!digest.trailer(length).equals(trailer)) throw new CorruptEntryError("stream checksum mismatch")
      stream.push(null)
      return
    }
    const n = Math.min(STREAM_BLOCK, remaining)
    const block = Buffer.allocUnsafe(n + 8)
    await readExactly(handle, block, position)
    const data = block.subarray(0, n)
    if (!digest.block(data).equals(block.subarray(n)))
      throw new CorruptEntryError(`stream block at byte ${position} fails its checksum`)
    position += n + 8
    remaining -= n
    stream.push(data)
  }
  return stream
}
