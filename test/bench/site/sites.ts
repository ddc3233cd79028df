/**
 * The sites the suite builds, each a project the example blog can build: a
 * folder with `content/` and a `blog.config.json` that borrows the example's
 * layouts, partials and assets.
 *
 * - the real corpus (`../corpus.ts`: markdown no one here wrote, gathered
 *   from the installed packages), written out once per run;
 * - synthetic sites of 1,000 to 50,000 documents (`./synthetic.ts`), kept
 *   between runs (regenerated when the generator changes).
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { BLOG_PACKAGE_ROOT } from "example-blog"
import { type Corpus, writeCorpus } from "../corpus.js"
import { GENERATOR_VERSION, writeSyntheticSite } from "./synthetic.js"

export interface SiteSpec {
  /** `corpus`, `synthetic-10000`, … */
  readonly name: string
  /** Project root (holds `blog.config.json` and `content/`). */
  readonly root: string
  readonly documents: number
}

function writeConfig(root: string, title: string): void {
  const config = {
    title,
    content: "content",
    out: "dist",
    layouts: join(BLOG_PACKAGE_ROOT, "layouts"),
    partials: join(BLOG_PACKAGE_ROOT, "partials"),
    assets: join(BLOG_PACKAGE_ROOT, "assets"),
    // The example's own options, so the corpus renders as the example renders.
    ...pick(JSON.parse(readFileSync(join(BLOG_PACKAGE_ROOT, "blog.config.json"), "utf8")) as Record<string, unknown>, [
      "highlight",
      "autolink",
      "gfm",
    ]),
  }
  writeFileSync(join(root, "blog.config.json"), `${JSON.stringify(config, null, 2)}\n`)
}

function pick(from: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((name) => from[name] !== undefined).map((name) => [name, from[name]]))
}

/** Write the corpus as a site under `root` (replacing an older one). */
export function corpusSite(root: string, corpus: Corpus): SiteSpec {
  rmSync(join(root, "content"), { recursive: true, force: true })
  writeCorpus(corpus, join(root, "content"))
  writeConfig(root, "Real corpus")
  return { name: "corpus", root, documents: corpus.documents.length }
}

/**
 * The synthetic site of `count` documents under `root`, generated unless a
 * previous run left it. Generated in a temporary folder renamed into place,
 * so a run started meanwhile never builds a half-written site.
 */
export function syntheticSite(root: string, count: number): SiteSpec {
  if (!isCurrent(root, count)) {
    const building = `${root}.tmp-${process.pid}`
    rmSync(building, { recursive: true, force: true })
    writeSyntheticSite(join(building, "content"), count)
    writeConfig(building, `Synthetic site of ${count} documents`)
    writeFileSync(join(building, "site.json"), `${JSON.stringify({ version: GENERATOR_VERSION, count })}\n`)
    if (!isCurrent(root, count)) {
      rmSync(root, { recursive: true, force: true })
      try {
        renameSync(building, root)
      } catch (error) {
        // Another run put its copy in place first: use that one.
        if (!isCurrent(root, count)) throw error
      }
    }
    rmSync(building, { recursive: true, force: true })
  }
  return { name: `synthetic-${count}`, root, documents: count }
}

function isCurrent(root: string, count: number): boolean {
  const marker = join(root, "site.json")
  if (!existsSync(marker) || !existsSync(join(root, "blog.config.json"))) return false
  try {
    const written = JSON.parse(readFileSync(marker, "utf8")) as { version: number; count: number }
    return written.version === GENERATOR_VERSION && written.count === count
  } catch {
    return false
  }
}

/** Bytes of the files under `dir` (0 when it does not exist). */
export function directoryBytes(dir: string): number {
  let total = 0
  const walk = (folder: string) => {
    let entries: import("node:fs").Dirent[]
    try {
      entries = readdirSync(folder, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile()) {
        try {
          total += statSync(path).size
        } catch {}
      }
    }
  }
  walk(dir)
  return total
}
