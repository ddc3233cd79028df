import { createHash } from "node:crypto"
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join, relative, sep } from "node:path"
import { type Cache, MemoryStore, StoreCache } from "@sitecache/core"
import { BLOG_PACKAGE_ROOT, type BuildOptions, type BuildResult, build, loadSite, openCache, type Site } from "../src/index.js"

/** Every backend the example is tested on. */
export const BACKENDS = ["memory", "fs", "sqlite"] as const
export type TestBackend = (typeof BACKENDS)[number]

/** The test site's documents: which layout and which partials each one uses is what the tests check. */
export const DOCUMENTS: Readonly<Record<string, string>> = {
  "content/one.md": `---
title: One
date: 2026-03-01
---

# One

{{> note}}

Some text with a [link to two](./two.md).
`,
  "content/two.md": `---
title: Two
---

# Two

\`\`\`js
const answer = 40 + 2
console.log(\`the answer is \${answer}\`)
\`\`\`

| Backend | Persistent |
| --- | --- |
| memory | no |
| sqlite | yes |
`,
  "content/lint.md": `# Lint

### Skipped a level

This page makes the lint plugin warn.
`,
  "content/guide/a.md": `---
title: Guide A
layout: guide
---

# Guide A

{{> note}}
`,
  "content/guide/b.md": `---
title: Guide B
layout: guide
---

# Guide B

- [x] a task list
- [ ] from GFM
`,
  "content/posts/p.md": `---
title: A post
layout: post
date: 2026-02-01
---

# A post

~~struck~~ and www.example.com autolinked.
`,
  "partials/note.md": "> A note included in two pages.\n",
}

export async function tempDir(prefix = "sitecache-blog-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

/** A site in `dir`: the example's layouts, partials and assets, and the test documents. */
export async function makeSite(dir: string, config: Record<string, unknown> = {}): Promise<void> {
  for (const folder of ["layouts", "partials", "assets"]) {
    await cp(join(BLOG_PACKAGE_ROOT, folder), join(dir, folder), { recursive: true })
  }
  for (const [path, text] of Object.entries(DOCUMENTS)) await writeText(join(dir, path), text)
  await writeFile(join(dir, "blog.config.json"), JSON.stringify({ title: "Test site", ...config }, null, 2))
}

export async function writeText(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, text)
}

/**
 * Builds of the site in `dir` on `backend`, as a user runs them one after
 * another: the fs and sqlite caches are opened from the configuration by
 * each build and closed after it; the memory cache is one cache kept
 * between builds (it cannot outlive a process).
 */
export function builder(dir: string, backend: TestBackend) {
  // One memory store for the whole series, so that a read-only build (`--cache=read`) can open a view of it.
  const store = backend === "memory" ? new MemoryStore() : undefined
  const memory: Cache | undefined = store === undefined ? undefined : new StoreCache(store)
  const cacheArgs = backend === "memory" ? [] : ["--cache-backend", backend, "--cache-dir", join(dir, "cache")]
  return {
    async site(argv: readonly string[] = []): Promise<Site> {
      return loadSite({ cwd: dir, argv: [...cacheArgs, ...argv], env: {} })
    },
    async build(argv: readonly string[] = [], options: BuildOptions = {}): Promise<BuildResult> {
      const site = await this.site(argv)
      const offOrRead = argv.some((arg) => arg === "--no-cache" || arg.startsWith("--cache="))
      // The memory cache stands for the configured one, unless the flags ask for another mode.
      if (memory !== undefined && !offOrRead) return build(site, { cache: memory, ...options })
      if (store !== undefined && argv.includes("--cache=read")) {
        return build(site, { cache: new StoreCache(store, { mode: "read-only" }), ...options })
      }
      return build(site, options)
    },
    /** Entries the cache holds now (a build reports only its counters: counting them is a pass over the cache). */
    async entryCount(): Promise<number> {
      if (memory !== undefined) return (await memory.inspect()).entryCount
      const cache = await openCache(await this.site(["--cache=read"]))
      try {
        return (await cache.inspect()).entryCount
      } finally {
        await cache.close()
      }
    },
    memory,
  }
}

/** Which documents missed in a build, sorted. */
export function misses(result: BuildResult): string[] {
  return result.documents
    .filter((document) => !document.hit)
    .map((document) => document.source)
    .sort()
}

/** Every file of the site under `dir` (relative path → sha256 of its bytes), without the build's own record of its outputs. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.name !== ".blog-outputs.json")
        out[relative(dir, path).split(sep).join("/")] = createHash("sha256")
          .update(await readFile(path))
          .digest("hex")
    }
  }
  await walk(dir)
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)))
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}
