/**
 * `pnpm build` of this package, as a user runs it: the real `vite build` of
 * Vite 8 (Rolldown) on examples/vite-site's sources, into a temporary
 * directory, with its SQLite cache there too: cold, warm (every wrapped
 * transform a hit) and with `SITECACHE=off`, three byte-identical `dist/`.
 */
import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const run = promisify(execFile)
const example = join(import.meta.dirname, "..")
const out = mkdtempSync(join(tmpdir(), "sitecache-vite8-cli-"))

async function vite(outDir: string, env: Record<string, string> = {}): Promise<string> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href
  const { stdout } = await run(
    process.execPath,
    [
      "--conditions=@sitecache/source",
      "--import",
      tsx,
      "node_modules/vite/bin/vite.js",
      "build",
      "--configLoader",
      "native",
      "--outDir",
      join(out, outDir),
    ],
    { cwd: example, env: { ...process.env, SITECACHE_DIR: join(out, ".cache"), ...env } },
  )
  return stdout
}

function files(outDir: string): Map<string, string> {
  const hashes = new Map<string, string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else hashes.set(relative(join(out, outDir), path), createHash("sha256").update(readFileSync(path)).digest("hex"))
    }
  }
  walk(join(out, outDir))
  return hashes
}

describe("examples/vite8-site built with Vite 8's `vite build`", () => {
  let cold: string
  let warm: string
  let off: string
  beforeAll(async () => {
    cold = await vite("dist-cold")
    warm = await vite("dist")
    off = await vite("dist-off", { SITECACHE: "off" })
  }, 180_000)
  afterAll(() => rmSync(out, { recursive: true, force: true }))

  it("runs Vite 8", async () => {
    const { stdout } = await run(process.execPath, ["node_modules/vite/bin/vite.js", "--version"], { cwd: example })
    expect(stdout).toMatch(/vite\/8\./)
  })

  it("misses every wrapped transform cold and hits every one warm, in SQLite", () => {
    expect(cold).toMatch(/^sitecache: 12 documents, 0 hits, 12 misses/m)
    expect(warm).toMatch(/^sitecache: 12 documents, 12 hits, 0 misses, 100\.0% hit rate/m)
    expect(existsSync(join(out, ".cache/cache.db"))).toBe(true)
  })

  it("emits byte-identical dist/ cold, warm and with the cache off", () => {
    expect(off).toMatch(/^sitecache: off/m)
    const reference = files("dist-off")
    expect([...reference.keys()].filter((file) => file.endsWith(".js")).length).toBeGreaterThan(6)
    expect(files("dist-cold")).toEqual(reference)
    expect(files("dist")).toEqual(reference)
  })
})
