/**
 * Per-document memoization written the most direct way with each peer store:
 * what a user would write in an afternoon without sitecache.
 *
 *   key  = sha1(pipeline version, path, source)
 *   page = await store.get(key) ?? render(), then store.set(key, page)
 *
 * - keyv 5 + @keyv/sqlite 4: `new Keyv({ store: new KeyvSqlite("sqlite://…") })`,
 *   `get`/`set` (JSON values; each `set` is its own SQLite transaction).
 * - cacache 19: `cacache.get(dir, key)` (rejects on a miss), `cacache.put(dir, key, json)`.
 * - flat-cache 6: `create({ cacheId, cacheDir })` loads the whole JSON file,
 *   `getKey`/`setKey`, `save()` at the end of the build.
 * - raw better-sqlite3: one table, WAL, two prepared statements, every put of
 *   a build in one transaction: the practical limit of a SQLite-backed cache.
 */
import { createHash } from "node:crypto"
import { mkdirSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"

const require = createRequire(import.meta.url)

/** What a peer stores for a document: the page and the data the index reads (title, description, front matter). */
export interface RenderedDocument {
  readonly html: string
  readonly data: Record<string, unknown>
}

export const PEERS = ["keyv-sqlite", "cacache", "flat-cache", "better-sqlite3"] as const
export type PeerName = (typeof PEERS)[number]

/** A peer store opened for one build. */
export interface PeerStore {
  get(key: string): Promise<RenderedDocument | undefined> | RenderedDocument | undefined
  set(key: string, page: RenderedDocument): Promise<void> | void
  /** End of the build: save, commit, disconnect. */
  close(): Promise<void> | void
}

/** The key every peer uses for a document. */
export function peerKey(version: string, path: string, source: string): string {
  return createHash("sha1").update(version).update("\0").update(path).update("\0").update(source).digest("hex")
}

interface CacacheModule {
  get(cache: string, key: string): Promise<{ data: Buffer }>
  put(cache: string, key: string, data: string | Buffer): Promise<string>
}

interface SqliteStatement {
  get(...params: unknown[]): unknown
  run(...params: unknown[]): unknown
}
interface SqliteDatabase {
  pragma(source: string): unknown
  exec(source: string): unknown
  prepare(source: string): SqliteStatement
  close(): void
}

export async function openPeer(name: PeerName, dir: string): Promise<PeerStore> {
  mkdirSync(dir, { recursive: true })
  switch (name) {
    case "keyv-sqlite": {
      const { default: Keyv } = await import("keyv")
      const { default: KeyvSqlite } = await import("@keyv/sqlite")
      const keyv = new Keyv<RenderedDocument>({ store: new KeyvSqlite(`sqlite://${join(dir, "keyv.sqlite")}`) })
      return {
        get: (key) => keyv.get(key),
        set: async (key, page) => {
          await keyv.set(key, page)
        },
        close: () => keyv.disconnect(),
      }
    }
    case "cacache": {
      const cacache = require("cacache") as CacacheModule
      return {
        get: (key) =>
          cacache.get(dir, key).then(
            (found) => JSON.parse(found.data.toString("utf8")) as RenderedDocument,
            () => undefined,
          ),
        set: async (key, page) => {
          await cacache.put(dir, key, JSON.stringify(page))
        },
        close: () => undefined,
      }
    }
    case "flat-cache": {
      const { create } = await import("flat-cache")
      const cache = create({ cacheId: "pages", cacheDir: dir })
      return {
        get: (key) => cache.getKey<RenderedDocument>(key),
        set: (key, page) => {
          cache.setKey(key, page)
        },
        close: () => {
          cache.save()
        },
      }
    }
    case "better-sqlite3": {
      const Database = require("better-sqlite3") as new (file: string) => SqliteDatabase
      const db = new Database(join(dir, "pages.db"))
      db.pragma("journal_mode = WAL")
      db.pragma("synchronous = NORMAL")
      db.exec("CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
      const select = db.prepare("SELECT value FROM pages WHERE key = ?")
      const insert = db.prepare("INSERT OR REPLACE INTO pages (key, value) VALUES (?, ?)")
      let inTransaction = false
      return {
        get: (key) => {
          const row = select.get(key) as { value: string } | undefined
          return row === undefined ? undefined : (JSON.parse(row.value) as RenderedDocument)
        },
        set: (key, page) => {
          if (!inTransaction) {
            db.exec("BEGIN")
            inTransaction = true
          }
          insert.run(key, JSON.stringify(page))
        },
        close: () => {
          if (inTransaction) db.exec("COMMIT")
          db.close()
        },
      }
    }
  }
}
