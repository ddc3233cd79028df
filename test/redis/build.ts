/**
 * A small deterministic "site build" for the Redis fault tests: generated
 * markdown-ish documents rendered with some CPU work, memoized per document
 * with `memoize` (as an adapter does), with build statistics and a manifest.
 */
import { createHash } from "node:crypto"
import { BuildStats, type Cache, FileHasher, memoize } from "@sitecache/core"

export interface Doc {
  readonly path: string
  readonly source: string
}

/** `count` documents, the same on every call. */
export function makeDocs(count: number): Doc[] {
  return Array.from({ length: count }, (_, i) => ({
    path: `content/posts/post-${i}.md`,
    source: `# Post ${i}\n\n${"Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(8 + (i % 5))}\n\n- item ${i}\n`,
  }))
}

/** Deterministic CPU work standing in for a markdown pipeline. */
export function render(doc: Doc): string {
  let digest = doc.source
  for (let round = 0; round < 20; round++) digest = createHash("sha256").update(digest).digest("hex")
  const [title, ...body] = doc.source.split("\n")
  const paragraphs = body
    .filter((line) => line.trim() !== "")
    .map((line) => (line.startsWith("- ") ? `<li>${line.slice(2)}</li>` : `<p>${line.trim()}</p>`))
  return `<h1>${(title ?? "").replace(/^# /, "")}</h1>\n${paragraphs.join("\n")}\n<!-- ${digest.slice(0, 16)} -->`
}

export interface BuildResult {
  readonly output: Map<string, string>
  readonly stats: BuildStats
  /** Per document: whether it was a hit, in document order. */
  readonly hits: boolean[]
}

/**
 * Build `docs` through `cache`, `concurrency` documents at a time.
 * `beforeDocument(i)` runs before document `i` (to kill or restart a server mid-build).
 */
export async function build(
  cache: Cache,
  docs: readonly Doc[],
  options: { concurrency?: number; beforeDocument?: (index: number) => void | Promise<void> } = {},
): Promise<BuildResult> {
  const stats = new BuildStats()
  const files = new FileHasher({ root: process.cwd() })
  const output = new Map<string, string>()
  const hits = new Array<boolean>(docs.length).fill(false)
  let next = 0
  const worker = async () => {
    while (next < docs.length) {
      const i = next++
      const doc = docs[i] as Doc
      await options.beforeDocument?.(i)
      const result = await memoize(cache, [doc.path, doc.source, "render-v1"], () => render(doc), {
        stats,
        files,
        document: doc.path,
      })
      output.set(doc.path, result.value)
      hits[i] = result.hit
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 1 }, worker))
  return { output, stats, hits }
}

/** What a build without any cache produces. */
export function expectedOutput(docs: readonly Doc[]): Map<string, string> {
  return new Map(docs.map((doc) => [doc.path, render(doc)]))
}
