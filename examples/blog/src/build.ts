/**
 * A build: every markdown document of the content directory rendered
 * through the cached pipeline into the output directory, plus an index page
 * and the assets; then one summary line, and the build's record (run history
 * and manifest, for `sitecache inspect` and `sitecache explain`).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { readdir, readFile, rm } from "node:fs/promises"
import { dirname, extname, join, relative, resolve, sep } from "node:path"
import {
  BuildSession,
  BuildStats,
  type Cache,
  type CacheCounters,
  contentHash,
  createCache,
  createNullCache,
  FileHasher,
  key,
  type RunSummary,
} from "@sitecache/core"
import { type CachedProcessor, cached, cacheStatus, dependenciesOf, type PackageResolver, valueBytes } from "@sitecache/unified"
import { VFile } from "vfile"
import type { Site } from "./config.js"
import { blogPipeline } from "./pipeline.js"
import { type Reporter, silentReporter, type VFileMessage } from "./reporter.js"
import { escapeHtml, expandTemplate } from "./templates.js"

/** What one document became. */
export interface DocumentResult {
  /** Source path, relative to the project root, with `/`. */
  readonly source: string
  /** Absolute source path. */
  readonly file: string
  /** Content hash of the source rendered. */
  readonly sourceHash: string
  /** Absolute output path. */
  readonly output: string
  /** Output path relative to the output directory, with `/`. */
  readonly url: string
  readonly title: string
  readonly description: string
  readonly date: string
  readonly hit: boolean
  /** Time processing took on a miss; time to restore and write it on a hit, in ms. */
  readonly ms: number
  /** Files it read besides its source (absolute): layout, partials. */
  readonly dependencies: readonly string[]
  readonly messages: readonly VFileMessage[]
  /** Bytes of the page. */
  readonly bytes: number
  /** What the output directory's record keeps of the page: its hash, size and modification time. */
  readonly page: PageStamp
}

/** A page as the output directory's record knows it: content hash, size, modification time. */
export type PageStamp = readonly [hash: string, size: number, mtimeMs: number]

export interface BuildResult {
  readonly documents: readonly DocumentResult[]
  readonly stats: BuildStats
  /** The summary line. */
  readonly summary: string
  readonly elapsedMs: number
  /** Bytes written to the output directory. */
  readonly bytes: number
  /** The cache's counters for this build (`undefined` for an uncached build). */
  readonly cache: CacheCounters | undefined
  readonly run: RunSummary | undefined
  /** Whether the render pipeline (unified and the plugins) was loaded. */
  readonly pipelineLoaded: boolean
  /** Where the time went, in ms: opening the cache, listing, the documents, index and assets, the build's record. */
  readonly phases: Readonly<Record<BuildPhase, number>>
  /** The renderer the build used (watch mode renders what changes with it). */
  readonly renderer: Renderer
}

export type BuildPhase = "open" | "prepare" | "documents" | "site" | "record"

export interface BuildOptions {
  /** The cache to use (left open). Default: opened from the site's configuration, closed at the end. */
  readonly cache?: Cache
  /** The session to build in (watch mode keeps one open). Default: `blogSession(site, …)` for this build. */
  readonly session?: BuildSession
  readonly reporter?: Reporter
  /** Reuse a renderer across builds (watch mode). */
  readonly renderer?: Renderer
  /** Fingerprint input: installed package versions (tests substitute it). */
  readonly resolver?: PackageResolver
  readonly files?: FileHasher
  /** Render with the bare processor, without any cache code (the benchmark's baseline). */
  readonly uncached?: boolean
}

/** Renders documents of one site through one cached processor. */
export class Renderer {
  readonly site: Site
  readonly cache: Cache
  readonly files: FileHasher
  readonly processor: CachedProcessor
  #directories = new Set<string>()
  /** Pages the output directory holds, as the last build recorded them (read on first use). */
  #pages: Map<string, PageStamp> | undefined

  constructor(site: Site, options: { cache: Cache; files?: FileHasher; resolver?: PackageResolver }) {
    this.site = site
    this.cache = options.cache
    // Per build: `build()` refreshes it when it starts (and the watcher invalidates what changes), so a lookup
    // need not `stat` the layouts and partials every document depends on.
    this.files = options.files ?? new FileHasher({ root: site.root, recheck: "per-build" })
    this.processor = cached(blogPipeline(site.config), {
      cache: options.cache,
      root: site.root,
      files: this.files,
      ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
    })
  }

  #ensureDirectory(dir: string): void {
    if (this.#directories.has(dir)) return
    mkdirSync(dir, { recursive: true })
    this.#directories.add(dir)
  }

  /** Render one document to its output file. */
  async render(path: string, stats: BuildStats | undefined, uncached = false): Promise<DocumentResult> {
    const started = performance.now()
    const { site } = this
    // Synchronous file calls: a build does nothing else meanwhile, and fs/promises' readFile and
    // writeFile cost several times more (a thread pool round trip per open, stat, read, close).
    const value = readFileSync(path, "utf8")
    const file = new VFile({ path, cwd: site.root, value })
    if (uncached) await (await this.processor.processor()).process(file)
    else await this.processor.withStats(stats).process(file)
    const url = outputUrl(site, path)
    const output = join(site.outDir, ...url.split("/"))
    const status = cacheStatus(file)
    // A page restored from the cache is written as the UTF-8 bytes it was stored as, never decoded.
    const page = this.#writePage(url, output, valueBytes(file) ?? String(file.value), status?.result)
    const matter = (file.data.matter ?? {}) as Record<string, unknown>
    return {
      source: projectPath(site.root, path),
      file: path,
      // The cache key took the source's content hash already; only a build without the adapter (`uncached`) hashes it here.
      sourceHash: status?.content ?? contentHash(value),
      output,
      url,
      title: String(file.data.title ?? url),
      description: String(file.data.description ?? ""),
      date: typeof matter.date === "string" ? matter.date : "",
      hit: status?.hit ?? false,
      ms: status !== undefined && !status.hit ? status.ms : performance.now() - started,
      dependencies: dependenciesOf(file),
      messages: file.messages,
      bytes: page[1],
      page,
    }
  }

  /**
   * Write a page unless the output directory already holds it: the last build
   * recorded each page's hash, size and modification time, so an unchanged
   * page costs one `stat` (no read, no write), keeps its modification time
   * (what deploy tools look at), and a page changed by hand is written again.
   */
  #writePage(url: string, output: string, html: string | Uint8Array, result: string | undefined): PageStamp {
    this.#pages ??= readPages(this.site.outDir)
    // A page that went through the cache is identified by its result (entry key and dependency
    // hashes: one result, one page, which is what the cache relies on), so it need not be hashed;
    // a page rendered without the cache is hashed.
    const hash = result === undefined ? key(html).hex : `result:${result}`
    const known = this.#pages.get(url)
    if (known !== undefined && known[0] === hash) {
      const stats = statSync(output, { throwIfNoEntry: false })
      if (stats !== undefined && stats.size === known[1] && stats.mtimeMs === known[2]) return known
    }
    this.#ensureDirectory(dirname(output))
    writeFileSync(output, html)
    const stats = statSync(output)
    const page: PageStamp = [hash, stats.size, stats.mtimeMs]
    this.#pages.set(url, page)
    return page
  }
}

/**
 * Write `text` to `path` unless the file already holds exactly that: pages
 * that did not change keep their modification time (what deploy tools such as
 * rsync look at), and a warm build writes nothing it does not have to.
 */
export function writeIfChanged(path: string, content: string | Buffer): boolean {
  try {
    if (typeof content === "string" ? readFileSync(path, "utf8") === content : readFileSync(path).equals(content)) return false
  } catch {}
  writeFileSync(path, content)
  return true
}

export function projectPath(root: string, path: string): string {
  const rel = relative(root, path)
  return (rel.startsWith("..") ? path : rel).split(sep).join("/")
}

/** `guide/setup.md` → `guide/setup.html` (relative to the output directory). */
export function outputUrl(site: Site, path: string): string {
  const rel = relative(site.contentDir, path).split(sep).join("/")
  return rel.slice(0, rel.length - extname(rel).length) + ".html"
}

/** Every markdown document under `dir` (skipping `.`/`_` folders and node_modules), sorted. */
export async function listDocuments(dir: string): Promise<string[]> {
  const found: string[] = []
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || entry.name.startsWith("_") || entry.name === "node_modules") continue
      const path = join(at, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile() && /\.(md|markdown)$/i.test(entry.name)) found.push(path)
    }
  }
  walk(dir)
  return found.sort()
}

/** Run `task` over `items`, at most `limit` at a time, in order of start. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/**
 * The output directory's record of what the last build wrote: every page with
 * its hash, size and modification time (so the next build skips unchanged
 * pages), and the other files (so it removes what no source makes any more).
 */
const OUTPUTS_FILE = ".blog-outputs.json"

interface OutputsRecord {
  readonly format: 1
  readonly pages: Readonly<Record<string, PageStamp>>
  readonly files: readonly string[]
}

function readOutputs(outDir: string): OutputsRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(join(outDir, OUTPUTS_FILE), "utf8")) as OutputsRecord
    return record.format === 1 && typeof record.pages === "object" && Array.isArray(record.files) ? record : undefined
  } catch {
    return undefined
  }
}

function readPages(outDir: string): Map<string, PageStamp> {
  const pages = new Map<string, PageStamp>()
  for (const [url, stamp] of Object.entries(readOutputs(outDir)?.pages ?? {})) {
    if (Array.isArray(stamp) && stamp.length === 3) pages.set(url, stamp)
  }
  return pages
}

/** Open the site's cache; backend packages resolve from the blog's own dependencies. */
export function openCache(site: Site): Promise<Cache> {
  return createCache(site.cache, { resolveFrom: import.meta.url })
}

/**
 * The site's build session: the cache of its configuration (flags and
 * environment already applied by `loadSite`), records under the tool name
 * `blog`, a file hasher that rechecks per build (every build refreshes it and
 * the watcher invalidates what changes, so lookups need no `stat`).
 */
export function blogSession(
  site: Site,
  options: { readonly cache?: Cache; readonly files?: FileHasher; readonly keepOpen?: boolean } = {},
): BuildSession {
  return new BuildSession({
    tool: "blog",
    label: "blog",
    root: site.root,
    config: site.cache,
    env: {},
    argv: [],
    open: { resolveFrom: import.meta.url },
    files: options.files ?? new FileHasher({ root: site.root, recheck: "per-build" }),
    log: false,
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    ...(options.keepOpen === undefined ? {} : { keepOpen: options.keepOpen }),
  })
}

/** Build the whole site. */
export async function build(site: Site, options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now()
  const reporter = options.reporter ?? silentReporter()
  // A build without the cache (the benchmark's baseline) has no session: nothing is opened, read or recorded.
  const session = options.uncached
    ? undefined
    : (options.session ??
      blogSession(site, {
        ...(options.renderer === undefined ? {} : { cache: options.renderer.cache, files: options.renderer.files }),
        ...(options.cache === undefined ? {} : { cache: options.cache }),
        ...(options.files === undefined ? {} : { files: options.files }),
      }))
  const current = await session?.start()
  const stats = current?.stats ?? new BuildStats()
  const phases: Record<BuildPhase, number> = { open: performance.now() - started, prepare: 0, documents: 0, site: 0, record: 0 }
  let mark = performance.now()
  const lap = (phase: BuildPhase) => {
    const now = performance.now()
    phases[phase] = now - mark
    mark = now
  }
  let finished = false
  try {
    const renderer =
      options.renderer ??
      new Renderer(site, {
        cache: current?.cache ?? options.cache ?? createNullCache(),
        files: current?.files ?? options.files ?? new FileHasher({ root: site.root, recheck: "per-build" }),
        ...(options.resolver === undefined ? {} : { resolver: options.resolver }),
      })
    const paths = await listDocuments(site.contentDir)
    lap("prepare")
    reporter.start(paths.length)
    const results: DocumentResult[] = []
    await eachLimited(paths, site.config.concurrency, async (path) => {
      const result = await renderer.render(path, stats, options.uncached)
      results.push(result)
      reporter.document(result)
    })
    lap("documents")
    results.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
    let bytes = results.reduce((sum, result) => sum + result.bytes, 0)
    bytes += await writeSiteFiles(site, results)
    lap("site")
    const elapsedMs = performance.now() - started
    finished = true
    const report = await session?.finish({ bytes, elapsedMs })
    const summary = report?.line ?? stats.summary({ label: "blog", bytes, elapsedMs })
    // The cache's counters, not `inspect()`: counting what a shared cache holds is a pass over all of it.
    const info = current?.cache.counters()
    lap("record")
    reporter.end(summary)
    return {
      documents: results,
      stats,
      summary,
      elapsedMs,
      bytes,
      cache: info,
      run: report?.run,
      pipelineLoaded: renderer.processor.loaded,
      phases,
      renderer,
    }
  } finally {
    // A build that failed is not recorded; the cache its session opened is closed.
    if (!finished) await session?.abort()
  }
}

/** The index page, the assets, and the removal of pages whose source is gone. Returns bytes written. */
export async function writeSiteFiles(site: Site, documents: readonly DocumentResult[]): Promise<number> {
  mkdirSync(site.outDir, { recursive: true })
  let bytes = 0
  const written = new Set(documents.map((document) => document.url))
  const indexName = written.has("index.html") ? "all-pages.html" : "index.html"
  const index = await renderIndex(site, documents)
  writeIfChanged(join(site.outDir, indexName), index)
  written.add(indexName)
  bytes += Buffer.byteLength(index)
  let assets: string[] = []
  try {
    assets = (await readdir(site.assetsDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name)
  } catch {}
  if (assets.length > 0) mkdirSync(join(site.outDir, "assets"), { recursive: true })
  for (const name of assets) {
    writeIfChanged(join(site.outDir, "assets", name), readFileSync(join(site.assetsDir, name)))
    written.add(`assets/${name}`)
  }
  const previous = readOutputs(site.outDir)
  for (const url of [...Object.keys(previous?.pages ?? {}), ...(previous?.files ?? [])]) {
    if (!written.has(url) && !url.split("/").includes("..")) await rm(join(site.outDir, url), { force: true })
  }
  const pageUrls = new Set(documents.map((document) => document.url))
  const record: OutputsRecord = {
    format: 1,
    pages: Object.fromEntries(
      documents.map((document) => [document.url, document.page] as const).sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
    files: [...written].filter((url) => !pageUrls.has(url)).sort(),
  }
  writeIfChanged(join(site.outDir, OUTPUTS_FILE), `${JSON.stringify(record)}\n`)
  return bytes
}

/** The index: every page, newest first (by front matter `date`), then by title. */
export async function renderIndex(site: Site, documents: readonly DocumentResult[]): Promise<string> {
  // Plain code-unit comparisons: the same order on every machine, and no locale data to load.
  const pages = [...documents].sort((a, b) =>
    a.date !== b.date ? (a.date < b.date ? 1 : -1) : a.title !== b.title ? (a.title < b.title ? -1 : 1) : a.url < b.url ? -1 : 1,
  )
  const items = pages
    .map((page) => {
      const date = page.date ? `<time>${escapeHtml(page.date)}</time> ` : ""
      const description = page.description ? `<p>${escapeHtml(page.description)}</p>` : ""
      return `<li>${date}<a href="./${encodeURI(page.url)}">${escapeHtml(page.title)}</a>${description}</li>`
    })
    .join("\n")
  let template: string
  try {
    template = await readFile(join(site.layoutsDir, "index.html"), "utf8")
  } catch {
    template = "<!doctype html>\n<title>{{site.title}}</title>\n<h1>{{site.title}}</h1>\n{{content}}\n"
  }
  const html = await expandTemplate(
    template,
    { title: site.config.title, "site.title": site.config.title, root: "./", description: "" },
    { partials: resolve(site.partialsDir) },
  )
  return html.replace("{{content}}", `<ul class="pages">\n${items}\n</ul>`)
}
