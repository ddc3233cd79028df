import { execFile } from "node:child_process"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { afterEach, beforeEach, expect, it, vi } from "vitest"
import { BLOG_PACKAGE_ROOT } from "../src/index.js"
import { makeSite, removeDir, tempDir } from "./helpers.js"

let dir: string
beforeEach(async () => {
  dir = await tempDir()
  await makeSite(dir, { cache: { backend: "sqlite" } })
})
afterEach(async () => {
  await removeDir(dir)
})

/** Run the `blog` command (bin/blog.js, as a user would) in `cwd`. */
function blog(args: readonly string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(BLOG_PACKAGE_ROOT, "bin", "blog.js"), ...args],
      { cwd, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

it("builds with the configured SQLite cache; the warm build, in a new process, never loads the pipeline", async () => {
  const cold = await blog(["--report", join(dir, "cold.json")], dir)
  expect(cold.code).toBe(0)
  expect(cold.stderr).toContain("rendered content/one.md")
  expect(cold.stderr).toMatch(/blog: 6 documents, 0 hits, 6 misses, 0\.0% hit rate/)
  expect(cold.stderr).toMatch(/^content\/lint\.md\n3:1-3:20 +warning +Heading levels should increase by one/m)
  const warm = await blog(["--report", join(dir, "warm.json")], dir)
  expect(warm.code).toBe(0)
  expect(warm.stderr).toMatch(/blog: 6 documents, 6 hits, 0 misses, 100\.0% hit rate/)
  expect(warm.stderr).toMatch(/^content\/lint\.md\n3:1-3:20 +warning +Heading levels should increase by one/m)
  expect(warm.stderr).not.toContain("rendered ")
  const report = JSON.parse(await readFile(join(dir, "warm.json"), "utf8")) as Record<string, unknown>
  expect(report).toMatchObject({ documents: 6, hits: 6, misses: 0, pipelineLoaded: false, backend: "sqlite" })
  expect(String(report.cacheDir)).toBe(join(dir, "node_modules", ".cache", "sitecache"))
})

it("explains its flags, and refuses unknown ones and bad values", async () => {
  const { main } = await import("../src/cli.js")
  const output: string[] = []
  const capture = (chunk: string | Uint8Array) => {
    output.push(String(chunk))
    return true
  }
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation(capture)
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(capture)
  try {
    expect(await main(["--help"])).toBe(0)
    expect(output.join("")).toContain("--no-cache")
    output.length = 0
    expect(await main(["--fast"])).toBe(2)
    expect(output.join("")).toContain("unknown argument `--fast`")
    output.length = 0
    expect(await main(["--cache=sometimes"])).toBe(2)
    expect(output.join("")).toContain("bad option `--cache`")
    output.length = 0
    expect(await main(["--content"])).toBe(2)
    expect(output.join("")).toContain("`--content` expects a value")
    output.length = 0
    expect(await main(["--out", "--quiet"])).toBe(2)
    expect(output.join("")).toContain("`--out` expects a value")
    output.length = 0
    expect(await main(["stray"])).toBe(2)
    expect(output.join("")).toContain("unexpected argument `stray`")
  } finally {
    stdout.mockRestore()
    stderr.mockRestore()
  }
})
