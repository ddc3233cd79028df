/**
 * Native modules only the benchmark's peer stores need, compiled on the first
 * `pnpm bench` that runs a suite using them, not by every install.
 *
 * `sqlite3` exists here only for `@keyv/sqlite` (a peer store the SQLite
 * suites compare with). The workspace install skips its build script
 * (`ignoredBuiltDependencies` in pnpm-workspace.yaml), so a clone compiles one
 * native module, better-sqlite3. Its binding is built here, once, by its own
 * install script run through npm (which brings node-gyp and the machine's
 * build settings), inside its folder under node_modules (ignored by git).
 */
import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const testPackage = join(dirname(fileURLToPath(import.meta.url)), "..", "package.json")

/** The suites that load `@keyv/sqlite`. */
export const SQLITE3_SUITES: readonly string[] = ["local-sqlite", "site"]

function loads(require: NodeJS.Require, id: string): unknown {
  try {
    require(id)
    return undefined
  } catch (error) {
    return error
  }
}

/** Compile `sqlite3` for `@keyv/sqlite` when its binding is missing; throws with what to do when that fails. */
export function ensureSqlite3(): void {
  const fromKeyv = createRequire(createRequire(testPackage).resolve("@keyv/sqlite"))
  const manifest = fromKeyv.resolve("sqlite3/package.json")
  if (loads(fromKeyv, "sqlite3") === undefined) return
  const dir = dirname(manifest)
  console.log(`bench: compiling sqlite3 for @keyv/sqlite, once (a peer store compared with; a minute or more): ${dir}`)
  const started = performance.now()
  const run = spawnSync("npm", ["run", "install", "--foreground-scripts"], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] })
  const error = loads(createRequire(manifest), "sqlite3")
  if (run.status !== 0 || error !== undefined) {
    throw new Error(
      `bench: could not build sqlite3 in ${dir} (npm exit ${run.status ?? run.error?.message}); ` +
        "it needs npm, python3, make and a C++ compiler. Run `npm run install` there, or leave out the suites " +
        `${SQLITE3_SUITES.join(" and ")}`,
      { cause: error },
    )
  }
  console.log(`bench: sqlite3 built in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}
