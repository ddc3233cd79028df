/**
 * `FileHasher`: content hashes of the files `memo`'s computations depend on
 * (`ctx.dependOn(path)`), read again only when a file may have changed.
 */
import { constants, type Stats, statSync } from "node:fs"
import { type FileHandle, open } from "node:fs/promises"
import { isAbsolute, relative, resolve, sep } from "node:path"
import { BadOptionError } from "./errors.js"
import { contentHash } from "./key.js"

/** Bound of `FileHasher`'s memory of resolved paths (cleared when reached). */
const MAX_REMEMBERED_PATHS = 10_000

/**
 * How long after a file's last change its identity (inode, size, mtime,
 * ctime) stops being trusted to reveal the next change. File times tick
 * coarsely: a jiffy on Linux, a second or two on some file systems. A file
 * rewritten within one tick with the same size keeps all four, so a file read
 * less than this after it changed is read again at its next lookup (git's
 * "racily clean" entries, for the same reason).
 */
const SETTLE_MS = 2000

/** When a `FileHasher` checks a file it hashed before again. */
export type Recheck = "every-lookup" | "per-build"

export interface FileHasherOptions {
  /** The project root: relative paths resolve against it, and dependencies are recorded relative to it. Default `process.cwd()`. */
  readonly root?: string
  /**
   * - `"every-lookup"` (default): every `hash` stats the file (about 2 µs) and
   *   reads it again only when its inode, size, mtime or ctime changed (or it
   *   changed too recently for those to tell). Right in any process that
   *   lives longer than one build: a dev server, a watcher, a test.
   * - `"per-build"`: a file is read once, then served from memory until
   *   `refresh()` (call it when a build starts) or `invalidate(path)` (a
   *   watcher saw it change). For a builder that does both and wants no
   *   `stat` per lookup.
   */
  readonly recheck?: Recheck
}

interface FileState {
  readonly ino: number
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
  readonly hash: string | null
  /** The file had not changed for `SETTLE_MS` when it was read: its identity tells a later change. */
  readonly settled: boolean
}

const MISSING: FileState = { ino: 0, size: -1, mtimeMs: 0, ctimeMs: 0, hash: null, settled: true }

/**
 * Content hashes of files (`null` for a missing one), for `memo`'s
 * dependencies. A file is read only when it may have changed (see
 * `FileHasherOptions.recheck`); only regular files are read (a dependency that
 * is a directory, a device or a pipe is an error, never a read without end).
 */
export class FileHasher {
  readonly root: string
  readonly recheck: Recheck
  #known = new Map<string, FileState>()
  #pending = new Map<string, Promise<string | null>>()
  /** Files to check again at their next lookup (`refresh`). */
  #recheck = new Set<string>()
  /** Files to read again at their next lookup (`invalidate`). */
  #invalidated = new Set<string>()
  /** `absolute(path)` of the paths seen: a document's dependencies (layouts, partials) recur in every document. */
  #absolutes = new Map<string, string>()

  constructor(options: FileHasherOptions = {}) {
    if (options === null || typeof options !== "object") throw new BadOptionError("options", "expected an object")
    const recheck = options.recheck ?? "every-lookup"
    if (recheck !== "every-lookup" && recheck !== "per-build") {
      throw new BadOptionError("recheck", `expected "every-lookup" or "per-build", got ${JSON.stringify(recheck)}`)
    }
    this.root = resolve(options.root ?? process.cwd())
    this.recheck = recheck
  }

  /** Project-relative path with `/` separators (absolute when outside the root). */
  relative(path: string): string {
    const absolute = this.absolute(path)
    const rel = relative(this.root, absolute)
    if (rel.startsWith("..") || isAbsolute(rel)) return absolute.split(sep).join("/")
    return rel.split(sep).join("/")
  }

  /** `path` resolved against the root (remembered: a hit's dependency check resolves the same few paths for every document). */
  absolute(path: string): string {
    let absolute = this.#absolutes.get(path)
    if (absolute === undefined) {
      absolute = resolve(this.root, path)
      if (this.#absolutes.size >= MAX_REMEMBERED_PATHS) this.#absolutes.clear()
      this.#absolutes.set(path, absolute)
    }
    return absolute
  }

  /** The content hash of a file, or `null` when it does not exist. */
  hash(path: string): Promise<string | null> {
    const absolute = this.absolute(path)
    const known = this.#current(absolute)
    if (known !== undefined) return Promise.resolve(known.hash)
    let pending = this.#pending.get(absolute)
    if (pending === undefined) {
      pending = this.#rehash(absolute, known).finally(() => this.#pending.delete(absolute))
      this.#pending.set(absolute, pending)
    }
    return pending
  }

  /**
   * The hash `hash(path)` would give when it needs no read (the file is
   * known, and still the same as far as `recheck` asks), else `undefined`.
   * For a hit's dependency check: the layouts and partials of every document
   * are known after the first, and need no promise each.
   */
  knownHash(path: string): string | null | undefined {
    return this.#current(this.absolute(path))?.hash
  }

  /** What is known of `absolute` when it is still current (see `hash`), else `undefined`. */
  #current(absolute: string): FileState | undefined {
    const known = this.#known.get(absolute)
    if (
      known !== undefined &&
      !this.#invalidated.has(absolute) &&
      !this.#recheck.has(absolute) &&
      (this.recheck === "per-build" || unchanged(absolute, known))
    )
      return known
    return undefined
  }

  /** Read a file again at its next lookup, whatever its identity says (a watcher saw it change). */
  invalidate(path: string): void {
    this.#invalidated.add(this.absolute(path))
  }

  /** Start of a new build: with `recheck: "per-build"`, check every known file again at its next lookup (unchanged ones are not read again); otherwise nothing to do. */
  refresh(): void {
    if (this.recheck === "per-build") for (const path of this.#known.keys()) this.#recheck.add(path)
  }

  async #rehash(absolute: string, known: FileState | undefined): Promise<string | null> {
    const forced = this.#invalidated.delete(absolute)
    this.#recheck.delete(absolute)
    const started = Date.now()
    let handle: FileHandle | undefined
    let state: FileState
    try {
      // Non-blocking, so that opening a named pipe cannot wait for a writer; checked to be a file before reading.
      handle = await open(absolute, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
      const info = await handle.stat()
      if (!info.isFile()) {
        throw new BadOptionError(
          "dependOn",
          `${absolute} is not a regular file (a directory, device or pipe): only files can be dependencies`,
        )
      }
      if (!forced && known !== undefined && known.settled && known.hash !== null && sameIdentity(known, info)) {
        state = { ...known, settled: isSettled(info, started) }
      } else {
        state = { ...identity(info), hash: contentHash(await handle.readFile()), settled: isSettled(info, started) }
      }
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error
      state = MISSING
    } finally {
      await handle?.close()
    }
    this.#known.set(absolute, state)
    return state.hash
  }
}

function identity(info: Stats): Omit<FileState, "hash" | "settled"> {
  return { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs }
}

function sameIdentity(known: FileState, info: Stats): boolean {
  return known.ino === info.ino && known.size === info.size && known.mtimeMs === info.mtimeMs && known.ctimeMs === info.ctimeMs
}

function isSettled(info: Stats, readAt: number): boolean {
  return Math.max(info.mtimeMs, info.ctimeMs) < readAt - SETTLE_MS
}

/** Whether a file read before is still what was read: a `stat`, no read. */
function unchanged(absolute: string, known: FileState): boolean {
  if (!known.settled) return false
  let info: Stats | undefined
  try {
    info = statSync(absolute, { throwIfNoEntry: false })
  } catch {
    return false
  }
  if (info === undefined) return known.hash === null
  return known.hash !== null && info.isFile() && sameIdentity(known, info)
}
