/** Helpers of the SQLite backend's own tests: scratch directories and other processes holding locks. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach } from "vitest"

const require = createRequire(import.meta.url)
/** Absolute path of better-sqlite3, for scripts run by child processes. */
export const betterSqlite3 = require.resolve("better-sqlite3")

const dirs: string[] = []
const children: ChildProcessWithoutNullStreams[] = []

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL")
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A fresh directory, removed after the test. */
export function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "sitecache-sqlite-test-"))
  dirs.push(dir)
  return dir
}

export interface LockHolder {
  readonly child: ChildProcessWithoutNullStreams
  /** Still holding the lock (the process has not been told to release it). */
  readonly holding: () => boolean
  /** Commit, close and wait for the process to exit. */
  release(): Promise<void>
}

/**
 * Another process that opens `path` and holds `BEGIN EXCLUSIVE` until
 * released. `exclusiveMode` also sets `PRAGMA locking_mode = EXCLUSIVE`, which
 * in WAL mode shuts readers out as well.
 */
export async function holdLock(path: string, options: { exclusiveMode?: boolean } = {}): Promise<LockHolder> {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite3)})
    const db = new Database(${JSON.stringify(path)})
    ${options.exclusiveMode ? 'db.pragma("locking_mode = EXCLUSIVE")' : ""}
    db.exec("BEGIN EXCLUSIVE")
    ${options.exclusiveMode ? 'db.prepare("SELECT count(*) FROM entries").get()' : ""}
    process.stdout.write("locked\\n")
    process.stdin.on("data", () => {
      db.exec("COMMIT")
      db.close()
      process.exit(0)
    })
  `
  const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "pipe"] })
  children.push(child)
  let released = false
  await new Promise<void>((resolve, reject) => {
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes("locked")) resolve()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.on("exit", (code) => reject(new Error(`lock holder exited with ${code}: ${err}`)))
  })
  return {
    child,
    holding: () => !released && child.exitCode === null,
    async release() {
      released = true
      const exited = new Promise((resolve) => child.once("exit", resolve))
      child.stdin.write("release\n")
      await exited
    },
  }
}

/** Run a CommonJS script in another `node` and resolve with its stdout. */
export function runScript(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`script exited with ${code}: ${err}`))))
  })
}
