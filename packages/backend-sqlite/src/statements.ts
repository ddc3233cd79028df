/** The prepared statements of a `SqliteStore`, one set per connection (schema in schema.ts). */
import type { Database, Statement } from "./load.js"

export interface Statements {
  readonly get: Statement
  readonly add: Statement
  readonly set: Statement
  readonly delete: Statement
  readonly touch: Statement
  readonly totals: Statement
  readonly orphans: Statement
  readonly leastRecentlyUsed: Statement
  readonly deleteRow: Statement
  readonly deleteOlder: Statement
  readonly deleteOrphans: Statement
  readonly deleteExpired: Statement
  readonly page: Statement
  readonly begin: Statement
  readonly commit: Statement
  readonly rollback: Statement
}

export function prepare(db: Database): Statements {
  return {
    // [id, value]: the id is what the access record is written under.
    get: db.prepare("SELECT id, value FROM entries WHERE prefix = ? AND key = ?").raw(),
    add: db.prepare(
      `INSERT INTO entries (prefix, key, size, created, expires, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (prefix, key) DO UPDATE SET
         size = excluded.size, created = excluded.created, expires = excluded.expires, value = excluded.value
       WHERE entries.expires != 0 AND entries.expires <= ?`,
    ),
    set: db.prepare(
      `INSERT INTO entries (prefix, key, size, created, expires, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (prefix, key) DO UPDATE SET
         size = excluded.size, created = excluded.created, expires = excluded.expires, value = excluded.value`,
    ),
    delete: db.prepare("DELETE FROM entries WHERE prefix = ? AND key = ?"),
    touch: db.prepare("UPDATE access SET accessed = max(accessed, ?), hits = hits + ? WHERE entry = ?"),
    totals: db.prepare("SELECT entry_count AS count, total_size AS size FROM totals WHERE id = 1"),
    orphans: db.prepare("SELECT count(*) AS count, total(size) AS size FROM entries WHERE prefix != ?"),
    leastRecentlyUsed: db.prepare(
      "SELECT access.entry AS entry, entries.size AS size FROM access JOIN entries ON entries.id = access.entry ORDER BY access.accessed, access.entry LIMIT ?",
    ),
    deleteRow: db.prepare("DELETE FROM entries WHERE id = ?"),
    deleteOlder: db
      .prepare("DELETE FROM entries WHERE id IN (SELECT entry FROM access WHERE accessed <= ?) RETURNING size")
      .pluck(),
    deleteOrphans: db.prepare("DELETE FROM entries WHERE prefix != ? RETURNING size").pluck(),
    deleteExpired: db.prepare("DELETE FROM entries WHERE expires != 0 AND expires <= ? RETURNING size").pluck(),
    page: db.prepare("SELECT id, prefix, key, value FROM entries WHERE id > ? ORDER BY id LIMIT ?"),
    begin: db.prepare("BEGIN IMMEDIATE"),
    commit: db.prepare("COMMIT"),
    rollback: db.prepare("ROLLBACK"),
  }
}
