/**
 * The example built with the real Eleventy command line, as `pnpm build`
 * does, on a copy in a temporary directory with its SQLite cache there too:
 * cold, warm (every document a hit), and with `SITECACHE=off`; the three
 * `_site/` trees are byte-identical.
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
const root = mkdtempSync(join(tmpdir(), "sitecache-eleventy-cli-"))

async function eleventy(output: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [...sourceNodeArgs(), "node_modules/@11ty/eleventy/cmd.cjs", "--config=eleventy.config.ts", "--quiet", `--output=${output}`],
    { cwd: root, env: { ...process.env, SITECACHE_DIR: join(root, ".cache"), ...env } },
  )
  return stdout
}

function files(output: string): Map<string, string> {
  const hashes = new Map<string, string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else hashes.set(relative(join(root, output), path), createHash("sha256").update(readFileSync(path)).digest("hex"))
    }
  }
  walk(join(root, output))
  return hashes
}

describe("examples/eleventy-site built with the Eleventy CLI", () => {
  let cold: string
  let warm: string
  let off: string
  beforeAll(async () => {
    for (const item of ["content", "src", "eleventy.config.ts", "package.json"])
      cpSync(join(example, item), join(root, item), { recursive: true })
    symlinkSync(join(example, "node_modules"), join(root, "node_modules"), "dir")
    cold = await eleventy("_site")
    cpSync(join(root, "_site"), join(root, "_site-cold"), { recursive: true })
    warm = await eleventy("_site")
    off = await eleventy("_site-off", { SITECACHE: "off" })
  }, 180_000)
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it("misses every document cold and hits every one warm, in SQLite", () => {
    expect(cold).toMatch(/^sitecache: 16 documents, 0 hits, 16 misses/m)
    expect(warm).toMatch(/^sitecache: 16 documents, 16 hits, 0 misses, 100\.0% hit rate/m)
    expect(existsSync(join(root, ".cache/cache.db"))).toBe(true)
  })

  it("prints the summary after Eleventy's own line", () => {
    const lines = warm.trim().split("\n")
    expect(lines.at(-2)).toMatch(/^\[11ty\] Wrote 8 files/)
    expect(lines.at(-1)).toMatch(/^sitecache: /)
  })

  it("writes byte-identical _site/ cold, warm and with the cache off", () => {
    expect(off).toMatch(/^sitecache: off/m)
    const reference = files("_site-off")
    expect(reference.size).toBe(8)
    expect(files("_site-cold")).toEqual(reference)
    expect(files("_site")).toEqual(reference)
  })
})
