/**
 * `FsStore`: the filesystem backend driver. Its parts, one job each:
 * layout.ts (the files it keeps, and the one walk of its directories),
 * guard.ts (never following a link), entry-files.ts (writing and removing an
 * entry's file), catalog.ts (what is known of the entries, and `persist()`
 * through index-files.ts, index-file.ts and journal.ts), maintenance.ts
 * (eviction, prune, sweep, clean), stream-io.ts (streamed entries).
 *
 * Hot path. A read is one read of the entry's file (open, fstat, read,
 * close, as `readFileSync`), never through a symbolic link; all checks happen
 * in `StoreCache`. Its access is noted in memory only and reaches the journal
 * on `persist()`. A write is a temporary file linked (put-if-absent) or
 * renamed (replace) to the entry's name (see entry-files.ts).
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
import { isAbsolute, relative, resolve } from "node:path"
import type { Readable } from "node:stream"
import {
  BadOptionError,
  describeCause,
  type EntryId,
  type EntryMeta,
  Key,
  type PruneOptions,
  type PruneResult,
  type Store,
  type StoredEntry,
  type StoreStats,
  type SweepOptions,
} from "@sitecache/core"
import { Catalog } from "./catalog.js"
import { EntryFiles, valueExpiry } from "./entry-files.js"
import { type FileSystem, isMissing, nodeFileSystem } from "./file-system.js"
import { DirectoryGuard, describeNonFile, NO_BYTES, readRegularFile } from "./guard.js"
import { IndexFiles } from "./index-files.js"
import {
  CACHEDIR_TAG,
  CACHEDIR_TAG_TEXT,
  DIR_MODE,
  ENTRY_FILE,
  entryPath,
  FILE_MODE,
  keyHexOf,
  ROOT_NAME,
  STREAM_SUFFIX,
  shardDirectories,
  TEMP_FLAGS,
  TRASH_PREFIX,
} from "./layout.js"
import { clean, evictLeastRecentlyUsed, type Housekeeper, prune, sweep } from "./maintenance.js"
import { DEFAULT_TEMP_MAX_AGE } from "./options.js"
import {
  type EntryWriteStream,
  type OpenForReadOptions,
  type OpenForWriteOptions,
  openStreamForRead,
  openStreamForWrite,
} from "./stream-io.js"

export type { EntryWriteStream, OpenForReadOptions, OpenForWriteOptions } from "./stream-io.js"

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

const LOW_WATER = 0.9

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
  /** `root` + "/": entry paths are `#base + rel`. */
  readonly #base: string
  /** Which directories may be entered (see guard.ts). */
  readonly #guard: DirectoryGuard
  readonly #files: EntryFiles
  readonly #indexFiles: IndexFiles
  readonly #catalog: Catalog
  readonly #keeper: Housekeeper
  #evictions = 0
  /** A removal that failed during eviction; reported by the next `persist()`. */
  #evictionError: unknown

  constructor(options: FsStoreOptions) {
    this.dir = resolve(options.dir)
    this.root = `${this.dir}/${ROOT_NAME}`
    this.#base = `${this.root}/`
    this.maxSize = options.maxSize
    this.fsync = options.fsync ?? false
    this.tempMaxAge = options.tempMaxAge ?? DEFAULT_TEMP_MAX_AGE
    this.readOnly = options.readOnly ?? false
    this.#fs = options.fileSystem ?? nodeFileSystem
    this.name = `fs (${displayPath(this.dir)})`
    this.#guard = new DirectoryGuard(this.#fs, this.#base)
    this.#files = new EntryFiles(this.#fs, this.#base, this.fsync, this.#guard)
    this.#indexFiles = new IndexFiles({
      fs: this.#fs,
      base: this.#base,
      fsync: this.fsync,
      writeTemp: (path, bytes) => this.#files.writeTemp(path, bytes),
    })
    this.#catalog = new Catalog({
      fs: this.#fs,
      base: this.#base,
      files: this.#indexFiles,
      list: (rel) => this.#files.list(rel),
      clock: options.clock ?? Date.now,
    })
    this.#keeper = {
      catalog: this.#catalog,
      files: this.#files,
      dir: this.dir,
      removeEntry: (rel) => this.#removeEntry(rel, true),
    }
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
    this.#catalog.touch(rel)
    return bytes
  }

  getMany(ids: readonly EntryId[]): (Uint8Array | undefined)[] {
    return ids.map((id) => this.get(id))
  }

  add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): boolean {
    if (this.maxSize !== undefined && bytes.length > this.maxSize) return false
    const rel = entryPath(id)
    const path = this.#base + rel
    this.#files.enterable(rel)
    // No existence check first: a put is nearly always of a new entry (a build puts what it missed),
    // and `link` tells whether one exists at no extra cost.
    const added = this.#files.commit(this.#files.writeTemp(path, bytes), path, now, valueExpiry)
    if (added) this.#recordWrite(rel, bytes.length, meta.expires)
    return added
  }

  addMany(entries: readonly (readonly [EntryId, Uint8Array, EntryMeta])[], now: number): boolean[] {
    return entries.map(([id, bytes, meta]) => this.add(id, bytes, meta, now))
  }

  set(id: EntryId, bytes: Uint8Array, meta: EntryMeta): void {
    const rel = entryPath(id)
    const path = this.#base + rel
    this.#files.enterable(rel)
    this.#files.replace(this.#files.writeTemp(path, bytes), path)
    this.#recordWrite(rel, bytes.length, meta.expires)
  }

  /** Removes the entry and a streamed entry of the same key. */
  delete(id: EntryId): boolean {
    const rel = entryPath(id)
    const value = this.#removeEntry(rel, false)
    const stream = this.#removeEntry(rel + STREAM_SUFFIX, false)
    return value || stream
  }

  deleteMany(ids: readonly EntryId[]): number {
    let removed = 0
    for (const id of ids) if (this.delete(id)) removed++
    return removed
  }

  // ---------------------------------------------------------------- whole cache

  stats(prefix: Key): StoreStats {
    const view = this.#catalog.view()
    const orphaned = view.orphaned(prefix.hex)
    return {
      size: view.size,
      entryCount: view.entries.size,
      evictions: this.#evictions,
      orphanedCount: orphaned.count,
      orphanedSize: orphaned.size,
    }
  }

  /** Record what this process read and wrote (see catalog.ts); report a failed eviction. */
  persist(): void {
    if (this.readOnly) return
    const evictionError = this.#evictionError
    this.#evictionError = undefined
    this.#catalog.persist()
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
    this.#catalog.reset()
    this.#guard.forget()
    this.#fs.mkdirSync(this.root, { recursive: true, mode: DIR_MODE })
    this.#fs.rmSync(trash, { recursive: true, force: true })
  }

  close(): void {
    this.#catalog.reset()
  }

  /** Every value entry (not streamed ones), read from the files; for `verify` and migrations. */
  async *entries(): AsyncGenerator<StoredEntry> {
    for (const shardRel of shardDirectories((rel) => this.#files.list(rel))) {
      const prefix = Key.fromHex(shardRel.slice(0, 32))
      for (const name of this.#files.list(shardRel)) {
        if (!ENTRY_FILE.test(name) || name.endsWith(STREAM_SUFFIX)) continue
        const rel = `${shardRel}/${name}`
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

  /** See maintenance.ts. */
  prune(options: PruneOptions): PruneResult {
    const { evicted, error, ...result } = prune(this.#keeper, options, this.tempMaxAge)
    this.#evictions += evicted
    if (error !== undefined) this.#evictionError ??= error
    return result
  }

  /** See maintenance.ts. */
  sweep(options: SweepOptions): PruneResult {
    return sweep(this.#keeper, options)
  }

  /**
   * Remove temporary files left by killed writers (and the remains of an
   * interrupted `clear()`) that are older than `olderThan` ms (default: the
   * `tempMaxAge` option); `olderThan: 0` removes every one, whatever its
   * timestamp says. Returns how many were removed.
   */
  clean(options: { olderThan?: number } = {}): number {
    return clean(this.#keeper, options.olderThan ?? this.tempMaxAge)
  }

  // ---------------------------------------------------------------- streams

  /** A stream of a streamed entry's bytes, or `undefined` (see stream-io.ts). */
  async openForRead(id: EntryId, now: number, options: OpenForReadOptions = {}): Promise<Readable | undefined> {
    const rel = entryPath(id) + STREAM_SUFFIX
    return openStreamForRead(this.#files, rel, now, options, () => this.#catalog.touch(rel))
  }

  /** A stream whose bytes become a streamed entry when it ends (see stream-io.ts). */
  openForWrite(id: EntryId, meta: EntryMeta, now: number, options: OpenForWriteOptions = {}): EntryWriteStream {
    const rel = entryPath(id) + STREAM_SUFFIX
    return openStreamForWrite(this.#files, rel, meta, now, options, (size) => this.#recordWrite(rel, size, meta.expires))
  }

  // ---------------------------------------------------------------- internals

  #removeEntry(rel: string, bulk: boolean): boolean {
    const removed = this.#files.remove(rel)
    this.#catalog.removed(rel, bulk && removed)
    return removed
  }

  #recordWrite(rel: string, size: number, expires: number): void {
    const view = this.#catalog.written(rel, size, expires, this.maxSize !== undefined)
    if (view === undefined || this.maxSize === undefined || view.size <= this.maxSize) return
    // Count what other processes wrote too, then make room in one batch.
    const fresh = this.#catalog.view()
    if (fresh.size <= this.maxSize) return
    const { evicted, error } = evictLeastRecentlyUsed(this.#keeper, fresh, Math.floor(this.maxSize * LOW_WATER))
    this.#evictions += evicted
    if (error !== undefined) this.#evictionError ??= error
  }
}
