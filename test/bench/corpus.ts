/**
 * A corpus of real markdown that no one here wrote: the READMEs, docs and
 * other markdown files (changelogs, guides) that installed packages ship,
 * deduplicated by content.
 *
 * Packages are found through pnpm's store layout,
 * `node_modules/.pnpm/<name>@<version>/node_modules/<name>` (real
 * directories, not the symlinks that point at them), plus the global
 * `node_modules` of the running Node.js, so each installed package version is
 * read once. The private workspace package `test/bench/corpus-packages`
 * installs a few dozen unified, remark-lint, retext and rehype plugins and
 * markdownlint for their documentation only (nothing imports them): with them
 * the workspace alone, pinned by the lockfile, ships more than 1,000 distinct
 * documents (the global `node_modules`, npm's docs, adds more).
 * Used by the benchmark suites (`blog`, and
 * any suite that needs real documents); run it alone to see its figures:
 *
 *   node --conditions=@sitecache/source --import tsx test/bench/corpus.ts [--write <dir>]
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"

export interface CorpusDocument {
  /** `<package>@<version>/<path inside the package>`, with `/`. */
  readonly id: string
  /** Real path of the file. */
  readonly path: string
  readonly text: string
  readonly bytes: number
}

export interface Corpus {
  readonly documents: readonly CorpusDocument[]
  readonly bytes: number
  readonly medianBytes: number
  readonly p95Bytes: number
  /** Package directories read. */
  readonly packages: number
  /** Files left out because their content was already in the corpus. */
  readonly duplicates: number
}

export interface GatherOptions {
  /** The workspace root whose `node_modules/.pnpm` is read. Default: this repository. */
  readonly root?: string
  /** Keep at most this many documents (the first by id). */
  readonly limit?: number
  /** Skip files larger than this (bytes). Default 512 KiB: a few generated API dumps would dominate timings. */
  readonly maxBytes?: number
  /** Only READMEs and doc/docs folders; default `false`: every markdown file packages ship (changelogs too). */
  readonly readmesAndDocsOnly?: boolean
  /** More `node_modules` folders to read. Default: the global one of this Node.js, and `SITECACHE_CORPUS_ROOTS`. */
  readonly extraRoots?: readonly string[]
}

const WORKSPACE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")
const README = /^readme\.(md|markdown)$/i
const MARKDOWN = /\.(md|markdown)$/i
const DOC_FOLDERS = new Set(["doc", "docs", "documentation"])

/** Directories of the packages in a `node_modules` folder (scoped ones too), and of the packages nested in theirs. */
function packagesIn(nodeModules: string, into: Set<string>): void {
  let entries: import("node:fs").Dirent[]
  try {
    entries = readdirSync(nodeModules, { withFileTypes: true })
  } catch {
    return
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue
    const path = join(nodeModules, entry.name)
    if (entry.name.startsWith("@")) {
      packagesIn(path, into)
      continue
    }
    let real: string
    try {
      real = realpathSync(path)
    } catch {
      continue
    }
    if (into.has(real) || !existsSync(join(real, "package.json"))) continue
    into.add(real)
    packagesIn(join(real, "node_modules"), into)
  }
}

/**
 * Real directories of the installed packages: every package of pnpm's store
 * layout (`node_modules/.pnpm/*\/node_modules`), and of the global
 * `node_modules` of the Node.js running this (npm and what it bundles), each
 * real directory once.
 */
export function installedPackageDirs(root = WORKSPACE_ROOT, extraRoots: readonly string[] = defaultExtraRoots()): string[] {
  const dirs = new Set<string>()
  const store = join(root, "node_modules", ".pnpm")
  for (const entry of readdirSync(store, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name !== "node_modules") packagesIn(join(store, entry.name, "node_modules"), dirs)
  }
  packagesIn(join(root, "node_modules"), dirs)
  for (const extra of extraRoots) packagesIn(extra, dirs)
  return [...dirs].sort()
}

/** The global `node_modules` next to this Node.js (`<prefix>/lib/node_modules`), and `SITECACHE_CORPUS_ROOTS` (`:`-separated). */
function defaultExtraRoots(): string[] {
  const roots = [join(dirname(dirname(process.execPath)), "lib", "node_modules")]
  for (const extra of (process.env.SITECACHE_CORPUS_ROOTS ?? "").split(":")) if (extra) roots.push(resolve(extra))
  return roots.filter((dir) => existsSync(dir))
}

function packageId(dir: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string }
    return `${manifest.name ?? dir.split(sep).pop()}@${manifest.version ?? "0.0.0"}`
  } catch {
    return dir.split(sep).slice(-2).join("/")
  }
}

/**
 * The markdown a package ships (outside its nested node_modules): READMEs
 * anywhere, everything under doc/docs folders, and, with `all`, every other
 * markdown file too (changelogs, histories, guides, licenses).
 */
function markdownFiles(packageDir: string, all: boolean): string[] {
  const found: string[] = []
  const walk = (dir: string, inDocs: boolean, depth: number): void => {
    if (depth > 8) return
    let entries: import("node:fs").Dirent[]
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path, inDocs || DOC_FOLDERS.has(entry.name.toLowerCase()), depth + 1)
      else if (entry.isFile() && (README.test(entry.name) || ((inDocs || all) && MARKDOWN.test(entry.name)))) found.push(path)
    }
  }
  walk(packageDir, false, 0)
  return found.sort()
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] as number
}

/** Gather the corpus (synchronously: it reads a few thousand small files once). */
export function gatherCorpus(options: GatherOptions = {}): Corpus {
  const maxBytes = options.maxBytes ?? 512 * 1024
  const seen = new Set<string>()
  const documents: CorpusDocument[] = []
  let duplicates = 0
  const packages = installedPackageDirs(options.root, options.extraRoots)
  for (const dir of packages) {
    const id = packageId(dir)
    for (const path of markdownFiles(dir, options.readmesAndDocsOnly !== true)) {
      const bytes = readFileSync(path)
      if (bytes.length === 0 || bytes.length > maxBytes) continue
      const text = bytes.toString("utf8").replace(/\r\n?/g, "\n")
      const hash = createHash("sha256").update(text).digest("hex")
      if (seen.has(hash)) {
        duplicates++
        continue
      }
      seen.add(hash)
      documents.push({ id: `${id}/${relative(dir, path).split(sep).join("/")}`, path, text, bytes: bytes.length })
    }
  }
  documents.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const kept = options.limit === undefined ? documents : documents.slice(0, options.limit)
  const sizes = kept.map((document) => document.bytes).sort((a, b) => a - b)
  return {
    documents: kept,
    bytes: sizes.reduce((sum, size) => sum + size, 0),
    medianBytes: percentile(sizes, 0.5),
    p95Bytes: percentile(sizes, 0.95),
    packages: packages.length,
    duplicates,
  }
}

/** Write the corpus as a folder of markdown (`<dir>/<package>@<version>/<path>`), e.g. for `blog --content`. */
export function writeCorpus(corpus: Corpus, dir: string): void {
  for (const document of corpus.documents) {
    const path = join(dir, ...document.id.replace(/[<>:"|?*]/g, "_").split("/"))
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, document.text)
  }
}

export function describeCorpus(corpus: Corpus): string {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
  return (
    `corpus: ${corpus.documents.length} documents from ${corpus.packages} installed packages ` +
    `(${corpus.duplicates} duplicates left out), ${(corpus.bytes / 1024 / 1024).toFixed(1)} MiB, ` +
    `median ${kib(corpus.medianBytes)}, p95 ${kib(corpus.p95Bytes)}`
  )
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now()
  const corpus = gatherCorpus()
  console.log(`${describeCorpus(corpus)} (gathered in ${(performance.now() - started).toFixed(0)} ms)`)
  const at = process.argv.indexOf("--write")
  if (at !== -1 && process.argv[at + 1] !== undefined) {
    writeCorpus(corpus, resolve(process.argv[at + 1] as string))
    console.log(`wrote ${corpus.documents.length} files under ${process.argv[at + 1]}`)
  }
}
