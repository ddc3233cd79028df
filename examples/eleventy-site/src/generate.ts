/**
 * A large variant of the site for the benchmark: the example's layouts,
 * includes, data and home page, with `pages` posts made of real documents no
 * one here wrote, the README files of the packages installed in this
 * workspace (inside `{% raw %}`, since they are not Liquid).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const exampleRoot = join(dirname(fileURLToPath(import.meta.url)), "..")

/** README files of installed packages, 1.5–12 KB, in a stable order. */
export function readmeCorpus(store = join(exampleRoot, "../../node_modules/.pnpm")): string[] {
  const seen = new Set<string>()
  const files: string[] = []
  for (const entry of readdirSync(store).sort()) {
    const modules = join(store, entry, "node_modules")
    if (!existsSync(modules)) continue
    for (const name of readdirSync(modules).sort()) {
      const dirs = name.startsWith("@")
        ? readdirSync(join(modules, name))
            .sort()
            .map((scoped) => join(modules, name, scoped))
        : [join(modules, name)]
      for (const dir of dirs) {
        let real: string
        try {
          real = realpathSync(dir)
        } catch {
          continue
        }
        if (seen.has(real)) continue
        seen.add(real)
        for (const file of ["README.md", "readme.md", "Readme.md"]) {
          const path = join(real, file)
          if (!existsSync(path)) continue
          const size = statSync(path).size
          if (size > 1500 && size < 12_000) files.push(path)
          break
        }
      }
    }
  }
  return files
}

/** Write a site of `pages` posts (plus the home and about pages) into `dir` (replaced). */
export function generateSite(dir: string, pages: number): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, "content/posts"), { recursive: true })
  for (const item of ["_includes", "_data", "index.md", "about.md", "posts/posts.json"])
    cpSync(join(exampleRoot, "content", item), join(dir, "content", item), { recursive: true })
  const corpus = readmeCorpus()
  if (corpus.length === 0) throw new Error("no README files found under node_modules/.pnpm")
  const day = 86_400_000
  for (let i = 0; i < pages; i++) {
    const source = readFileSync(corpus[i % corpus.length] as string, "utf8")
    const date = new Date(Date.UTC(2024, 0, 1) + i * day).toISOString().slice(0, 10)
    const include = i % 3 === 0 ? '\n\n{% include "partials/cache-note.md" %}\n' : "\n"
    writeFileSync(
      join(dir, "content/posts", `post-${String(i + 1).padStart(4, "0")}.md`),
      `---\ntitle: "Post ${i + 1}"\ndate: ${date}\n---\n\n{% raw %}\n${source}\n{% endraw %}${include}`,
    )
  }
}
