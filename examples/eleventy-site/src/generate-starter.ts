/**
 * The starter-like site (starter/) scaled for the benchmark: its layouts,
 * data, pages and image, with `posts` posts made of real documents no one here
 * wrote (the README files of installed packages, inside `{% raw %}` since they
 * are not Nunjucks, their remote images made links), tagged from a small set so that tag pages exist as on a
 * real blog. One post in 25 shows the starter's image; one in 3 includes the
 * shared partial. Every page prints the build date, as the starter's do.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { exampleRoot, readmeCorpus } from "./generate.js"

const TAGS = ["cache", "builds", "keys", "eleventy", "markdown"]

/**
 * A README with its images made links: they are remote (badges), and the image
 * transform would fetch them. The benchmark never touches the network.
 */
function withoutRemoteImages(markdown: string): string {
  return markdown.replaceAll("![", "[").replace(/<img\b/gi, "<img eleventy:ignore")
}

/** Write a starter-like site of `posts` posts into `dir` (replaced). */
export function generateStarter(dir: string, posts: number): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (const item of ["_data", "_includes", "content"])
    cpSync(join(exampleRoot, "starter", item), join(dir, item), { recursive: true })
  const corpus = readmeCorpus()
  if (corpus.length === 0) throw new Error("no README files found under node_modules/.pnpm")
  const day = 86_400_000
  for (let i = 0; i < posts; i++) {
    const source = withoutRemoteImages(readFileSync(corpus[i % corpus.length] as string, "utf8"))
    const date = new Date(Date.UTC(2020, 0, 1) + i * day).toISOString().slice(0, 10)
    const tags = [TAGS[i % TAGS.length], TAGS[(i * 7 + 3) % TAGS.length]]
    const image = i % 25 === 0 ? "\n\n![The starter's gradient](images/gradient.png)\n" : ""
    const include = i % 3 === 0 ? '\n\n{% include "partials/cache-rule.md" %}\n' : "\n"
    writeFileSync(
      join(dir, "content/blog", `post-${String(i + 1).padStart(4, "0")}.md`),
      `---\ntitle: "Post ${i + 1}"\ndate: ${date}\ntags: ${JSON.stringify([...new Set(tags)])}\n---\n${image}\n{% raw %}\n${source}\n{% endraw %}${include}`,
    )
  }
}
