/**
 * Never following a link out of the cache.
 *
 * Every path the store opens is `fs-v1/<prefix>/<ab>/<name>`, made of hex
 * only. What could lead out of the cache is something else in place of one of
 * those names: a symbolic link, left by whoever could write the cache
 * directory (a cache restored from a CI artifact, a careless script). The
 * store never follows one:
 *
 * - An entry's file is opened with `O_NOFOLLOW` (and `O_NONBLOCK`, so that a
 *   FIFO cannot block a read) and checked with `fstat`. Anything but a regular
 *   file reads as an entry of no bytes, which the cache counts as damaged and
 *   removes: `unlink` removes a link, never its target. A put replaces it.
 * - A prefix or shard directory is checked with `lstat` (once per process and
 *   directory) before the first read, write or removal in it. A link (or
 *   anything but a directory) in its place is never entered: a read under it
 *   is a damaged entry, and a write or a removal unlinks it first.
 * - The `fs-v1` root is checked when the store opens: a link in its place is
 *   replaced by a directory, or, in read-only mode, never entered.
 * - Listings (`entries`, statistics, `prune`, `clean`) enter only what `lstat`
 *   calls a directory, and count only what it calls a regular file.
 *
 * A directory found real stays trusted for the life of the process: someone
 * who swaps one for a link while a build runs could as well write entries.
 */
import type { Stats } from "node:fs"
import { errorCode } from "@sitecache/core"
import { type FileSystem, isMissing } from "./file-system.js"
import { prefixOf, READ_FLAGS, shardOf } from "./layout.js"

/** What a read of something that is not a regular file returns: an entry of no bytes, which no check passes. */
export const NO_BYTES: Uint8Array = new Uint8Array(0)

/** The directories of an entry: real, not made yet, or something else in place of one. */
export type DirectoryState = "ok" | "missing" | "linked"

/**
 * `open` refused to open something without following it: a symbolic link
 * (`ELOOP`; `EMLINK` on FreeBSD, `EFTYPE` on NetBSD) or a directory opened
 * for writing (`EISDIR`).
 */
export function isNotAFile(error: unknown): boolean {
  const code = errorCode(error)
  return code === "ELOOP" || code === "EMLINK" || code === "EFTYPE" || code === "EISDIR"
}

/** What lstat says is at a path that is not a regular file, for messages. */
export function describeNonFile(stat: Stats | undefined): string {
  if (stat === undefined) return "nothing"
  if (stat.isSymbolicLink()) return "a symbolic link"
  if (stat.isDirectory()) return "a directory"
  if (stat.isFIFO()) return "a FIFO"
  return "not a regular file"
}

/**
 * The bytes of the regular file at `path`, never through a symbolic link:
 * `undefined` when there is nothing, `null` when something else is there (a
 * link, a directory, a FIFO). The same system calls as `readFileSync`.
 */
export function readRegularFile(fs: FileSystem, path: string): Buffer | undefined | null {
  let fd: number
  try {
    fd = fs.openSync(path, READ_FLAGS)
  } catch (error) {
    if (isMissing(error)) return undefined
    if (isNotAFile(error)) return null
    throw error
  }
  try {
    const stat = fs.fstatSync(fd)
    if (!stat.isFile()) return null
    const bytes = Buffer.allocUnsafe(stat.size)
    let offset = 0
    while (offset < bytes.length) {
      const n = fs.readSync(fd, bytes, offset, bytes.length - offset, offset)
      if (n === 0) break
      offset += n
    }
    return offset === bytes.length ? bytes : bytes.subarray(0, offset)
  } finally {
    fs.closeSync(fd)
  }
}

/** The prefix and shard directories the store may enter, checked without following links. */
export class DirectoryGuard {
  readonly #fs: FileSystem
  /** `<root>/`. */
  readonly #base: string
  /** Shard directories (`<prefix>/<ab>`) found real, with their prefix directory. */
  readonly #real = new Set<string>()
  /** Something else than a directory is where the root should be (read-only mode: nothing is entered). */
  #rootLinked = false

  constructor(fs: FileSystem, base: string) {
    this.#fs = fs
    this.#base = base
  }

  /** The root is not a directory and may not be replaced (read-only): nothing below it is entered. */
  refuseRoot(): void {
    this.#rootLinked = true
  }

  /** Forget what was checked (the root was replaced by `clear()`). */
  forget(): void {
    this.#real.clear()
  }

  /** The state of the prefix and shard directories of an entry path (`<prefix>/<ab>/<name>`). */
  check(rel: string): DirectoryState {
    const shard = shardOf(rel)
    if (this.#real.has(shard)) return "ok"
    if (this.#rootLinked) return "linked"
    for (const dir of [prefixOf(rel), shard]) {
      const stat = this.#fs.lstatSync(this.#base + dir, { throwIfNoEntry: false })
      if (stat === undefined) return "missing"
      if (!stat.isDirectory()) return "linked"
    }
    this.#real.add(shard)
    return "ok"
  }

  /** Unlink whatever is in place of a directory of `rel` (never entering it); `true` when something was. */
  unlinkLinks(rel: string): boolean {
    if (this.#rootLinked) return false
    for (const dir of [prefixOf(rel), shardOf(rel)]) {
      const path = this.#base + dir
      const stat = this.#fs.lstatSync(path, { throwIfNoEntry: false })
      if (stat === undefined) return false
      if (stat.isDirectory()) continue
      try {
        this.#fs.unlinkSync(path)
      } catch (error) {
        if (!isMissing(error)) throw error
      }
      return true
    }
    return false
  }

  /** Whether a listing may enter `rel` (`""`: the root; a prefix or shard directory): a real directory. */
  isDirectory(rel: string): boolean {
    if (rel === "") return !this.#rootLinked
    if (this.#rootLinked) return false
    return this.#fs.lstatSync(this.#base + rel, { throwIfNoEntry: false })?.isDirectory() === true
  }
}
