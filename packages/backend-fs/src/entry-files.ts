/**
 * The files of entries: writing one (a temporary file, then `link` or
 * `rename` to its name), removing one, reading an expiry from a header, and
 * listing the cache's directories, never through a symbolic link (guard.ts).
 *
 * A write is a temporary file (opened exclusively, `0600`, never through a
 * symlink) written in the entry's directory, then `link`ed to the entry's
 * name: `link` fails with `EEXIST` when an entry is already there, which makes
 * put-if-absent atomic between processes without any lock. An existing entry
 * that has expired (or whose header is unreadable) is replaced by `rename`.
 * The temporary file is removed in `finally`, whatever happens.
 */
import { randomUUID } from "node:crypto"
import type { FileHandle } from "node:fs/promises"
import { errorCode, HEADER_SIZE, readEntryHeader } from "@sitecache/core"
import { type FileSystem, isLinkUnsupported, isMissing } from "./file-system.js"
import { type DirectoryGuard, isNotAFile } from "./guard.js"
import { DIR_MODE, FILE_MODE, READ_FLAGS, TEMP_FLAGS, TEMP_PREFIX } from "./layout.js"
import { decodeStreamHeader } from "./stream.js"

/** Enough bytes for `readEntryHeader` and for a stream header. */
const HEAD_PROBE = HEADER_SIZE + 8

/** Reads the expiry from the first bytes of an entry file (throws when they are not a header). */
export type ExpiryReader = (head: Buffer) => number
export const valueExpiry: ExpiryReader = (head) => readEntryHeader(head).expires
export const streamExpiry: ExpiryReader = (head) => decodeStreamHeader(head).expires

export class EntryFiles {
  readonly fs: FileSystem
  /** `<root>/`: entry paths are `base + rel`. */
  readonly base: string
  readonly fsync: boolean
  readonly guard: DirectoryGuard

  constructor(fs: FileSystem, base: string, fsync: boolean, guard: DirectoryGuard) {
    this.fs = fs
    this.base = base
    this.fsync = fsync
    this.guard = guard
  }

  /** Write `bytes` to a new temporary file beside `path`; returns its path. */
  writeTemp(path: string, bytes: Uint8Array): string {
    const directory = path.slice(0, path.lastIndexOf("/"))
    const temp = `${directory}/${TEMP_PREFIX}${randomUUID()}`
    const fd = this.#openTemp(temp, directory)
    try {
      try {
        let offset = 0
        while (offset < bytes.length) {
          const written = this.fs.writeSync(fd, bytes, offset, bytes.length - offset)
          if (written <= 0) throw Object.assign(new Error(`short write to ${temp}`), { code: "EIO" })
          offset += written
        }
        if (this.fsync) this.fs.fsyncSync(fd)
      } finally {
        this.fs.closeSync(fd)
      }
    } catch (error) {
      this.removeQuietly(temp)
      throw error
    }
    return temp
  }

  /** A new temporary file's handle, for a streamed write. */
  async openTempHandle(temp: string, directory: string): Promise<FileHandle> {
    try {
      return await this.fs.promises.open(temp, TEMP_FLAGS, FILE_MODE)
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error
      this.#makeDirectory(directory)
      return await this.fs.promises.open(temp, TEMP_FLAGS, FILE_MODE)
    }
  }

  /**
   * Give the complete temporary file its entry's name, put-if-absent: `link`
   * fails with `EEXIST` when an entry is there; a live one is kept, an
   * expired or unreadable one is replaced by `rename`. The temporary file is
   * always gone afterwards.
   */
  commit(temp: string, path: string, now: number, expiryOf: ExpiryReader): boolean {
    let renamed = false
    try {
      try {
        this.fs.linkSync(temp, path)
        this.syncDirectory(path)
        return true
      } catch (error) {
        // Filesystems without hard links get check-then-rename: a race may then replace a live entry with the same value.
        if (errorCode(error) !== "EEXIST" && !isLinkUnsupported(error)) throw error
      }
      if (this.live(path, now, expiryOf)) return false
      this.clearDirectoryAt(path)
      this.fs.renameSync(temp, path)
      renamed = true
      this.syncDirectory(path)
      return true
    } finally {
      if (!renamed) this.removeQuietly(temp)
    }
  }

  /** Replace whatever is at `path` with the complete temporary file. */
  replace(temp: string, path: string): void {
    try {
      this.clearDirectoryAt(path)
      this.fs.renameSync(temp, path)
    } catch (error) {
      this.removeQuietly(temp)
      throw error
    }
    this.syncDirectory(path)
  }

  syncDirectory(path: string): void {
    // Windows cannot open a directory to flush it; NTFS journals the link itself.
    if (!this.fsync || process.platform === "win32") return
    const fd = this.fs.openSync(path.slice(0, path.lastIndexOf("/")), "r")
    try {
      this.fs.fsyncSync(fd)
    } finally {
      this.fs.closeSync(fd)
    }
  }

  /** Make the directories of `rel` safe to write in: unlink a link in place of one (see guard.ts). */
  enterable(rel: string): void {
    if (this.guard.check(rel) === "linked") this.guard.unlinkLinks(rel)
  }

  /**
   * Remove a directory found where an entry's file belongs (`rename` and
   * `unlink` refuse to replace one), with what it holds: `rmSync` unlinks the
   * links inside, never following them. `true` when there was one.
   */
  clearDirectoryAt(path: string): boolean {
    const stat = this.fs.lstatSync(path, { throwIfNoEntry: false })
    if (stat === undefined || !stat.isDirectory()) return false
    this.fs.rmSync(path, { recursive: true, force: true })
    return true
  }

  removeQuietly(path: string): void {
    try {
      this.fs.unlinkSync(path)
    } catch {
      // Already gone, or the disk refuses: `clean()` removes it later.
    }
  }

  /**
   * Unlink one entry file (or whatever is in its place, never following it);
   * `true` when something was there. Under a link in place of a directory,
   * the link is what is removed.
   */
  remove(rel: string): boolean {
    const directories = this.guard.check(rel)
    if (directories !== "ok") return directories === "linked" && this.guard.unlinkLinks(rel)
    try {
      this.fs.unlinkSync(this.base + rel)
    } catch (error) {
      if (isMissing(error)) return false
      // A directory in place of the entry (unlink refuses one) goes with what it holds.
      if (!this.clearDirectoryAt(this.base + rel)) throw error
    }
    return true
  }

  /** Whether a live entry is at `path`: there, readable, and not expired at `now`. */
  live(path: string, now: number, expiryOf: ExpiryReader): boolean {
    const expires = this.readExpiry(path, expiryOf)
    return expires !== undefined && (expires === 0 || expires > now)
  }

  /** The expiry in an entry's header; `undefined` when it is missing or its header is unreadable. */
  readExpiry(path: string, expiryOf: ExpiryReader): number | undefined {
    let fd: number
    try {
      fd = this.fs.openSync(path, READ_FLAGS)
    } catch (error) {
      if (isMissing(error) || isNotAFile(error)) return undefined
      throw error
    }
    try {
      if (!this.fs.fstatSync(fd).isFile()) return undefined
      const head = Buffer.alloc(HEAD_PROBE)
      const n = this.fs.readSync(fd, head, 0, HEAD_PROBE, 0)
      try {
        return expiryOf(head.subarray(0, n))
      } catch {
        return undefined
      }
    } finally {
      this.fs.closeSync(fd)
    }
  }

  /** The names in a directory of the cache (`""`: the root); nothing when it is not a real directory. */
  list(rel: string): string[] {
    if (!this.guard.isDirectory(rel)) return []
    return this.listAt(this.base + rel)
  }

  listAt(path: string): string[] {
    try {
      return this.fs.readdirSync(path)
    } catch (error) {
      if (isMissing(error)) return []
      throw error
    }
  }

  #openTemp(temp: string, directory: string): number {
    try {
      return this.fs.openSync(temp, TEMP_FLAGS, FILE_MODE)
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error
      this.#makeDirectory(directory)
      return this.fs.openSync(temp, TEMP_FLAGS, FILE_MODE)
    }
  }

  /**
   * Create a shard directory (and its prefix directory when missing). Tried
   * without `recursive` first: a recursive `mkdir` reports `ENOENT` where the
   * real cause is `EROFS` or `EACCES`, and the warning should name the cause.
   */
  #makeDirectory(directory: string): void {
    try {
      this.fs.mkdirSync(directory, { mode: DIR_MODE })
    } catch (error) {
      const code = errorCode(error)
      if (code === "EEXIST") return
      if (code !== "ENOENT") throw error
      this.fs.mkdirSync(directory.slice(0, directory.lastIndexOf("/")), { recursive: true, mode: DIR_MODE })
      try {
        this.fs.mkdirSync(directory, { mode: DIR_MODE })
      } catch (again) {
        if (errorCode(again) !== "EEXIST") throw again
      }
    }
  }
}
