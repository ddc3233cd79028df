/**
 * Scratch folders for tests: `sitecache-<label>-XXXXXX` in the system's
 * temporary folder, removed again whatever the test's outcome.
 *
 * ```ts
 * import { tempDir } from "../support/temp.js" // or ../../../test/support/temp.js from a package
 *
 * it("...", () => {
 *   const dir = tempDir("fs") // removed when this test finishes, passed or failed
 * })
 * ```
 *
 * Made inside a test (or its `beforeEach`), a folder is removed when that test
 * finishes (`onTestFinished`). Made anywhere else (at collection, in
 * `beforeAll`), or with `{ scope: "file" }`, it is removed after the last test
 * of the file (`afterAll`). Whatever is still there when the test process
 * exits (a crash, a timeout) goes in an exit hook.
 *
 * Import this module statically from the test file or its helpers, so that
 * its `afterAll` belongs to the file that uses it.
 */
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, onTestFinished } from "vitest"

const pending = new Set<string>()

/** Remove `dir` and everything below it, also where a test took write permission away. Never throws. */
export function removeDir(dir: string): void {
  pending.delete(dir)
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
  } catch {
    makeWritable(dir)
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
    } catch (error) {
      console.warn(`test/support/temp: could not remove ${dir}: ${String(error)}`)
    }
  }
}

function makeWritable(path: string): void {
  try {
    const stat = lstatSync(path)
    if (!stat.isDirectory()) return
    chmodSync(path, 0o700)
    for (const name of readdirSync(path)) makeWritable(join(path, name))
  } catch {}
}

function removeAll(): void {
  for (const dir of [...pending]) removeDir(dir)
}

afterAll(removeAll)
process.once("exit", removeAll)

export interface TempDirOptions {
  /** `test` (the default inside a test): removed when the current test finishes; `file`: after the file's last test. */
  readonly scope?: "test" | "file"
}

/** A fresh, empty folder `sitecache-<label>-XXXXXX` in the system's temporary folder, removed after use (see above). */
export function tempDir(label = "test", options: TempDirOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), `sitecache-${label}-`))
  pending.add(dir)
  if (options.scope !== "file") {
    try {
      onTestFinished(() => removeDir(dir))
    } catch {
      // Not inside a test: the file's afterAll removes it.
    }
  }
  return dir
}
