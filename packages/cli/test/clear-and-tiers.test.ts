/** `clear` on a terminal, and configurations with tiers; in this process, on a SQLite cache. */
import { PassThrough } from "node:stream"
import { createCache } from "@sitecache/core"
import { beforeEach, describe, expect, it } from "vitest"
import { main } from "../src/main.js"
import { tempProject, writeFiles } from "./helpers.js"

async function inProcess(argv: string[], options: { cwd: string; tty?: boolean; input?: string }) {
  let stdout = ""
  let stderr = ""
  const out = new PassThrough().on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
  const err = new PassThrough().on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty === true })
  if (options.input !== undefined) stdin.end(options.input)
  const code = await main(argv, { stdout: out, stderr: err, stdin, env: {}, cwd: options.cwd })
  return { code, stdout, stderr }
}

let root: string
beforeEach(async () => {
  root = await tempProject()
  const cache = await createCache({ backend: "sqlite", root }, { resolveFrom: import.meta.url })
  await cache.putMany([
    ["a", 1],
    ["b", 2],
  ])
  await cache.close()
})

describe("clear on a terminal", () => {
  it("asks, and deletes nothing unless told yes", async () => {
    const declined = await inProcess(["clear", "--cache-backend", "sqlite"], { cwd: root, tty: true, input: "n\n" })
    expect(declined.code).toBe(1)
    expect(declined.stderr).toMatch(
      /^Delete every entry of the sqlite cache at .*cache\.db \(2 entries\)\? \[y\/N\] nothing deleted\n$/,
    )
    const agreed = await inProcess(["clear", "--cache-backend", "sqlite"], { cwd: root, tty: true, input: "yes\n" })
    expect(agreed.code).toBe(0)
    expect(agreed.stdout).toMatch(/^cleared the sqlite cache at .*: removed 2 entries, /)
  })
})

describe("tiers", () => {
  it("works on the last persistent tier, or the one --tier names", async () => {
    await writeFiles(root, { "sitecache.config.json": JSON.stringify({ backend: ["memory", "sqlite"] }) })
    const run = await inProcess(["inspect", "--json"], { cwd: root })
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ backend: "sqlite", entries: 2 })
    const named = await inProcess(["verify", "--tier", "sqlite", "--json"], { cwd: root })
    expect(JSON.parse(named.stdout)).toMatchObject({ checked: 2, ok: 2 })
    const wrong = await inProcess(["inspect", "--tier", "redis"], { cwd: root })
    expect(wrong).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/bad value for `--tier`: expected one of sqlite, got "redis"/),
    })
  })
})
