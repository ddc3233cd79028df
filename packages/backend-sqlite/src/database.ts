/**
 * The database file: how it is opened, checked and, when it
 * is a damaged or outdated sitecache database, moved aside and recreated. A
 * file that is not recognizably sitecache's (another application's database,
 * a file that is not a database, a database of a newer sitecache) is never
 * moved, written or removed: the cache goes on without it.
 *
 * The schema and the file format are in schema.ts, the marks that say whose
 * file it is in ownership.ts.
 */
import {
  accessSync,
  closeSync,
  existsSync,
  constants as fsConstants,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs"
import { basename, dirname } from "node:path"
import { BadOptionError, describeCause, errorCode } from "@sitecache/core"
import type { Database, DatabaseConstructor } from "./load.js"
import type { QuickCheck } from "./options.js"
import { APPLICATION_ID, markOf, moveAside, walApplicationId } from "./ownership.js"
import { createSchema, emptyInMemory, SCHEMA_VERSION, setPragmas } from "./schema.js"

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

/** The file is damaged or is not a database. */
export function isCorruptError(error: unknown): boolean {
  const code = errorCode(error) ?? ""
  return CORRUPT_CODES.has(code) || code.startsWith("SQLITE_CORRUPT")
}

/** Another connection holds a lock we need. */
export function isBusyError(error: unknown): boolean {
  const code = errorCode(error) ?? ""
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")
}

/**
 * What the file at the cache path is: `ok` (sitecache's, of this format),
 * `empty` (no schema yet: created here), `damaged` (sitecache's, but damaged
 * or of an older format: moved aside and recreated), or `foreign` (not
 * recognizably sitecache's, or a newer sitecache's: never touched).
 */
type Verdict =
  | { kind: "ok" }
  | { kind: "empty" }
  | { kind: "damaged"; reason: string; cause?: unknown }
  | { kind: "foreign"; reason: string; cause?: unknown }

function inspectFile(db: Database, options: OpenDatabaseOptions, walLeftOver: boolean): Verdict {
  let header: { applicationId: number; version: number; tables: number }
  try {
    // One statement, so one snapshot: read one by one, a database another process created in between showed
    // its format version but not yet its application id.
    header = db
      .prepare(
        "SELECT (SELECT application_id FROM pragma_application_id) AS applicationId, (SELECT user_version FROM pragma_user_version) AS version, (SELECT count(*) FROM sqlite_master) AS tables",
      )
      .get() as { applicationId: number; version: number; tables: number }
  } catch (error) {
    if (!isCorruptError(error)) throw error
    // The schema is unreadable: only its header can still say whose file it is.
    const reason = `it is not a readable database (${describeCause(error)})`
    return markOf(options.path).kind === "sitecache"
      ? { kind: "damaged", reason, cause: error }
      : { kind: "foreign", reason, cause: error }
  }
  const { applicationId, version, tables } = header
  if (applicationId === 0 && version === 0 && tables === 0) return { kind: "empty" }
  if (applicationId !== APPLICATION_ID) {
    return {
      kind: "foreign",
      reason:
        applicationId === 0
          ? `it is a database that is not sitecache's (no \`application_id\`, ${tables} schema objects)`
          : `it is a database of another application (\`application_id\` ${applicationId})`,
    }
  }
  if (version > SCHEMA_VERSION) {
    return {
      kind: "foreign",
      reason: `it was written by a newer sitecache (format version ${version}; this version reads ${SCHEMA_VERSION}): upgrade @sitecache/backend-sqlite to use it`,
    }
  }
  if (version !== SCHEMA_VERSION) {
    return { kind: "damaged", reason: `its format version is ${version}, and this version of sitecache reads ${SCHEMA_VERSION}` }
  }
  if (options.quickCheck === "always" || (options.quickCheck === "auto" && walLeftOver)) {
    const problem = quickCheck(db)
    if (problem !== undefined) return { kind: "damaged", reason: `it fails \`PRAGMA quick_check\` (${problem})` }
  }
  return { kind: "ok" }
}

/** The warning for a file at the cache path that is not used: which file, why, and what to do. */
export function notUsedMessage(
  options: Pick<OpenDatabaseOptions, "path" | "pathOption">,
  reason: string,
  file = options.path,
): string {
  return `sitecache: sqlite: ${options.path} is not used because ${reason}. It is left untouched and this build runs without the cache: point \`${options.pathOption}\` at ${options.pathOption === "dir" ? "a directory" : "a file"} of sitecache's own, or remove ${file} if nothing needs it`
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

function fileIdentity(path: string): { dev: number; ino: number } | undefined {
  try {
    const stat = statSync(path)
    return { dev: stat.dev, ino: stat.ino }
  } catch {
    return undefined
  }
}

/**
 * Create the directory and, when there is no database yet, an empty file for
 * it. Returns why the path cannot be used, when a WAL that is not
 * recognizably sitecache's lies there without its database.
 */
function prepareDirectory(options: OpenDatabaseOptions): string | undefined {
  const dir = dirname(options.path)
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (existsSync(options.path)) return undefined
    // A WAL without its database would be replayed into the new, empty file (and SQLite's first write resets
    // it): one of sitecache's is removed, anything else leaves the path unused.
    const wal = `${options.path}-wal`
    const walSize = statSync(wal, { throwIfNoEntry: false })?.size ?? 0
    if (walSize > 0 && walApplicationId(wal) !== APPLICATION_ID) {
      return `${basename(wal)} lies there without its database and is not recognizably sitecache's (a new database would take its pages)`
    }
    // The process that creates the file removes the WAL and shared-memory files it saw before creating it. Only
    // that process, and only those files: another process may create the database between our look and our
    // create, open it, and write its first commits to a WAL that a blind removal would delete under it (its
    // writers then went on in an unlinked file while later ones started another database: keys added twice,
    // entries lost).
    const stale = [wal, `${options.path}-shm`].flatMap((file) => {
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
    return undefined
  } catch (error) {
    throw new BadOptionError(options.pathOption, `cannot create the database ${options.path}: ${describeCause(error)}`, {
      cause: error,
    })
  }
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

/** Why a missing database cannot be created: the cache is not opened, and nothing is created. */
function whyNotCreatable(path: string, unwritable: Error): string {
  const cause = unwritable.cause
  if (errorCode(cause) === "ENOTDIR") {
    let dir = dirname(path)
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
    return `${dir} is a file, not a directory: point the option at a directory (it is created when missing)`
  }
  return `its directory is not writable (${describeCause(cause)})`
}

/** Largest database copied into memory when it cannot be read in place. */
const MAX_MEMORY_COPY = 512 * 1024 * 1024

/**
 * Open a database this process will only read: the `read-only` mode, or a
 * file it cannot write. SQLite reads a WAL database in place only when it can
 * use (or create) the `-shm` file; on a read-only filesystem it cannot, and
 * then a clean database (no WAL left over) is read from a copy in memory. A
 * file that cannot be used reads as empty, with a warning.
 */
function openForReading(Database: DatabaseConstructor, options: OpenDatabaseOptions, unwritable?: Error): OpenedDatabase {
  const usable = (db: Database): OpenedDatabase => {
    const verdict = inspectFile(db, { ...options, quickCheck: "never" }, false)
    if (verdict.kind === "ok") return { db, file: undefined, ...(unwritable === undefined ? {} : { unwritable }) }
    db.close()
    if (verdict.kind === "foreign") options.warn(notUsedMessage(options, verdict.reason), verdict.cause)
    if (verdict.kind === "damaged") {
      options.warn(`sitecache: sqlite: cannot read ${options.path} because ${verdict.reason}; reading nothing`, verdict.cause)
    }
    return emptyInMemory(Database, unwritable)
  }
  const mark = markOf(options.path)
  if (mark.kind === "other") {
    options.warn(notUsedMessage(options, mark.reason), undefined)
    return emptyInMemory(Database, unwritable)
  }
  let db: Database | undefined
  const sidecars = existsSync(`${options.path}-wal`) || existsSync(`${options.path}-shm`)
  try {
    db = new Database(options.path, { readonly: true, fileMustExist: true, timeout: options.lockWait })
    const opened = usable(db)
    return sidecars || opened.db !== db || unwritable !== undefined
      ? opened
      : { ...opened, release: () => releaseReader(Database, options.path) }
  } catch (error) {
    if (db?.open) db.close()
    const code = errorCode(error) ?? ""
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
    return usable(new Database(image, { readonly: true }))
  }
}

/** The file at the cache path is not recognizably sitecache's (or is a newer sitecache's): it is not used, nor touched. */
export interface NotUsed {
  /** Why, for the warning. */
  readonly notUsed: string
  /** The file that is in the way. */
  readonly file: string
  readonly cause?: unknown
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
 * Open (creating when missing) the database at `options.path` and check it:
 * a damaged or outdated sitecache database is moved aside and recreated; any
 * other file is left as it is, and the result says why it is not used. A
 * database this process cannot write is opened for reading, with
 * `unwritable` saying why.
 */
export function openDatabase(Database: DatabaseConstructor, options: OpenDatabaseOptions): OpenedDatabase | NotUsed {
  // Read-only never writes, not even an empty file: an empty in-memory database reads as all misses.
  if (options.readOnly) return existsSync(options.path) ? openForReading(Database, options) : emptyInMemory(Database)
  const unwritable = whyUnwritable(options.path)
  if (unwritable !== undefined) {
    if (!existsSync(options.path)) {
      throw new BadOptionError(
        options.pathOption,
        `cannot create the database ${options.path}: ${whyNotCreatable(options.path, unwritable)}`,
        {
          cause: unwritable,
        },
      )
    }
    return openForReading(Database, options, unwritable)
  }
  for (let attempt = 0; ; attempt++) {
    const orphanWal = prepareDirectory(options)
    if (orphanWal !== undefined) return { notUsed: orphanWal, file: `${options.path}-wal` }
    // Another application's file is never opened for writing: SQLite would roll back its hot journal, or
    // checkpoint and remove its WAL when closing.
    const mark = markOf(options.path)
    if (mark.kind === "other") return { notUsed: mark.reason, file: options.path }
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
      if (verdict.kind === "foreign") {
        db.close()
        return { notUsed: verdict.reason, file: options.path, ...(verdict.cause === undefined ? {} : { cause: verdict.cause }) }
      }
      if (verdict.kind === "empty") {
        createSchema(db)
      } else if (verdict.kind === "damaged") {
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
        continue
      }
      setPragmas(db)
      return { db, file }
    } catch (error) {
      if (db.open) db.close()
      throw error
    }
  }
}
