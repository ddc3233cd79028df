/**
 * What one process knows about the entries of a cache (view.ts), what it did
 * since its last `persist()`, and how both reach the index and the journal
 * (index-files.ts).
 *
 * The hot path writes nothing: a read notes its access in memory (`touch`),
 * a write notes the entry's size and expiry (`written`). `persist()` appends
 * those notes to the journal, one batch: its cost is the build's own work.
 * The whole index is written instead when there is none yet, when the
 * journal would outgrow it, or when this process did work of the cache's
 * size anyway (it listed a good part of the directories, or removed entries
 * in bulk), so that the next process skips what this one learned.
 */
import type { FileSystem } from "./file-system.js"
import type { IndexFiles } from "./index-files.js"
import type { Change } from "./journal.js"
import { ENTRY_FILE, shardDirectories, TEMP_PREFIX } from "./layout.js"
import { type EntryRecord, SETTLE_MS, type View } from "./view.js"

/** Listing more than this share of the known entries makes the next `persist()` write the whole index. */
const LISTED_SHARE = 0.25

export interface CatalogOptions {
  readonly fs: FileSystem
  /** `<root>/`. */
  readonly base: string
  readonly files: IndexFiles
  /** The names in a directory of the cache (`""`: the root); see `EntryFiles.list`. */
  readonly list: (rel: string) => string[]
  /** Clock of access times, ms since the epoch. */
  readonly clock: () => number
}

export class Catalog {
  readonly #fs: FileSystem
  readonly #base: string
  readonly #files: IndexFiles
  readonly #list: (rel: string) => string[]
  readonly #clock: () => number
  /** The directory listing, loaded on first need (stats, persist, prune, `maxSize`). */
  #view: View | undefined
  /** What this process did since the last `persist()`, by relative path. Never written on the hot path. */
  readonly #pending = new Map<string, Change>()
  /** Entries listed since the last `persist()`. */
  #listed = 0
  /** Entries were removed in bulk since the last `persist()` (prune, sweep, eviction). */
  #removedInBulk = false

  constructor(options: CatalogOptions) {
    this.#fs = options.fs
    this.#base = options.base
    this.#files = options.files
    this.#list = options.list
    this.#clock = options.clock
  }

  /** The view if it is loaded (writes keep it up to date; nothing loads it for them). */
  get loaded(): View | undefined {
    return this.#view
  }

  /** The view, loaded (index and journal) on first need and brought up to date with the directories. */
  view(): View {
    if (this.#view === undefined) this.#view = this.#files.load()
    this.#refresh(this.#view)
    return this.#view
  }

  /** Merge into the view what other processes persisted since this one last read or wrote. */
  catchUp(view: View): void {
    this.#files.catchUp(view)
  }

  /** A read of the entry at `rel`. */
  touch(rel: string): void {
    const change = this.#pending.get(rel)
    if (change === undefined) this.#pending.set(rel, { accessed: this.#clock(), hits: 1 })
    else {
      change.accessed = this.#clock()
      change.hits++
    }
  }

  /** A write of the entry at `rel`; updates the view when it is loaded (or `load` is true). */
  written(rel: string, size: number, expires: number, load: boolean): View | undefined {
    const now = this.#clock()
    this.#pending.set(rel, { accessed: now, hits: this.#pending.get(rel)?.hits ?? 0, size, expires })
    const view = this.#view ?? (load ? this.view() : undefined)
    view?.set(rel, { size, accessed: now, hits: view.get(rel)?.hits ?? 0, expires })
    return view
  }

  /** The entry at `rel` is gone (`bulk`: one of many removed at once). */
  removed(rel: string, bulk = false): void {
    this.#view?.remove(rel)
    this.#pending.delete(rel)
    if (bulk) this.#removedInBulk = true
  }

  /** A directory is gone with its entries. */
  droppedShard(shardRel: string): void {
    this.#view?.dropShard(shardRel)
  }

  /** Last access of an entry: the view's, or this process's since its last `persist()`. */
  lastAccess(rel: string, record: EntryRecord): number {
    const change = this.#pending.get(rel)
    return change === undefined ? record.accessed : Math.max(record.accessed, change.accessed)
  }

  /** Write what this process did: one batch appended to the journal, or the whole index (see above). */
  persist(): void {
    const compact =
      this.#removedInBulk ||
      (this.#view !== undefined && this.#listed > 0 && this.#listed >= this.#view.entries.size * LISTED_SHARE) ||
      (this.#pending.size > 0 && this.#files.shouldCompact(this.#pending.size))
    if (!compact) {
      if (this.#pending.size > 0) this.#files.append(this.#pending)
      this.#pending.clear()
      return
    }
    const aside = this.#files.detachJournal()
    const view = this.view()
    this.#files.catchUp(view, aside ?? null)
    for (const [rel, change] of this.#pending) {
      const record = view.get(rel)
      if (record === undefined) continue
      record.accessed = Math.max(record.accessed, change.accessed)
      record.hits += change.hits
      if (change.expires !== undefined) record.expires = change.expires
    }
    this.#files.write(view)
    this.#files.removeAside(aside)
    this.#pending.clear()
    this.#listed = 0
    this.#removedInBulk = false
  }

  /** Forget everything (the cache was cleared, or closed). */
  reset(): void {
    this.#view = undefined
    this.#pending.clear()
    this.#listed = 0
    this.#removedInBulk = false
    this.#files.forget()
  }

  /** Bring the view up to date with the directories (see view.ts for what is listed again). */
  #refresh(view: View): void {
    const started = Date.now()
    const seen = new Set<string>()
    for (const shardRel of shardDirectories(this.#list)) {
      const stat = this.#fs.lstatSync(this.#base + shardRel, { bigint: true, throwIfNoEntry: false })
      if (stat === undefined || !stat.isDirectory()) continue
      seen.add(shardRel)
      const known = view.shards.get(shardRel)
      if (known?.settled === true && known.mtimeNs === stat.mtimeNs) continue
      this.#listShard(view, shardRel, stat.mtimeNs, started)
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
          const change = this.#pending.get(rel)
          view.set(rel, { size: stat.size, accessed: change?.accessed ?? stat.mtimeMs, hits: 0, expires: change?.expires ?? -1 })
        } else if (known.size !== stat.size) view.resize(known, stat.size)
      } else if (name.startsWith(TEMP_PREFIX)) temps = true
    }
    for (const rel of [...shard.entries]) if (!present.has(rel)) view.remove(rel)
    shard.mtimeNs = mtimeNs
    // What was listed is worth keeping in the index (next process skips settled directories).
    this.#listed += Math.max(1, present.size)
    // A directory with writes in flight, or changed within the settle window, is listed again next time.
    shard.settled = !temps && Number(mtimeNs / 1_000_000n) < started - SETTLE_MS
  }
}
