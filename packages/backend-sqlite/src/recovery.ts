/**
 * Recovering from a database found damaged while in use: when SQLite reports
 * corruption and `quick_check` agrees, the file is moved aside (only if it is
 * still the one this connection opened: another process may have replaced it
 * already) and a new, empty database is opened in its place. The operation
 * that met the damage still fails (a miss or a dropped write); the next ones
 * use the new database.
 */
import { statSync } from "node:fs"
import { type OpenedDatabase, quickCheck } from "./database.js"
import type { Database } from "./load.js"
import { moveAside } from "./ownership.js"

export interface Damaged {
  readonly db: Database
  readonly path: string
  /** The identity of the file `db` opened. */
  readonly file: OpenedDatabase["file"]
  readonly reopen: () => OpenedDatabase
  readonly warn: (message: string, cause: unknown) => void
}

/**
 * `undefined` when `quick_check` finds nothing wrong (the database is kept);
 * else the database opened in place of the damaged one, or why none could be
 * (`lost`: the store goes on without a database). One warning either way.
 */
export function recoverFromDamage(error: unknown, damaged: Damaged): { opened: OpenedDatabase } | { lost: unknown } | undefined {
  const { db, path } = damaged
  let problem: string | undefined
  try {
    problem = quickCheck(db)
  } catch (checkError) {
    problem = describe(checkError)
  }
  if (problem === undefined) return undefined
  try {
    if (db.inTransaction) db.exec("ROLLBACK")
  } catch {
    // Nothing to roll back.
  }
  db.close()
  let aside: string | undefined
  try {
    const current = statSafe(path)
    if (
      current !== undefined &&
      damaged.file !== undefined &&
      current.dev === damaged.file.dev &&
      current.ino === damaged.file.ino
    ) {
      aside = moveAside(path)
    }
  } catch {
    // Another process moved it first.
  }
  const moved = aside === undefined ? "" : `; moved it aside to ${aside}`
  try {
    const opened = damaged.reopen()
    damaged.warn(`sitecache: sqlite: ${path} is damaged (${problem})${moved}; starting with an empty cache`, error)
    return { opened }
  } catch (reopenError) {
    damaged.warn(
      `sitecache: sqlite: ${path} is damaged (${problem})${moved}, and could not be opened again (${describe(reopenError)}); going on without the cache`,
      error,
    )
    return { lost: reopenError }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function statSafe(path: string): { dev: number; ino: number } | undefined {
  try {
    const stat = statSync(path)
    return { dev: stat.dev, ino: stat.ino }
  } catch {
    return undefined
  }
}
