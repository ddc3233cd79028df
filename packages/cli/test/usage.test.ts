/** The command line itself: help, usage mistakes and configuration lookup, with exit codes. */
import { PassThrough } from "node:stream"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { COMMANDS, type CommandName } from "../src/args.js"
import { main } from "../src/main.js"
import { removeProject, sitecache, tempProject, writeFiles } from "./helpers.js"

/** Run `main` in this process (same code as the binary, for the many small cases). */
async function inProcess(
  argv: string[],
  options: { cwd?: string; env?: Record<string, string>; tty?: boolean; input?: string } = {},
) {
  let stdout = ""
  let stderr = ""
  const out = new PassThrough().on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
  const err = new PassThrough().on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty === true })
  if (options.input !== undefined) stdin.end(options.input)
  const code = await main(argv, { stdout: out, stderr: err, stdin, env: options.env ?? {}, cwd: options.cwd ?? process.cwd() })
  return { code, stdout, stderr }
}

const commands = Object.keys(COMMANDS) as CommandName[]

describe("the binary", () => {
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
    const run = await inProcess([command, "--help"])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(new RegExp(`^sitecache ${command}: `))
    expect(run.stdout).toContain(COMMANDS[command].usage)
    for (const option of Object.keys(COMMANDS[command].options)) expect(run.stdout).toContain(`--${option}`)
    expect(run.stdout).toContain("--cache-backend")
  })

  it("`help <command>` is `<command> --help`", async () => {
    expect((await inProcess(["help", "prune"])).stdout).toBe((await inProcess(["prune", "--help"])).stdout)
  })

  it("without a command prints help on stderr and exits 2", async () => {
    const run = await inProcess([])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^sitecache: look after/)
  })

  it("prints the version", async () => {
    expect((await inProcess(["--version"])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
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
    [["inspect", "--cache-backend", "mongo"], /bad option `--cache-backend`: unknown backend "mongo"/],
    [["inspect", "--cache-backend", "memory"], /the configured cache is `memory`: it lives only inside a build process/],
    [["inspect", "--cache-backend", "null"], /the configured cache is off/],
  ])("%j", async (argv, message) => {
    const run = await inProcess(argv)
    expect(run.stderr).toMatch(message)
    expect(run.code).toBe(2)
    expect(run.stdout).toBe("")
  })

  it("rejects a bad SITECACHE_BACKEND", async () => {
    const run = await inProcess(["inspect"], { env: { SITECACHE_BACKEND: "floppy" } })
    expect(run).toMatchObject({ code: 2, stderr: expect.stringMatching(/bad option `SITECACHE_BACKEND`/) })
  })
})

describe("configuration lookup", () => {
  let root: string
  beforeAll(async () => {
    root = await tempProject()
  })
  afterAll(async () => {
    await removeProject(root)
  })

  it("names the config file in a configuration mistake", async () => {
    await writeFiles(root, { "blog.config.json": JSON.stringify({ title: "Blog", cache: { backend: "memory" } }) })
    const run = await inProcess(["inspect"], { cwd: root })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`(from ${root}/blog.config.json)`)
  })

  it("prefers sitecache.config.* to a project config, and flags and environment to both", async () => {
    await writeFiles(root, { "sitecache.config.json": JSON.stringify({ backend: "null" }) })
    expect((await inProcess(["inspect"], { cwd: root })).stderr).toMatch(/the configured cache is off .*sitecache\.config\.json/)
    expect((await inProcess(["inspect"], { cwd: root, env: { SITECACHE_BACKEND: "memory" } })).stderr).toMatch(/is `memory`/)
    const flagged = await inProcess(["inspect", "--cache-backend", "null"], { cwd: root, env: { SITECACHE_BACKEND: "memory" } })
    expect(flagged.stderr).toMatch(/is off/)
  })

  it("reports an unreadable config file", async () => {
    const other = await tempProject()
    await writeFiles(other, { "sitecache.config.json": "{ not json" })
    const run = await inProcess(["inspect", "--root", other])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/cannot read .*sitecache\.config\.json/)
    await removeProject(other)
  })
})
