/**
 * `pnpm consumer`: the packages as a user gets them from the registry.
 *
 * Builds and packs every public package (`pnpm pack`, as publishing does),
 * installs the tarballs with npm into new projects outside the workspace
 * (under the system temp folder; third-party packages come from the npm
 * registry, better-sqlite3 compiles), then checks there:
 *
 * 1. `smoke.mjs`: createCache on SQLite, a unified pipeline through `cached()`
 *    twice (all hits the second time, same pages), `sitecache inspect` and
 *    `verify`; once plainly and once under `node --conditions=source`;
 * 2. types: a file importing every public package, `tsc` with NodeNext,
 *    strict and `skipLibCheck: false`;
 * 3. @sitecache/conformance on the installed fs backend, as a backend's
 *    author runs it (vitest, its child processes included);
 * 4. an fs-only project (core, backend-fs, cli): nothing native installed, and
 *    the command names the package to add when asked for SQLite.
 *
 * Options: `--keep` leaves the temp folder for a look; `--no-build` packs the
 * `dist/` already there. Exit code 0 when every check passed.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
const fixture = join(dirname(fileURLToPath(import.meta.url)), "fixture")
const args = new Set(process.argv.slice(2))
const started = performance.now()

interface Manifest {
  name: string
  private?: boolean
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

const read = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Manifest
const packages = readdirSync(join(repo, "packages"))
  .map((dir) => ({ dir: join(repo, "packages", dir), manifest: read(join(repo, "packages", dir, "package.json")) }))
  .filter(({ manifest }) => manifest.private !== true)

/** The version the workspace pins for a third-party package (from any package's devDependencies, or the root's). */
function pinned(name: string): string {
  for (const manifest of [...packages.map((p) => p.manifest), read(join(repo, "package.json"))]) {
    const version = manifest.devDependencies?.[name] ?? manifest.dependencies?.[name]
    if (version !== undefined && !version.startsWith("workspace:")) return version
  }
  throw new Error(`consumer: no version of ${name} in the workspace's package.json files`)
}

/** Third-party packages of the projects: the peers of the packages and what the fixture uses. */
const THIRD_PARTY = [
  "better-sqlite3",
  "ioredis",
  "unified",
  "remark-parse",
  "remark-rehype",
  "rehype-stringify",
  "vite",
  "@11ty/eleventy",
  "astro",
  "@astrojs/mdx",
  "vitest",
  "typescript",
  "@types/node",
]

function step(name: string): void {
  console.log(`\n== consumer: ${name} (${((performance.now() - started) / 1000).toFixed(0)} s)`)
}

function run(command: string, argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, argv, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`
  if (result.status !== 0) {
    throw new Error(
      `consumer: \`${command} ${argv.join(" ")}\` failed (exit ${result.status ?? result.error?.message}) in ${cwd}:\n${output}`,
    )
  }
  return output
}

function npmInstall(project: string, dependencies: Record<string, string>): void {
  writeFileSync(
    join(project, "package.json"),
    `${JSON.stringify({ name: "sitecache-consumer", private: true, type: "module", dependencies }, null, 2)}\n`,
  )
  // The user's npm settings (registry, cache, nodedir for native builds) apply; nothing from the workspace does.
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], project)
}

const work = mkdtempSync(join(tmpdir(), "sitecache-consumer-"))
let failed = false
try {
  if (!args.has("--no-build")) {
    step("build every package")
    run("pnpm", ["build"], repo)
  }

  step(`pack ${packages.length} public packages`)
  const tarballs = join(work, "tarballs")
  mkdirSync(tarballs)
  const tarballOf: Record<string, string> = {}
  for (const { dir, manifest } of packages) {
    const before = new Set(readdirSync(tarballs))
    run("pnpm", ["pack", "--pack-destination", tarballs], dir)
    const made = readdirSync(tarballs).filter((file) => !before.has(file))
    if (made.length !== 1) throw new Error(`consumer: pnpm pack of ${manifest.name} made ${made.join(", ") || "nothing"}`)
    tarballOf[manifest.name] = `file:${join(tarballs, made[0] as string)}`
    const listed = execFileSync("tar", ["tzf", join(tarballs, made[0] as string)], { encoding: "utf8" })
    if (listed.includes("package/src/")) throw new Error(`consumer: ${manifest.name}'s tarball ships src/`)
    const packed = JSON.parse(
      execFileSync("tar", ["xzOf", join(tarballs, made[0] as string), "package/package.json"], { encoding: "utf8" }),
    )
    if (JSON.stringify(packed.exports).includes("src/")) {
      throw new Error(
        `consumer: ${manifest.name}'s packed exports point at src/, which it does not ship: ${JSON.stringify(packed.exports)}`,
      )
    }
    if (typeof packed.repository?.url !== "string" || typeof packed.repository?.directory !== "string") {
      throw new Error(`consumer: ${manifest.name}'s package.json has no repository with a directory`)
    }
    const tarball = join(tarballs, made[0] as string)
    const readme = execFileSync("tar", ["xzOf", tarball, "package/README.md"], { encoding: "utf8" })
    const relative = readme.match(/\]\((?!https?:|#|mailto:)[^)]+\)/g)
    if (relative !== null) throw new Error(`consumer: ${manifest.name}'s README links relatively: ${relative.join(", ")}`)
    // Source maps name ../src/*.ts, which is not shipped: each must carry the sources' text.
    for (const map of listed.split("\n").filter((file) => file.endsWith(".js.map"))) {
      const parsed = JSON.parse(execFileSync("tar", ["xzOf", tarball, map], { encoding: "utf8" }))
      if (!Array.isArray(parsed.sourcesContent) || parsed.sourcesContent.length !== parsed.sources.length) {
        throw new Error(`consumer: ${manifest.name}'s ${map} has no sourcesContent`)
      }
    }
  }
  console.log(Object.keys(tarballOf).join(", "))

  step("install the tarballs and their peers with npm (better-sqlite3 compiles)")
  const project = join(work, "project")
  mkdirSync(project)
  cpSync(fixture, project, { recursive: true })
  npmInstall(project, { ...tarballOf, ...Object.fromEntries(THIRD_PARTY.map((name) => [name, pinned(name)])) })
  writeFileSync(
    join(project, "types.ts"),
    `${packages.map(({ manifest }, i) => `import * as package${i} from "${manifest.name}"`).join("\n")}\n\n` +
      `export const packages = [${packages.map((_, i) => `package${i}`).join(", ")}]\n` +
      `export { render } from "./types-usage.js"\n`,
  )

  step("smoke: createCache on SQLite, cached() twice, sitecache inspect and verify")
  console.log(run(process.execPath, ["smoke.mjs"], project).trim())
  step("smoke under node --conditions=source")
  console.log(run(process.execPath, ["--conditions=source", "smoke.mjs"], project).trim())

  step("types: every public package, NodeNext, strict, skipLibCheck off")
  const tsc = spawnSync(process.execPath, [join(project, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], {
    cwd: project,
    encoding: "utf8",
  })
  // Each error's first line names its file. Ours: the importing files and every @sitecache package's declarations
  // (with what they import: a missing @types package is reported in our file). A host library's own declarations
  // may not pass skipLibCheck off (Astro 5.18's do not, whatever imports them): listed, not ours to fix.
  const errors = `${tsc.stdout}${tsc.stderr}`.split("\n").filter((line) => /^\S.*\(\d+,\d+\): error TS/.test(line))
  const ours = errors.filter((line) => !line.startsWith("node_modules/") || line.startsWith("node_modules/@sitecache/"))
  const theirs = [...new Set(errors.filter((line) => !ours.includes(line)).map((line) => line.split("/")[1]))]
  if (ours.length > 0 || (tsc.status !== 0 && errors.length === 0)) {
    throw new Error(`consumer: tsc found errors in sitecache's types:\n${ours.join("\n") || tsc.stdout}`)
  }
  console.log(
    `tsc: no error in sitecache's types${theirs.length === 0 ? "" : ` (${errors.length} in host libraries' own declarations: ${theirs.join(", ")})`}`,
  )

  step("@sitecache/conformance on the installed fs backend")
  const report = join(work, "conformance.json")
  run(
    process.execPath,
    [
      join(project, "node_modules", "vitest", "vitest.mjs"),
      "run",
      "conformance.test.mjs",
      "--reporter=json",
      `--outputFile=${report}`,
    ],
    project,
    { ...process.env, CI: "true" },
  )
  const result = JSON.parse(readFileSync(report, "utf8")) as { numTotalTests: number; numPassedTests: number }
  if (result.numTotalTests === 0 || result.numPassedTests !== result.numTotalTests) {
    throw new Error(`consumer: conformance passed ${result.numPassedTests} of ${result.numTotalTests} tests`)
  }
  console.log(`conformance: ${result.numPassedTests} of ${result.numTotalTests} tests passed`)

  step("an fs-only project: core, backend-fs and the CLI")
  const fsOnly = join(work, "fs-only")
  mkdirSync(fsOnly)
  const names = ["@sitecache/core", "@sitecache/backend-fs", "@sitecache/cli"]
  npmInstall(fsOnly, Object.fromEntries(names.map((name) => [name, tarballOf[name] as string])))
  for (const absent of ["better-sqlite3", "ioredis", "@sitecache/backend-sqlite", "@sitecache/backend-redis"]) {
    if (existsSync(join(fsOnly, "node_modules", absent))) throw new Error(`consumer: the fs-only project installed ${absent}`)
  }
  const bin = join(fsOnly, "node_modules", "@sitecache", "cli", "bin", "sitecache.js")
  const asked = spawnSync(process.execPath, [bin, "inspect", "--cache-backend", "sqlite"], { cwd: fsOnly, encoding: "utf8" })
  if (asked.status !== 2 || !asked.stderr.includes("`pnpm add @sitecache/backend-sqlite`")) {
    throw new Error(
      `consumer: sitecache inspect --cache-backend sqlite without the backend (exit ${asked.status}):\n${asked.stderr}`,
    )
  }
  console.log(`nothing native installed; asked for sqlite: ${asked.stderr.trim()}`)
  const fsInspect = spawnSync(process.execPath, [bin, "inspect"], { cwd: fsOnly, encoding: "utf8" })
  if (fsInspect.status !== 1 || !fsInspect.stderr.includes("no cache found, and nothing was created")) {
    throw new Error(`consumer: sitecache inspect with no cache (exit ${fsInspect.status}):\n${fsInspect.stderr}`)
  }
} catch (error) {
  failed = true
  console.error(error instanceof Error ? error.message : error)
} finally {
  if (args.has("--keep")) console.log(`\nconsumer: kept ${work}`)
  else rmSync(work, { recursive: true, force: true })
}
console.log(`\nconsumer: ${failed ? "FAILED" : "passed"} in ${((performance.now() - started) / 1000).toFixed(0)} s`)
process.exitCode = failed ? 1 : 0
