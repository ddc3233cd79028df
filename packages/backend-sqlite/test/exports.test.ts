import { expect, it } from "vitest"
import * as sqlite from "../src/index.js"

it("pins the public exports of @sitecache/backend-sqlite", () => {
  expect(Object.keys(sqlite).sort()).toEqual([
    "APPLICATION_ID",
    "DEFAULT_BUSY_TIMEOUT",
    "SCHEMA_VERSION",
    "SQLITE_OPTIONS",
    "SqliteStore",
    "backend",
    "createSqliteCache",
    "openSqliteStore",
  ])
})
