/**
 * Whose file is at the cache path, read from its bytes without SQLite (which
 * would write a `-shm` file, or replay or reset a WAL, to answer): the backend
 * moves or removes only files that are recognizably sitecache's, marked with
 * its `application_id` ("SCDB").
 *
 * Where the mark is, in SQLite's file format:
 * - the database header, the first 100 bytes of the file: the magic string
 *   `SQLite format 3\0`, the page size at offset 16 (2 bytes, big-endian, 1
 *   meaning 65536), and `application_id` at offset 68 (4 bytes, big-endian);
 * - a newer copy of page 1 (hence of that header) may be in the WAL and not
 *   yet in the file: the WAL is a 32-byte header (magic `0x377f0682` or
 *   `0x377f0683`, page size at 8, salts at 16 and 20) followed by frames, each
 *   a 24-byte header (page number at 0, salts at 8 and 12, equal to the WAL
 *   header's for a frame of the current WAL) and one page.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, renameSync, rmSync } from "node:fs"
import { basename, dirname, join } from "node:path"

/** "SCDB": marks a file as a sitecache database. */
export const APPLICATION_ID = 0x53_43_44_42
/** Moved-aside copies kept next to the database; older ones are removed, when they are sitecache's. */
const KEEP_MOVED_ASIDE = 2

const MAGIC = Buffer.from("SQLite format 3\0", "latin1")
/** The database header, and the start of page 1's b-tree header (its cell count at 103: sqlite_master's rows). */
const HEAD = 108
const APPLICATION_ID_OFFSET = 68
const CELL_COUNT_OFFSET = 103
const WAL_HEADER = 32
const FRAME_HEADER = 24
const WAL_MAGIC = new Set([0x377f0682, 0x377f0683])

function readAt(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.alloc(length)
  const read = readSync(fd, buffer, 0, length, position)
  return buffer.subarray(0, read)
}

function withFile<T>(path: string, read: (fd: number) => T): T | undefined {
  let fd: number
  try {
    fd = openSync(path, "r")
  } catch {
    return undefined
  }
  try {
    return read(fd)
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

/** The first `HEAD` bytes of the newest copy of page 1 in the WAL at `walPath`; `undefined` when it holds none. */
function walPageOne(walPath: string): Buffer | undefined {
  return withFile(walPath, (fd) => {
    const header = readAt(fd, WAL_HEADER, 0)
    if (header.length < WAL_HEADER || !WAL_MAGIC.has(header.readUInt32BE(0))) return undefined
    const pageSize = header.readUInt32BE(8)
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined
    const salts = header.subarray(16, 24)
    let found: Buffer | undefined
    for (let at = WAL_HEADER; ; at += FRAME_HEADER + pageSize) {
      const frame = readAt(fd, FRAME_HEADER, at)
      // A frame of an earlier WAL generation (other salts) ends the current one.
      if (frame.length < FRAME_HEADER || !frame.subarray(8, 16).equals(salts)) return found
      if (frame.readUInt32BE(0) === 1) {
        const page = readAt(fd, HEAD, at + FRAME_HEADER)
        if (page.length < HEAD) return found
        found = page
      }
    }
  })
}

/** The `application_id` in the newest copy of page 1 in the WAL at `walPath`; `undefined` when it holds none. */
export function walApplicationId(walPath: string): number | undefined {
  return walPageOne(walPath)?.readUInt32BE(APPLICATION_ID_OFFSET)
}

/** What the file at a cache path is, as far as its bytes tell. */
export type Mark =
  /** No file, an empty one, or a SQLite database with neither schema nor mark: sitecache may make it its own. */
  | { readonly kind: "none" }
  | { readonly kind: "sitecache" }
  /** Anything else: never opened for writing, moved or removed. */
  | { readonly kind: "other"; readonly reason: string }

/** Whose file is at `path` (a SQLite database with its WAL, or anything else). */
export function markOf(path: string): Mark {
  const head = withFile(path, (fd) => readAt(fd, HEAD, 0))
  if (head === undefined) return { kind: "none" }
  const isDatabase = head.length >= HEAD && head.subarray(0, MAGIC.length).equals(MAGIC)
  if (head.length > 0 && !isDatabase) return { kind: "other", reason: "it is not a SQLite database" }
  // The file's own header, unless it is not sitecache's: then a newer page 1 in the WAL may be (the first
  // commits of a database live in its WAL until a checkpoint copies them into the file).
  let page = head.length > 0 ? head : undefined
  if (page === undefined || page.readUInt32BE(APPLICATION_ID_OFFSET) !== APPLICATION_ID) page = walPageOne(`${path}-wal`) ?? page
  if (page === undefined) return { kind: "none" }
  const applicationId = page.readUInt32BE(APPLICATION_ID_OFFSET)
  if (applicationId === APPLICATION_ID) return { kind: "sitecache" }
  if (applicationId !== 0) {
    return { kind: "other", reason: `it is a database of another application (\`application_id\` ${applicationId})` }
  }
  const schemaObjects = page.readUInt16BE(CELL_COUNT_OFFSET)
  return schemaObjects === 0
    ? { kind: "none" }
    : { kind: "other", reason: "it is a database that is not sitecache's (it has tables, and no `application_id`)" }
}

/** Whether the database at `path` (with its WAL, if any) carries sitecache's mark. */
function isSitecacheDatabase(path: string): boolean {
  return markOf(path).kind === "sitecache"
}

/**
 * Move a damaged or outdated sitecache database (and its WAL) aside as
 * `<name>.corrupt-<time>`, so the next open starts empty, and remove the
 * older moved-aside copies beyond the newest few that are sitecache's (a file
 * of that name that is not is left alone). Returns the new name. The caller
 * has checked that the file is sitecache's.
 */
export function moveAside(path: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-")
  const aside = `${path}.corrupt-${stamp}`
  renameSync(path, aside)
  if (existsSync(`${path}-wal`)) renameSync(`${path}-wal`, `${aside}-wal`)
  rmSync(`${path}-shm`, { force: true })
  const prefix = `${basename(path)}.corrupt-`
  const older = readdirSync(dirname(path))
    .filter((name) => name.startsWith(prefix) && !name.endsWith("-wal") && !name.endsWith("-shm"))
    .map((name) => join(dirname(path), name))
    .filter(isSitecacheDatabase)
    .sort()
    .reverse()
  for (const old of older.slice(KEEP_MOVED_ASIDE)) {
    rmSync(old, { force: true })
    rmSync(`${old}-wal`, { force: true })
    rmSync(`${old}-shm`, { force: true })
  }
  return aside
}
