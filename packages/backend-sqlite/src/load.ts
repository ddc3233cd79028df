/**
 * `better-sqlite3` is a peer dependency, loaded on first use: a project that
 * never picks the SQLite backend never loads a native module, and one that
 * picks it without the library installed gets an error naming the package.
 */
import { createRequire } from "node:module"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { BackendMissingError } from "@sitecache/core"
import type BetterSqlite3 from "better-sqlite3"

export type DatabaseConstructor = typeof BetterSqlite3
export type Database = BetterSqlite3.Database
export type Statement<Params extends unknown[] = unknown[], Row = unknown> = BetterSqlite3.Statement<Params, Row>

const PACKAGE = "better-sqlite3"
let loading: Promise<DatabaseConstructor> | undefined

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND"
}

/**
 * Load `better-sqlite3`, from this package first, then from the project at
 * `root` (where a user installs a peer dependency). Throws
 * `BackendMissingError` naming `better-sqlite3` when neither has it.
 * `importer` is for tests.
 */
export function loadBetterSqlite3(
  root: string = process.cwd(),
  importer?: (specifier: string) => Promise<unknown>,
): Promise<DatabaseConstructor> {
  const load = () => loadFrom(root, importer ?? ((specifier) => import(specifier)))
  // An injected importer (tests) bypasses the memo.
  if (importer !== undefined) return load()
  if (loading === undefined) {
    loading = load()
    // A failed load is not remembered: installing the package and retrying works without a restart.
    loading.catch(() => {
      loading = undefined
    })
  }
  return loading
}

async function loadFrom(root: string, importer: (specifier: string) => Promise<unknown>): Promise<DatabaseConstructor> {
  try {
    return ((await importer(PACKAGE)) as { default: DatabaseConstructor }).default
  } catch (error) {
    if (!isNotFound(error)) throw new BackendMissingError("sqlite", PACKAGE, { cause: error })
    let resolved: string
    try {
      resolved = createRequire(join(root, "package.json")).resolve(PACKAGE)
    } catch {
      throw new BackendMissingError("sqlite", PACKAGE, { cause: error })
    }
    try {
      return ((await importer(pathToFileURL(resolved).href)) as { default: DatabaseConstructor }).default
    } catch (fromRoot) {
      throw new BackendMissingError("sqlite", PACKAGE, { cause: fromRoot })
    }
  }
}
