/**
 * `@sitecache/backend-sqlite`: the SQLite backend of sitecache, on
 * `better-sqlite3` (a peer dependency, loaded on first use).
 *
 * - `backend`: the descriptor `createCache({ backend: "sqlite" })` opens.
 * - `createSqliteCache(options)`: a cache on one database file, with typed options.
 */

export { backend, createSqliteCache, type SqliteCacheOptions } from "./backend.js"
export { type OpenSqliteStoreOptions, openSqliteStore } from "./open.js"
export { DEFAULT_BUSY_TIMEOUT, type QuickCheck, SQLITE_OPTIONS, type SqliteOptions } from "./options.js"
export { APPLICATION_ID } from "./ownership.js"
export { SCHEMA_VERSION } from "./schema.js"
export { SqliteStore } from "./store.js"
