/**
 * Reading and writing the index (index-file.ts) and its journal (journal.ts)
 * for one process: what it has applied of each, so that catching up with
 * other processes applies only what is new.
 */
import { randomUUID } from "node:crypto"
import { constants } from "node:fs"
import { type FileSystem, isMissing } from "./file-system.js"
import { decodeIndex, encodeIndex } from "./index-file.js"
import { type Change, encodeBatch, replayJournal } from "./journal.js"
import { FILE_MODE, INDEX_NAME, JOURNAL_NAME, READ_FLAGS, TEMP_PREFIX } from "./layout.js"
import { View } from "./view.js"

/** `readFileSync` takes numeric flags (Node passes them to `open`), though its types say string. */
const READ_OPTIONS = { flag: READ_FLAGS as unknown as string }
const APPEND_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | (constants.O_NOFOLLOW ?? 0)
/** A journal below this many bytes is never compacted (below about 1,000 records, appending is as cheap as anything). */
const JOURNAL_MIN = 64 * 1024

export interface IndexFilesOptions {
  readonly fs: FileSystem
  /** `<root>/`. */
  readonly base: string
  readonly fsync: boolean
  /** Write bytes to a new temporary file beside `path`; returns its path. */
  readonly writeTemp: (path: string, bytes: Uint8Array) => string
}

export class IndexFiles {
  readonly #fs: FileSystem
  readonly #fsync: boolean
  readonly #index: string
  readonly #journal: string
  readonly #writeTemp: (path: string, bytes: Uint8Array) => string
  /** Identity (inode, size, mtime) of the index file as this process last read or wrote it. */
  #indexStamp: string | undefined
  /** The journal this process applied (its inode), and up to which byte. */
  #applied: { ino: bigint; offset: number } | undefined
  /**
   * A replay stopped before the journal's end: a damaged batch (a writer that
   * ran out of space mid-append), after which no batch is read, or one being
   * appended. Either way the next `persist()` compacts.
   */
  #journalDamaged = false

  constructor(options: IndexFilesOptions) {
    this.#fs = options.fs
    this.#fsync = options.fsync
    this.#index = `${options.base}${INDEX_NAME}`
    this.#journal = `${options.base}${JOURNAL_NAME}`
    this.#writeTemp = options.writeTemp
  }

  /** The persisted view: the index (empty when missing or damaged, it is then rebuilt) and the journal. */
  load(): View {
    const view = this.#readIndex() ?? new View()
    this.#applied = undefined
    this.#replay(view, this.#journal)
    return view
  }

  /**
   * Bring `view` up to what other processes persisted since this one last
   * read or wrote: their index's access times and hits (merged, never
   * lowered), then the journal from where this process left it (`journal`:
   * the journal's path, where it was renamed to, or `null`: none).
   */
  catchUp(view: View, journal: string | null = this.#journal): void {
    if (this.#indexChanged()) {
      const onDisk = this.#readIndex()
      if (onDisk !== undefined) {
        for (const [rel, record] of view.entries) {
          const stored = onDisk.get(rel)
          if (stored === undefined) continue
          record.accessed = Math.max(record.accessed, stored.accessed)
          record.hits = Math.max(record.hits, stored.hits)
          if (record.expires < 0) record.expires = stored.expires
        }
      }
    }
    if (journal !== null) this.#replay(view, journal)
  }

  /**
   * Whether the next `persist()` should write the whole index rather than
   * append `pending` changes: there is no index yet, or the journal would
   * outgrow it (so a compaction costs no more than the appends before it).
   */
  shouldCompact(pendingCount: number): boolean {
    const index = this.#fs.lstatSync(this.#index, { throwIfNoEntry: false })
    if (index === undefined || this.#journalDamaged) return true
    const journal = this.#fs.lstatSync(this.#journal, { throwIfNoEntry: false })?.size ?? 0
    return journal + pendingCount * 61 > Math.max(JOURNAL_MIN, index.size)
  }

  /** Append one batch of changes to the journal, in one write. */
  append(changes: ReadonlyMap<string, Change>): void {
    const bytes = encodeBatch(changes)
    const fd = this.#fs.openSync(this.#journal, APPEND_FLAGS, FILE_MODE)
    try {
      let offset = 0
      while (offset < bytes.length) {
        const written = this.#fs.writeSync(fd, bytes, offset, bytes.length - offset)
        if (written <= 0) throw Object.assign(new Error(`short write to ${this.#journal}`), { code: "EIO" })
        offset += written
      }
      if (this.#fsync) this.#fs.fsyncSync(fd)
    } catch (error) {
      // Part of the batch may be in the journal, and no batch after it would be read.
      this.#journalDamaged = true
      throw error
    } finally {
      this.#fs.closeSync(fd)
    }
  }

  /**
   * Rename the journal aside (appends from now on start a new one) and
   * return where it went, or `undefined` when there is none. The caller
   * applies it (`catchUp(view, aside)`), writes the index, then `removeAside`.
   */
  detachJournal(): string | undefined {
    const aside = `${this.#journal.slice(0, -JOURNAL_NAME.length)}${TEMP_PREFIX}${JOURNAL_NAME}-${randomUUID()}`
    try {
      this.#fs.renameSync(this.#journal, aside)
      return aside
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
  }

  removeAside(aside: string | undefined): void {
    if (aside === undefined) return
    try {
      this.#fs.unlinkSync(aside)
    } catch {
      // `clean()` removes it later, as any temporary file.
    }
  }

  /** Write `view` as the new index (temporary file, then rename). */
  write(view: View): void {
    const temp = this.#writeTemp(this.#index, encodeIndex(view))
    try {
      this.#fs.renameSync(temp, this.#index)
    } catch (error) {
      try {
        this.#fs.unlinkSync(temp)
      } catch {
        // `clean()` removes it later.
      }
      throw error
    }
    this.#indexStamp = this.#stampIndex()
    this.#applied = undefined
    this.#journalDamaged = false
  }

  /** Forget what was read (the root was replaced by `clear()`). */
  forget(): void {
    this.#indexStamp = undefined
    this.#applied = undefined
    this.#journalDamaged = false
  }

  #readIndex(): View | undefined {
    try {
      this.#indexStamp = this.#stampIndex()
      return decodeIndex(this.#fs.readFileSync(this.#index, READ_OPTIONS))
    } catch {
      return undefined
    }
  }

  #stampIndex(): string | undefined {
    const stat = this.#fs.lstatSync(this.#index, { bigint: true, throwIfNoEntry: false })
    return stat === undefined ? undefined : `${stat.ino}:${stat.size}:${stat.mtimeNs}`
  }

  #indexChanged(): boolean {
    try {
      return this.#stampIndex() !== this.#indexStamp
    } catch {
      return true
    }
  }

  /** Apply the journal at `path` from where this process left it (from its start if it is another file). */
  #replay(view: View, path: string): void {
    let fd: number
    try {
      fd = this.#fs.openSync(path, READ_FLAGS)
    } catch {
      return
    }
    try {
      const stat = this.#fs.fstatSync(fd, { bigint: true })
      if (!stat.isFile()) return
      const from = this.#applied?.ino === stat.ino ? this.#applied.offset : 0
      const bytes = Buffer.allocUnsafe(Number(stat.size))
      let length = 0
      while (length < bytes.length) {
        const n = this.#fs.readSync(fd, bytes, length, bytes.length - length, length)
        if (n === 0) break
        length += n
      }
      if (from > length) return
      const offset = replayJournal(bytes.subarray(0, length), view, from)
      this.#applied = { ino: stat.ino, offset }
      if (offset < length) this.#journalDamaged = true
    } catch {
      // An unreadable journal is only lost recency.
    } finally {
      this.#fs.closeSync(fd)
    }
  }
}
