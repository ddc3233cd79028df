/** The command line itself: help, usage mistakes and configuration lookup, with exit codes. */

import { spawn } from "node:child_process"
import { createFsCache } from "@sitecache/backend-fs"
import { childNodeArgs } from "@sitecache/conformance"
import { beforeAll, describe, expect, it } from "vitest"
import { COMMANDS, type CommandName } from "../src/args.js"
import { BIN, sitecache, sitecacheBinary, tempProject, writeFiles } from "./helpers.js"

const commands = Object.keys(COMMANDS) as CommandName[]

it("the binary: a real `sitecache` process prints its report and exits with the command's code, and exits 0 quietly when its reader goes away", async () => {
  // The one test that starts the binary: every other test runs `main` in the test's process. This one checks the
  // binary's own wiring (argv, streams, cwd, exit code) and what only it does: a reader that goes away
  // (`sitecache inspect | head -1`) is not an error, as for every Unix tool.
  const root = await tempProject()
  const cache = await createFsCache({ dir: `${root}/build-cache` })
  for (let i = 0; i < 40; i++) await cache.put(`page-${i}`, `<p>${"x".repeat(100 * i)}</p>`)
  await cache.close()
  const closedReader = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const args = ["inspect", "--cache-backend", "fs", "--cache-dir", "build-cache", "--top", "40"]
    const child = spawn(process.execPath, [...childNodeArgs(), BIN, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    // The pipe's reader is gone before the command writes anything: every write fails with EPIPE.
    child.stdout.destroy()
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stderr }))
  })
  const [run, closed] = await Promise.all([
    sitecacheBinary(["verify", "--json", "--cache-backend", "fs", "--cache-dir", "build-cache"], { cwd: root }),
    closedReader,
  ])
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  expect(run.json()).toMatchObject({ checked: 40, ok: 40, damaged: 0 })
  expect(closed).toEqual({ code: 0, stderr: "" })
})

describe("exit codes and messages", () => {
  it("prints help and exits 0", async () => {
    const run = await sitecache(["--help"])
    expect(run.code).toBe(0)
    for (const command of commands) expect(run.stdout).toContain(`  ${command} `)
    expect(run.stdout).toMatch(/Exit codes/)
  })

  it("rejects an unknown flag with exit code 2 and a pointer to help", async () => {
    const run = await sitecache(["verify", "--bogus"])
    expect(run).toMatchObject({ code: 2, stdout: "" })
    expect(run.stderr).toBe("sitecache verify: unknown option `--bogus` (see `sitecache verify --help`)\n")
  })

  it("rejects a bad value with exit code 2 naming the flag", async () => {
    const run = await sitecache(["prune", "--older-than", "soon", "--cache-dir", "/nonexistent"])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/bad option `--older-than`: expected a duration/)
  })
})

describe("help", () => {
  it.each(commands)("`%s --help` describes the command and its options", async (command) => {
    const run = await sitecache([command, "--help"])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(new RegExp(`^sitecache ${command}: `))
    expect(run.stdout).toContain(COMMANDS[command].usage)
    for (const option of Object.keys(COMMANDS[command].options)) expect(run.stdout).toContain(`--${option}`)
    expect(run.stdout).toContain("--cache-backend")
  })

  it("`help <command>` is `<command> --help`", async () => {
    expect((await sitecache(["help", "prune"])).stdout).toBe((await sitecache(["prune", "--help"])).stdout)
  })

  it("without a command prints help on stderr and exits 2", async () => {
    const run = await sitecache([])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^sitecache: look after/)
  })

  it("prints the version", async () => {
    expect((await sitecache(["--version"])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
  })
})

describe("usage mistakes exit with code 2", () => {
  it.each([
    [["frobnicate"], /unknown command `frobnicate`/],
    [["inspect", "--yes"], /`inspect` has no option `--yes`/],
    [["inspect", "extra"], /`inspect` takes no arguments, got "extra"/],
    [["explain"], /`explain` takes 1 argument/],
    [["explain", "a.md", "b.md"], /`explain` takes 1 argument/],
    [["prune"], /`prune` needs at least one of `--max-size`, `--older-than`, `--orphans`/],
    [["prune", "--max-size", "lots"], /bad option `--max-size`: expected a size/],
    [["prune", "--max-size"], /argument missing/],
    [["inspect", "--top", "-3"], /Option '--top' argument is ambiguous. Did you forget to specify the option argument/],
    [["inspect", "--top", "many"], /bad value for `--top`: expected a whole number/],
    [
      ["inspect", "--cache-backend", "mongo"],
      /bad option `--cache-backend`: unknown backend "mongo"; expected fs, sqlite or redis$/m,
    ],
    [
      ["inspect", "--cache-backend", "sqllite"],
      /unknown backend "sqllite" \(did you mean `sqlite`\?\); expected fs, sqlite or redis$/m,
    ],
    [["inspect", "--cache-backend", "memory"], /the configured cache is `memory`: it lives only inside a build process/],
    [["inspect", "--cache-backend", "null"], /the configured cache is off/],
  ])("%j", async (argv, message) => {
    const run = await sitecache(argv)
    expect(run.stderr).toMatch(message)
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
  })

  it("rejects a bad SITECACHE_BACKEND", async () => {
    const run = await sitecache(["inspect"], { env: { SITECACHE_BACKEND: "floppy" } })
    expect(run).toMatchObject({ code: 2, stderr: expect.stringMatching(/bad option `SITECACHE_BACKEND`/) })
  })
})

describe("configuration lookup", () => {
  let root: string
  beforeAll(async () => {
    root = await tempProject()
  })

  it("names the config file in a configuration mistake", async () => {
    await writeFiles(root, { "blog.config.json": JSON.stringify({ title: "Blog", cache: { backend: "memory" } }) })
    const run = await sitecache(["inspect"], { cwd: root })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`(from ${root}/blog.config.json)`)
  })

  it("prefers sitecache.config.* to a project config, and flags and environment to both", async () => {
    await writeFiles(root, { "sitecache.config.json": JSON.stringify({ backend: "null" }) })
    expect((await sitecache(["inspect"], { cwd: root })).stderr).toMatch(/the configured cache is off .*sitecache\.config\.json/)
    expect((await sitecache(["inspect"], { cwd: root, env: { SITECACHE_BACKEND: "memory" } })).stderr).toMatch(/is `memory`/)
    const flagged = await sitecache(["inspect", "--cache-backend", "null"], { cwd: root, env: { SITECACHE_BACKEND: "memory" } })
    expect(flagged.stderr).toMatch(/is off/)
  })

  it.each([
    [{ backend: "sqllite" }, "backend", /unknown backend "sqllite" \(did you mean `sqlite`\?\); expected fs, sqlite or redis/],
    [{ backend: "sqlite", maxSize: "lots" }, "maxSize", /expected a size/],
    [{ backend: "sqlite", sqlite: { busyTimeout: "soon" } }, "sqlite.busyTimeout", /expected a number of ms/],
  ])("names the config file in a bad value: %j", async (config, option, message) => {
    const other = await tempProject()
    await writeFiles(other, { "sitecache.config.json": JSON.stringify(config) })
    const run = await sitecache(["inspect", "--root", other])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`bad option \`${option}\``)
    expect(run.stderr).toMatch(message)
    expect(run.stderr).toContain(`(from ${other}/sitecache.config.json)`)
  })

  it("reports an unreadable config file", async () => {
    const other = await tempProject()
    await writeFiles(other, { "sitecache.config.json": "{ not json" })
    const run = await sitecache(["inspect", "--root", other])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/cannot read .*sitecache\.config\.json/)
  })
})
