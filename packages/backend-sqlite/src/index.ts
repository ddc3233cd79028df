/**
 * `@sitecache/backend-sqlite`: the SQLite backend of sitecache, on
 * `better-sqlite3` (a peer dependency, loaded on first use).
 *
 * - `createStore(config)`: what `createCache({ backend: "sqlite" })` calls.
 * - `createSqliteCache(options)`: a cache on one database file, with typed options.
 */

export { createSqliteCache, createStore, type OpenSqliteStoreOptions, openSqliteStore, type SqliteCacheOptions } from "./open.js"
export { DEFAULT_BUSY_TIMEOUT, type QuickCheck, type SqliteOptions } from "./options.js"
export { APPLICATION_ID } from "./ownership.js"
export { SCHEMA_VERSION } from "./schema.js"
export { SqliteStore } from "./store.js"
