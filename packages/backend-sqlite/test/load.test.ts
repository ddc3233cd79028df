import { describe, expect, it } from "vitest"
import { loadBetterSqlite3 } from "../src/load.js"
import { scratch } from "./helpers.js"

describe("sqlite: loading better-sqlite3", () => {
  it("loads the peer dependency on first use", async () => {
    const Database = await loadBetterSqlite3()
    expect(typeof Database).toBe("function")
  })

  it("names `better-sqlite3` when it is not installed", async () => {
    const missing = () =>
      Promise.reject(Object.assign(new Error("Cannot find package 'better-sqlite3'"), { code: "ERR_MODULE_NOT_FOUND" }))
    const error = await loadBetterSqlite3(scratch(), missing).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: "SITECACHE_BACKEND_MISSING", packageName: "better-sqlite3" })
    expect((error as Error).message).toMatch(/`better-sqlite3`.*pnpm add better-sqlite3/)
  })
})
