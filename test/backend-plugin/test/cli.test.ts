/**
 * The `sitecache` command finds a backend the way a build does: the jsonfile
 * backend, which no sitecache package knows, by module path and by name.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import { fileURLToPath } from "node:url"
import { main } from "@sitecache/cli"
import { afterEach, describe, expect, it } from "vitest"
import { createCache } from "./open.js"

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url))
const MODULE = fileURLToPath(new URL("../src/index.ts", import.meta.url))

async function sitecache(argv: string[], cwd: string) {
  let stdout = ""
  let stderr = ""
  const out = new PassThrough().on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
  const err = new PassThrough().on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
  const stdin = Object.assign(new PassThrough(), { isTTY: false })
  stdin.end("")
  const code = await main(argv, { stdout: out, stderr: err, stdin, env: {}, cwd })
  return { code, stdout, stderr }
}

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe("sitecache on a backend core has never heard of", () => {
  it("inspects and verifies it, found by module path or by name, and says where it is", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sitecache-jsonfile-cli-"))
    dirs.push(dir)
    const cache = await createCache("jsonfile", { location: dir })
    await cache.putMany([
      ["a", { html: "<p>a</p>" }],
      ["b", { html: "<p>b</p>" }],
    ])
    await cache.close()
    for (const backend of [MODULE, "jsonfile"]) {
      const inspect = await sitecache(["inspect", "--cache-backend", backend, "--cache-dir", dir], PACKAGE_ROOT)
      expect(inspect, backend).toMatchObject({ code: 0, stderr: "" })
      expect(inspect.stdout).toContain(`jsonfile cache at ${join(dir, "entries.json")}`)
      expect(inspect.stdout).toMatch(/entries: 2 entries/)
      const verify = await sitecache(["verify", "--cache-backend", backend, "--cache-dir", dir], PACKAGE_ROOT)
      expect(verify, backend).toMatchObject({ code: 0 })
      expect(verify.stdout).toMatch(/ok: +2/)
    }
  })

  it("says where it looked when there is no such cache, and creates nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sitecache-jsonfile-cli-"))
    dirs.push(dir)
    const run = await sitecache(["inspect", "--cache-backend", MODULE, "--cache-dir", join(dir, "none")], PACKAGE_ROOT)
    expect(run.code).not.toBe(0)
    expect(run.stderr).toContain(`a jsonfile cache at ${join(dir, "none", "entries.json")}`)
  })
})
