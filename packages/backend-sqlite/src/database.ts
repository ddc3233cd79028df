/**
 * The database file: its schema, and how it is opened, checked and, when
 * damaged or of an unknown version, moved aside and recreated.
 *
 * ## On-disk format (schema version 1)
 *
 * One SQLite file (default `node_modules/.cache/sitecache/cache.db`) in WAL
 * mode, `PRAGMA application_id` 0x53434442 ("SCDB") and `PRAGMA user_version`
 * 1, with 8 KiB pages. Auto-vacuum is incremental, so `clear` and `prune`
 * give space back.
 *
 * - `entries`: one row per entry: an integer `id`, then `prefix` (16 bytes,
 *   the cache's key prefix when the entry was written) and `key` (16 bytes),
 *   unique together;
 *   `size` is the length of `value`; `created` and `expires` are ms since the
 *   epoch (`expires` 0: never); `value` is the stored entry exactly as
 *   `@sitecache/core` encodes it (header, payload, checksum or HMAC), and is
 *   the last column, so reading the others never touches its overflow pages.
 * - `access`: one row per entry, by the entry's `id`: `accessed` (ms since
 *   the epoch, last read or write) and `hits` (reads since written). Kept
 *   apart from `entries` because SQLite rewrites a whole row on update: a hit
 *   counter beside a 40 KiB value would rewrite 40 KiB per hit. Not indexed
 *   by time: keeping such an index costs more on every build's access records
 *   than sorting the table when eviction (rare: it frees 10% at once) or
 *   `prune --older-than` needs the order.
 * - `totals`: a single row, `entry_count` and `total_size`, kept exact by
 *   triggers on `entries` (which also create and remove `access` rows), so
 *   `inspect()` and the `maxSize` check cost one row read.
 *
 * A reader never sees a half-written entry: every write is a SQLite
 * transaction. Several processes may use one file at once; SQLite's locks
 * serialize their writes.
 */
import {
  accessSync,
  closeSync,
  existsSync,
  constants as fsConstants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs"
import { basename, dirname, join } from "node:path"
import { BadOptionError, describeCause } from "@sitecache/core"
import type { Database, DatabaseConstructor } from "./load.js"
import type { QuickCheck } from "./options.js"

export const SCHEMA_VERSION = 1
/** "SCDB": marks a file as a sitecache database. */
export const APPLICATION_ID = 0x53_43_44_42
/** Moved-aside files kept next to the database (older ones are removed). */
const KEEP_MOVED_ASIDE = 2

/**
 * Entries by prefix, with their sizes: \`inspect()\`'s count of orphaned
 * entries (another prefix's) reads this index instead of every row's first
 * page (12 ms → 0.1 ms for 2,400 entries of rendered pages, first read after
 * opening). Not part of the format: a database of the first release gets it
 * when next opened for writing (\`ensurePrefixIndex\`), and reads the same without.
 */
const PREFIX_INDEX = "CREATE INDEX IF NOT EXISTS entries_by_prefix ON entries (prefix, size)"

const SCHEMA = `
CREATE TABLE entries (
  id INTEGER PRIMARY KEY,
  prefix BLOB NOT NULL,
  key BLOB NOT NULL,
  size INTEGER NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  value BLOB NOT NULL,
  UNIQUE (prefix, key)
);
CREATE TABLE access (
  entry INTEGER PRIMARY KEY,
  accessed INTEGER NOT NULL,
  hits INTEGER NOT NULL
);
CREATE TABLE totals (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  entry_count INTEGER NOT NULL,
  total_size INTEGER NOT NULL
);
INSERT INTO totals VALUES (1, 0, 0);
CREATE TRIGGER entries_added AFTER INSERT ON entries BEGIN
  INSERT OR REPLACE INTO access VALUES (new.id, new.created, 0);
  UPDATE totals SET entry_count = entry_count + 1, total_size = total_size + new.size WHERE id = 1;
END;
CREATE TRIGGER entries_replaced AFTER UPDATE OF value ON entries BEGIN
  UPDATE access SET accessed = new.created, hits = 0 WHERE entry = new.id;
  UPDATE totals SET total_size = total_size - old.size + new.size WHERE id = 1;
END;
CREATE TRIGGER entries_removed AFTER DELETE ON entries BEGIN
  DELETE FROM access WHERE entry = old.id;
  UPDATE totals SET entry_count = entry_count - 1, total_size = total_size - old.size WHERE id = 1;
END;
${PREFIX_INDEX};
PRAGMA application_id = ${APPLICATION_ID};
PRAGMA user_version = ${SCHEMA_VERSION};
`

export interface OpenDatabaseOptions {
  readonly path: string
  /** The option that named `path`, for errors (`dir` or `sqlite.path`). */
  readonly pathOption: string
  readonly readOnly: boolean
  readonly quickCheck: QuickCheck
  /** Wait for locks at open, in ms (creating the schema needs the write lock). */
  readonly lockWait: number
  readonly warn: (message: string, cause: unknown) => void
}

export interface OpenedDatabase {
  readonly db: Database
  /** Set when this process cannot write the file: why (its `code` is the cause, e.g. `EROFS`). */
  readonly unwritable?: Error
  /** Identity of the file opened, to tell whether another process already replaced it. */
  readonly file: { readonly dev: number; readonly ino: number } | undefined
  /**
   * Call once the connection is closed: a read-only connection to a WAL
   * database makes its `-wal` and `-shm` files when they are missing, and
   * only the last connection to close removes them; this removes the ones
   * this reader made, the way SQLite does (see `releaseReader`).
   */
  readonly release?: () => void
}

const CORRUPT_CODES = new Set(["SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_CORRUPT_INDEX", "SQLITE_CORRUPT_SEQUENCE"])

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === "string" ? code : ""
}

/** The file is damaged or is not a database. */
export function isCorruptError(error: unknown): boolean {
  const code = errorCode(error)
  return CORRUPT_CODES.has(code) || code.startsWith("SQLITE_CORRUPT")
}

/** Another connection holds a lock we need. */
export function isBusyError(error: unknown): boolean {
  const code = errorCode(error)
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")
}

/** Why a file cannot be used as it is, or `undefined` when it can. */
type Verdict = { kind: "ok" } | { kind: "empty" } | { kind: "aside"; reason: string; cause?: unknown }

function inspectFile(db: Database, options: OpenDatabaseOptions, walLeftOver: boolean): Verdict {
  let applicationId: number
  let version: number
  let tables: number
  try {
    // One statement, so one snapshot: read one by one, a database another process created in between showed
    // its format version but not yet its application id, and was moved aside as foreign while in use.
    const header = db
      .prepare(
        "SELECT (SELECT application_id FROM pragma_application_id) AS applicationId, (SELECT user_version FROM pragma_user_version) AS version, (SELECT count(*) FROM sqlite_master) AS tables",
      )
      .get() as { applicationId: number; version: number; tables: number }
    applicationId = header.applicationId
    version = header.version
    tables = header.tables
  } catch (error) {
    if (isCorruptError(error))
      return { kind: "aside", reason: `it is not a readable database (${describeCause(error)})`, cause: error }
    throw error
  }
  if (applicationId === 0 && version === 0 && tables === 0) return { kind: "empty" }
  if (applicationId !== APPLICATION_ID && applicationId !== 0) {
    throw new BadOptionError(
      options.pathOption,
      `${options.path} is a database of another application (application_id ${applicationId}); point \`${options.pathOption}\` at a file of its own`,
    )
  }
  if (applicationId !== APPLICATION_ID) {
    return {
      kind: "aside",
      reason: `it is not marked as a sitecache database (format version ${version}, ${tables} schema objects)`,
    }
  }
  if (version !== SCHEMA_VERSION) {
    return { kind: "aside", reason: `its format version is ${version}, and this version of sitecache reads ${SCHEMA_VERSION}` }
  }
  if (options.quickCheck === "always" || (options.quickCheck === "auto" && walLeftOver)) {
    const problem = quickCheck(db)
    if (problem !== undefined) return { kind: "aside", reason: `it fails \`PRAGMA quick_check\` (${problem})` }
  }
  return { kind: "ok" }
}

/** `undefined` when the file passes `PRAGMA quick_check`, else the first problem. */
export function quickCheck(db: Database): string | undefined {
  try {
    const rows = db.pragma("quick_check") as { quick_check: string }[]
    const first = rows[0]?.quick_check
    return first === "ok" ? undefined : (first ?? "no result")
  } catch (error) {
    if (isCorruptError(error)) return describeCause(error)
    throw error
  }
}

function setPragmas(db: Database): void {
  // Persistent in the file; a no-op when already set. Needs no transaction.
  db.pragma("journal_mode = WAL")
  // Keep the WAL file from growing past this after a checkpoint resets it.
  db.pragma(`journal_size_limit = ${32 * 1024 * 1024}`)
  // WAL + NORMAL: a commit survives a killed process; a power loss may lose the last commits, never corrupt.
  db.pragma("synchronous = NORMAL")
  db.pragma("temp_store = MEMORY")
  // 32 MiB of page cache per connection.
  db.pragma("cache_size = -32768")
}

/** Add the prefix index to a database made before it existed; a lock held elsewhere leaves it for another time. */
function ensurePrefixIndex(db: Database): void {
  const present = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'entries_by_prefix'").pluck().get()
  if (present !== undefined) return
  try {
    db.exec(PREFIX_INDEX)
  } catch (error) {
    if (!isBusyError(error)) throw error
  }
}

function createSchema(db: Database): void {
  // Page size and auto_vacuum must be chosen before the first table. 8 KiB pages: a 30 KiB page of HTML
  // is 4 pages to read instead of 8 (measured 12-15% faster reads of such entries than 4 KiB pages).
  db.pragma("page_size = 8192")
  db.pragma("auto_vacuum = INCREMENTAL")
  db.pragma("journal_mode = WAL")
  db.exec("BEGIN IMMEDIATE")
  try {
    // Another process may have created it between our look and our lock.
    const tables = db.prepare("SELECT count(*) FROM sqlite_master").pluck().get() as number
    if (tables === 0) db.exec(SCHEMA)
    db.exec("COMMIT")
  } catch (error) {
    if (db.inTransaction) db.exec("ROLLBACK")
    throw error
  }
}

function fileIdentity(path: string): { dev: number; ino: number } | undefined {
  try {
    const stat = statSync(path)
    return { dev: stat.dev, ino: stat.ino }
  } catch {
    return undefined
  }
}

/**
 * Move a damaged or foreign-version database (and its WAL) aside as
 * `<name>.corrupt-<time>`, keeping the newest few, so the next open starts
 * empty. Returns the new name.
 */
export function moveAside(path: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-")
  const aside = `${path}.corrupt-${stamp}`
  renameSync(path, aside)
  if (existsSync(`${path}-wal`)) renameSync(`${path}-wal`, `${aside}-wal`)
  rmSync(`${path}-shm`, { force: true })
  const prefix = `${basename(path)}.corrupt-`
  const kept = readdirSync(dirname(path))
    .filter((name) => name.startsWith(prefix) && !name.endsWith("-wal"))
    .sort()
    .reverse()
  for (const old of kept.slice(KEEP_MOVED_ASIDE)) {
    rmSync(join(dirname(path), old), { force: true })
    rmSync(join(dirname(path), `${old}-wal`), { force: true })
  }
  return aside
}

function prepareDirectory(options: OpenDatabaseOptions): void {
  const dir = dirname(options.path)
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (!existsSync(options.path)) {
      // A WAL without its database would be replayed into the new, empty file: the process that creates the
      // file removes the WAL and shared-memory files it saw before creating it. Only that process, and only
      // those files: another process may create the database between our look and our create, open it, and
      // write its first commits to a WAL that a blind removal would delete under it (its writers then went on
      // in an unlinked file while later ones started another database: keys added twice, entries lost).
      const stale = [`${options.path}-wal`, `${options.path}-shm`].flatMap((file) => {
        const identity = fileIdentity(file)
        return identity === undefined ? [] : [{ file, identity }]
      })
      let created = false
      try {
        closeSync(openSync(options.path, "wx", 0o600))
        created = true
      } catch (error) {
        if (errorCode(error) !== "EEXIST") throw error
      }
      if (created) {
        for (const { file, identity } of stale) {
          const now = fileIdentity(file)
          if (now !== undefined && now.dev === identity.dev && now.ino === identity.ino) rmSync(file, { force: true })
        }
      }
    }
  } catch (error) {
    throw new BadOptionError(options.pathOption, `cannot create the database ${options.path}: ${describeCause(error)}`, {
      cause: error,
    })
  }
}

function emptyInMemory(Database: DatabaseConstructor, unwritable?: Error): OpenedDatabase {
  const db = new Database(":memory:")
  db.exec(SCHEMA)
  return { db, file: undefined, ...(unwritable === undefined ? {} : { unwritable }) }
}

function leftOverWal(path: string): boolean {
  try {
    return statSync(`${path}-wal`).size > 0
  } catch {
    return false
  }
}

/** Why this process cannot write the database or its directory (a read-only filesystem, permissions), if it cannot. */
function whyUnwritable(path: string): Error | undefined {
  for (const target of [dirname(path), path]) {
    try {
      accessSync(target, fsConstants.W_OK)
    } catch (error) {
      const code = errorCode(error)
      if (code === "ENOENT") continue
      return Object.assign(new Error(`${path} is not writable (${describeCause(error)}): writes are dropped`, { cause: error }), {
        code,
      })
    }
  }
  return undefined
}

/** Largest database copied into memory when it cannot be read in place. */
const MAX_MEMORY_COPY = 512 * 1024 * 1024

/**
 * Open a database this process will only read: the `read-only` mode, or a
 * file it cannot write. SQLite reads a WAL database in place only when it can
 * use (or create) the `-shm` file; on a read-only filesystem it cannot, and
 * then a clean database (no WAL left over) is read from a copy in memory.
 */
function openForReading(Database: DatabaseConstructor, options: OpenDatabaseOptions, unwritable?: Error): OpenedDatabase {
  const usable = (db: Database): OpenedDatabase | undefined => {
    const verdict = inspectFile(db, { ...options, quickCheck: "never" }, false)
    if (verdict.kind === "ok") return { db, file: undefined, ...(unwritable === undefined ? {} : { unwritable }) }
    db.close()
    if (verdict.kind === "aside") {
      options.warn(`sitecache: sqlite: cannot read ${options.path} because ${verdict.reason}; reading nothing`, verdict.cause)
    }
    return emptyInMemory(Database, unwritable)
  }
  let db: Database | undefined
  const sidecars = existsSync(`${options.path}-wal`) || existsSync(`${options.path}-shm`)
  try {
    db = new Database(options.path, { readonly: true, fileMustExist: true, timeout: options.lockWait })
    const opened = usable(db) as OpenedDatabase
    return sidecars || opened.db !== db || unwritable !== undefined
      ? opened
      : { ...opened, release: () => releaseReader(Database, options.path) }
  } catch (error) {
    if (db?.open) db.close()
    const code = errorCode(error)
    if (!code.startsWith("SQLITE_CANTOPEN") && !code.startsWith("SQLITE_READONLY") && !code.startsWith("SQLITE_IOERR")) {
      throw error
    }
    const size = statSync(options.path).size
    if (leftOverWal(options.path) || size > MAX_MEMORY_COPY) {
      options.warn(
        `sitecache: sqlite: cannot read ${options.path} in place (${describeCause(error)})${leftOverWal(options.path) ? " and its WAL holds commits" : ""}; reading nothing`,
        error,
      )
      return emptyInMemory(Database, unwritable)
    }
    const image = readFileSync(options.path)
    // A copy in memory has no WAL: mark it a rollback-journal database (header bytes 18 and 19).
    image[18] = 1
    image[19] = 1
    return usable(new Database(image, { readonly: true })) as OpenedDatabase
  }
}

/**
 * Remove the `-wal` and `-shm` files a read-only connection made, so that
 * reading a cache (`sitecache inspect`, a read-only build) leaves no file
 * behind: open the database for writing, read, close. The last connection to
 * close a WAL database checkpoints it and removes both files; when another
 * connection is open (a build), this one is not the last and leaves them to it.
 * Best effort: a database locked or on a read-only disk keeps them.
 */
function releaseReader(Database: DatabaseConstructor, path: string): void {
  try {
    const db = new Database(path, { fileMustExist: true, timeout: 0 })
    try {
      db.prepare("SELECT count(*) FROM sqlite_master").pluck().get()
    } finally {
      db.close()
    }
  } catch {
    // Locked, gone or unwritable: the next writer to close removes them.
  }
}

/**
 * Open (creating when missing) the database at `options.path`, check it, and
 * move it aside when it is damaged or of another format version. A database
 * this process cannot write is opened for reading, with `unwritable` saying why.
 */
export function openDatabase(Database: DatabaseConstructor, options: OpenDatabaseOptions): OpenedDatabase {
  // Read-only never writes, not even an empty file: an empty in-memory database reads as all misses.
  if (options.readOnly) return existsSync(options.path) ? openForReading(Database, options) : emptyInMemory(Database)
  const unwritable = whyUnwritable(options.path)
  if (unwritable !== undefined) {
    if (!existsSync(options.path)) {
      throw new BadOptionError(options.pathOption, `cannot create the database ${options.path}: ${unwritable.message}`, {
        cause: unwritable,
      })
    }
    return openForReading(Database, options, unwritable)
  }
  prepareDirectory(options)
  for (let attempt = 0; ; attempt++) {
    const walLeftOver = leftOverWal(options.path)
    const file = fileIdentity(options.path)
    let db: Database
    try {
      db = new Database(options.path, { timeout: options.lockWait, fileMustExist: true })
    } catch (error) {
      throw new BadOptionError(options.pathOption, `cannot open the database ${options.path}: ${describeCause(error)}`, {
        cause: error,
      })
    }
    try {
      const verdict = inspectFile(db, options, walLeftOver)
      if (verdict.kind === "empty") {
        createSchema(db)
      } else if (verdict.kind === "aside") {
        db.close()
        if (attempt > 0) {
          throw new BadOptionError(options.pathOption, `cannot use the database ${options.path}: ${verdict.reason}`, {
            cause: verdict.cause,
          })
        }
        const aside = moveAside(options.path)
        options.warn(
          `sitecache: sqlite: moved ${options.path} aside to ${basename(aside)} because ${verdict.reason}; starting with an empty cache`,
          verdict.cause,
        )
        prepareDirectory(options)
        continue
      }
      setPragmas(db)
      if (verdict.kind === "ok") ensurePrefixIndex(db)
      return { db, file }
    } catch (error) {
      if (db.open) db.close()
      throw error
    }
  }
}
