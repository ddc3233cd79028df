/**
 * The store: a map of entries held in memory, read from one JSON file at
 * open and written whole by `persist()` (a temporary file, then a rename, so
 * a reader never sees half a file). Stores of one file in one process share
 * the map, as connections to one database do.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import {
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

interface Entry {
  readonly prefix: string
  readonly key: string
  readonly bytes: Uint8Array
  readonly expires: number
  accessed: number
}

interface StoredLine {
  readonly prefix: string
  readonly key: string
  readonly bytes: string
  readonly expires: number
  readonly accessed: number
}

export interface JsonFileStoreOptions {
  readonly readOnly?: boolean
  readonly clock?: () => number
}

function slot(id: EntryId): string {
  return id.prefix.hex + id.key.hex
}

/** The entries of a file, shared by every store open on it in this process. */
interface Shared {
  readonly entries: Map<string, Entry>
  refs: number
  dirty: boolean
  /** The file's modification time and size when this process last read or wrote it. */
  seen: string
}

function stamp(path: string): string {
  const stat = statSync(path, { throwIfNoEntry: false })
  return stat === undefined ? "" : `${stat.mtimeMs}:${stat.size}`
}

/** What the file at `path` holds; `undefined` when there is no file. */
function read(path: string): Map<string, Entry> | undefined {
  let lines: StoredLine[]
  try {
    lines = JSON.parse(readFileSync(path, "utf8")) as StoredLine[]
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined
    throw error
  }
  return new Map(lines.map((line) => [line.prefix + line.key, { ...line, bytes: Buffer.from(line.bytes, "base64") }]))
}

const opened = new Map<string, Shared>()

/** A copy: a `Buffer`'s `slice` is a view. */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

export class JsonFileStore implements Store {
  readonly name: string
  readonly #path: string
  readonly #shared: Shared
  readonly #entries: Map<string, Entry>
  readonly #readOnly: boolean
  readonly #clock: () => number
  #closed = false

  private constructor(path: string, shared: Shared, options: JsonFileStoreOptions) {
    this.name = `jsonfile (${path})`
    this.#path = path
    this.#shared = shared
    this.#entries = shared.entries
    this.#readOnly = options.readOnly === true
    this.#clock = options.clock ?? Date.now
    shared.refs++
  }

  /** The store of the file at `path`; `undefined` when there is none and `create` is false. */
  static open(path: string, create: boolean, options: JsonFileStoreOptions = {}): JsonFileStore | undefined {
    const shared = opened.get(path)
    if (shared !== undefined) {
      // Another process persisted since: add what it wrote.
      const seen = stamp(path)
      if (seen !== shared.seen) {
        for (const [name, entry] of read(path) ?? []) if (!shared.entries.has(name)) shared.entries.set(name, entry)
        shared.seen = seen
      }
      return new JsonFileStore(path, shared, options)
    }
    const seen = stamp(path)
    const entries = read(path)
    if (entries === undefined && !create) return undefined
    const fresh: Shared = { entries: entries ?? new Map(), refs: 0, dirty: false, seen }
    opened.set(path, fresh)
    return new JsonFileStore(path, fresh, options)
  }

  get(id: EntryId): Uint8Array | undefined {
    const entry = this.#entries.get(slot(id))
    if (entry === undefined) return undefined
    entry.accessed = this.#clock()
    return copy(entry.bytes)
  }

  add(id: EntryId, bytes: Uint8Array, meta: EntryMeta, now: number): boolean {
    const existing = this.#entries.get(slot(id))
    if (existing !== undefined && (existing.expires === 0 || existing.expires > now)) return false
    this.set(id, bytes, meta)
    return true
  }

  set(id: EntryId, bytes: Uint8Array, meta: EntryMeta): void {
    this.#entries.set(slot(id), {
      prefix: id.prefix.hex,
      key: id.key.hex,
      bytes: copy(bytes),
      expires: meta.expires,
      accessed: this.#clock(),
    })
    this.#shared.dirty = true
  }

  delete(id: EntryId): boolean {
    const removed = this.#entries.delete(slot(id))
    if (removed) this.#shared.dirty = true
    return removed
  }

  stats(prefix: Key): StoreStats {
    let size = 0
    let orphanedCount = 0
    let orphanedSize = 0
    for (const entry of this.#entries.values()) {
      size += entry.bytes.length
      if (entry.prefix !== prefix.hex) {
        orphanedCount++
        orphanedSize += entry.bytes.length
      }
    }
    return { size, entryCount: this.#entries.size, orphanedCount, orphanedSize }
  }

  sweep(options: SweepOptions): PruneResult {
    const keep = new Set(options.keep.map((prefix) => prefix.hex))
    let removedCount = 0
    let removedSize = 0
    for (const [name, entry] of this.#entries) {
      if (keep.has(entry.prefix) || entry.accessed >= options.unusedSince) continue
      this.#entries.delete(name)
      removedCount++
      removedSize += entry.bytes.length
    }
    if (removedCount > 0) this.#shared.dirty = true
    return { removedCount, removedSize }
  }

  /** Expired entries always; then orphans, entries unused for `olderThan`, and the least recently used past `maxSize`. */
  prune(options: PruneOptions): PruneResult {
    if (this.#readOnly) return { removedCount: 0, removedSize: 0 }
    let removedCount = 0
    let removedSize = 0
    const remove = (name: string, entry: Entry) => {
      this.#entries.delete(name)
      removedCount++
      removedSize += entry.bytes.length
    }
    for (const [name, entry] of this.#entries) {
      const expired = entry.expires !== 0 && entry.expires <= options.now
      const orphan = options.orphans === true && entry.prefix !== options.prefix.hex
      const unused = options.olderThan !== undefined && entry.accessed < options.now - options.olderThan
      if (expired || orphan || unused) remove(name, entry)
    }
    if (options.maxSize !== undefined) {
      let size = 0
      for (const entry of this.#entries.values()) size += entry.bytes.length
      const byUse = [...this.#entries].sort(([, a], [, b]) => a.accessed - b.accessed)
      for (const [name, entry] of byUse) {
        if (size <= options.maxSize) break
        size -= entry.bytes.length
        remove(name, entry)
      }
    }
    if (removedCount > 0) this.#shared.dirty = true
    return { removedCount, removedSize }
  }

  async *entries(): AsyncIterable<StoredEntry> {
    for (const entry of [...this.#entries.values()]) {
      yield { id: { prefix: Key.fromHex(entry.prefix), key: Key.fromHex(entry.key) }, bytes: copy(entry.bytes) }
    }
  }

  persist(): void {
    if (this.#readOnly || !this.#shared.dirty) return
    const lines: StoredLine[] = [...this.#entries.values()].map((entry) => ({
      ...entry,
      bytes: Buffer.from(entry.bytes).toString("base64"),
    }))
    mkdirSync(dirname(this.#path), { recursive: true })
    const temporary = `${this.#path}.${process.pid}.tmp`
    try {
      writeFileSync(temporary, JSON.stringify(lines))
      renameSync(temporary, this.#path)
    } finally {
      rmSync(temporary, { force: true })
    }
    this.#shared.dirty = false
    this.#shared.seen = stamp(this.#path)
  }

  clear(): void {
    this.#entries.clear()
    this.#shared.dirty = true
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (--this.#shared.refs === 0) opened.delete(this.#path)
  }
}
