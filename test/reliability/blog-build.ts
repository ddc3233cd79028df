/**
 * One whole build of the example blog (examples/blog), as its `blog` command
 * runs one: the site at `root` (its `blog.config.json`), the cache in `dir`
 * (`{ backend, dir }` over the site's own setting), real renders that block
 * the event loop. build-child.ts runs it in a process of its own;
 * concurrent-builds.test.ts also runs it in the test's process, where a build
 * needs no process of its own (the one before the racing builds, and the ones
 * after them that check what they left).
 */
import { createHash } from "node:crypto"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { build, loadSite, silentReporter } from "example-blog"

export interface BuildReport {
  readonly documents: number
  readonly hits: number
  readonly misses: number
  /** What the build's cache counted (`inspect()` after the build's record was written). */
  readonly puts: number
  readonly errors: number
  readonly warnings: string[]
  /** sha256 over every page and asset's path and bytes. */
  readonly site: string
}

function digest(dir: string): string {
  const hash = createHash("sha256")
  const walk = (path: string): void => {
    for (const name of readdirSync(path).sort()) {
      // The blog's own record of what it wrote holds modification times.
      if (name.startsWith(".")) continue
      const full = join(path, name)
      if (statSync(full).isDirectory()) walk(full)
      else hash.update(relative(dir, full)).update("\0").update(readFileSync(full)).update("\0")
    }
  }
  walk(dir)
  return hash.digest("hex")
}

/** Build the blog at `root` with the cache `{ backend, dir }`; every sitecache warning of the build is reported. */
export async function buildBlog(backend: string, root: string, dir: string): Promise<BuildReport> {
  const warnings: string[] = []
  // The build opens its own cache, which reports through process warnings.
  const listener = (warning: Error) => {
    if (warning.name === "SitecacheWarning") warnings.push(warning.message)
  }
  process.on("warning", listener)
  try {
    const site = await loadSite({ cwd: root, overrides: { cache: { backend, dir } } })
    const result = await build(site, { reporter: silentReporter() })
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve))
    return {
      documents: result.stats.documents,
      hits: result.stats.hits,
      misses: result.stats.misses,
      puts: result.cache?.puts ?? -1,
      errors: result.cache?.errors ?? -1,
      warnings,
      site: digest(site.outDir),
    }
  } finally {
    process.off("warning", listener)
  }
}
