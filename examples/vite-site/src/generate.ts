/**
 * A large variant of the site for the benchmark: the example's app with
 * `pages` markdown pages made of real documents no one here wrote, the
 * README files of the packages installed in this workspace.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { exampleRoot } from "./site.js"

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

/** Write a site of `pages` pages into `dir` (replaced). */
export function generateSite(dir: string, pages: number): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, "content/_partials"), { recursive: true })
  // The client (index.html, src/*.js, src/*.css); not the build's own TypeScript.
  for (const item of ["index.html", "src"])
    cpSync(join(exampleRoot, item), join(dir, item), { recursive: true, filter: (path) => !path.endsWith(".ts") })
  cpSync(join(exampleRoot, "content/_partials"), join(dir, "content/_partials"), { recursive: true })
  const corpus = readmeCorpus()
  if (corpus.length === 0) throw new Error("no README files found under node_modules/.pnpm")
  for (let i = 0; i < pages; i++) {
    const source = readFileSync(corpus[i % corpus.length] as string, "utf8")
    const name = `page-${String(i + 1).padStart(4, "0")}.md`
    writeFileSync(join(dir, "content", name), `# Page ${i + 1}\n\n${source}\n\n@include footer.md\n`)
  }
}
