/**
 * The example built with the real `vite build`, as `pnpm build` does, on a
 * copy in a temporary directory with its SQLite cache there too: cold, warm
 * (every wrapped transform a hit), and with `SITECACHE=off`; the three
 * `dist/` trees are byte-identical.
 */
import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const run = promisify(execFile)
/** Node flags to run the workspace's TypeScript sources (the `source` export condition, tsx). */
const sourceNodeArgs = () => [
  "--conditions=@sitecache/source",
  "--import",
  pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href,
]
const example = join(import.meta.dirname, "..")
const root = mkdtempSync(join(tmpdir(), "sitecache-vite-cli-"))

async function vite(outDir: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [...sourceNodeArgs(), "node_modules/vite/bin/vite.js", "build", "--configLoader", "native", "--outDir", outDir],
    { cwd: root, env: { ...process.env, SITECACHE_DIR: join(root, ".cache"), ...env } },
  )
  return stdout
}

function files(outDir: string): Map<string, string> {
  const hashes = new Map<string, string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else hashes.set(relative(join(root, outDir), path), createHash("sha256").update(readFileSync(path)).digest("hex"))
    }
  }
  walk(join(root, outDir))
  return hashes
}

describe("examples/vite-site built with `vite build`", () => {
  let cold: string
  let warm: string
  let off: string
  beforeAll(async () => {
    for (const item of ["index.html", "src", "content", "vite.config.ts", "package.json"])
      cpSync(join(example, item), join(root, item), { recursive: true })
    symlinkSync(join(example, "node_modules"), join(root, "node_modules"), "dir")
    cold = await vite("dist-cold")
    warm = await vite("dist")
    off = await vite("dist-off", { SITECACHE: "off" })
  }, 180_000)
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it("misses every wrapped transform cold and hits every one warm, in SQLite", () => {
    expect(cold).toMatch(/^sitecache: 12 documents, 0 hits, 12 misses/m)
    expect(warm).toMatch(/^sitecache: 12 documents, 12 hits, 0 misses, 100\.0% hit rate/m)
    expect(existsSync(join(root, ".cache/cache.db"))).toBe(true)
  })

  it("prints the summary right after Vite's own", () => {
    expect(warm).toMatch(/✓ built in .*\nsitecache: /)
  })

  it("emits byte-identical dist/ cold, warm and with the cache off", () => {
    expect(off).toMatch(/^sitecache: off/m)
    const reference = files("dist-off")
    expect([...reference.keys()].filter((file) => file.endsWith(".js")).length).toBeGreaterThan(6)
    expect(files("dist-cold")).toEqual(reference)
    expect(files("dist")).toEqual(reference)
  })
})
