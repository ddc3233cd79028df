/**
 * vitest `globalSetup`: one scratch folder for the whole run,
 * `sitecache-test-run-XXXXXX` in the system's temporary folder. `TMPDIR`
 * points there for every test process and every process they start
 * (`os.tmpdir()`, redis-server directories, builds, CLI runs), so whatever a
 * test leaves behind (it failed, timed out, or was killed before its cleanup
 * ran) goes when the run ends, and the system's temporary folder keeps no
 * `sitecache-*` folder of ours.
 *
 * Tests still clean up after themselves (`tempDir` in temp.ts): what is left
 * in the folder at the end is listed, so a test that leaks is seen.
 *
 * tsx keeps its compile cache in `$TMPDIR/tsx-<uid>`: that one is linked to
 * the system's, so child processes start as fast as before and do not write a
 * cold cache while a test watches what they leave running.
 *
 * vitest runs a global setup once per project (vitest.config.ts has two), in
 * one process: the first makes the folder, the next ones find it
 * (`SITECACHE_TEST_RUN_DIR`) and leave it alone, and the first one's teardown,
 * which runs last, removes it.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir, userInfo } from "node:os"
import { join } from "node:path"

function makeWritable(path: string): void {
  try {
    if (!lstatSync(path).isDirectory()) return
    chmodSync(path, 0o700)
    for (const name of readdirSync(path)) makeWritable(join(path, name))
  } catch {}
}

/** What tests left, by name with its random suffix cut (`sitecache-fs-AbC123` → `sitecache-fs`), with counts. */
function describeLeftovers(names: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const name of names) {
    const kind = name.replace(/-[A-Za-z0-9]{6}$/, "").replace(/-\d+$/, "")
    counts.set(kind, (counts.get(kind) ?? 0) + 1)
  }
  return [...counts].map(([kind, count]) => (count > 1 ? `${kind} ×${count}` : kind)).join(", ")
}

const RUN_DIR = "SITECACHE_TEST_RUN_DIR"

export default function setup(): () => void {
  const current = process.env[RUN_DIR]
  if (current !== undefined && current === process.env.TMPDIR) return () => {}
  const previous = process.env.TMPDIR
  const runDir = mkdtempSync(join(tmpdir(), "sitecache-test-run-"))
  // Like the system's temporary folder: a test's child process running as another user can use it.
  chmodSync(runDir, 0o1777)
  const tsxCache = `tsx-${userInfo().uid}`
  try {
    mkdirSync(join(tmpdir(), tsxCache), { recursive: true, mode: 0o700 })
    symlinkSync(join(tmpdir(), tsxCache), join(runDir, tsxCache))
  } catch {}
  process.env.TMPDIR = runDir
  process.env[RUN_DIR] = runDir
  return () => {
    delete process.env[RUN_DIR]
    let left: string[] = []
    try {
      left = readdirSync(runDir).filter((name) => name !== tsxCache)
    } catch {}
    if (left.length > 0) {
      console.warn(
        `test run: ${left.length} temporary item(s) not removed by the tests that made them: ${describeLeftovers(left)}`,
      )
    }
    try {
      rmSync(runDir, { recursive: true, force: true, maxRetries: 3 })
    } catch {
      makeWritable(runDir)
      rmSync(runDir, { recursive: true, force: true, maxRetries: 3 })
    }
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
  }
}
