/**
 * `eleventyConfig.addPlugin(sitecache, options)`: cache Eleventy's markdown
 * rendering and the HTML transforms the user names.
 *
 * Markdown. Eleventy renders a markdown template in two steps: its template
 * engine (Liquid by default) first, then the markdown library's synchronous
 * `render(source, data)`. The plugin wraps that `render` (through
 * `amendLibrary("md")`), so the key holds the exact markdown the library
 * receives: whatever includes, data files and front matter the template engine
 * used are in it, and a change to one misses exactly for the templates that
 * used it. Since `render` must answer synchronously, hits are served from
 * entries read in one batch at `eleventy.before` (the keys of the previous
 * build's manifest), misses are rendered and written behind, all at once, at
 * `eleventy.after`.
 *
 * Transforms. The named transforms (`transforms: ["htmlmin"]`) are async, so
 * their results are looked up directly; they are written behind too.
 *
 * Declared dependencies. Files read by markdown-it plugins themselves, or
 * anything else that shapes a template's output without being in its
 * markdown, can be declared with the `dependencies` option or in the data
 * cascade (`sitecacheDependencies: ["_data/glossary.json"]`): an entry is
 * served only while those files are unchanged.
 */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { types } from "node:util"
import {
  BadOptionError,
  BuildStats,
  type Cache,
  type CacheConfig,
  createCache,
  type DocumentRecord,
  type DocumentRef,
  describeUnsound,
  FileHasher,
  finishBuild,
  Key,
  type KeyPart,
  key,
  type MemoEntry,
  type MemoResult,
  normalizeCacheConfig,
  type RunSummary,
  readManifest,
  resolveCacheConfig,
  type Uncacheable,
} from "@sitecache/core"
import { fingerprint, installedVersion, type ValueFingerprint } from "./fingerprint.js"
import { type MarkdownLibrary, markdownFingerprint } from "./markdown.js"

/** This package, as it appears in every key: a new release of the plugin starts cold. */
export const ADAPTER: string = (() => {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    name: string
    version: string
  }
  return `${manifest.name}@${manifest.version}`
})()

/** The tool name of this plugin's build records (`sitecache inspect`, `explain`). */
export const TOOL = "eleventy"

/** Template data, as Eleventy passes it to the markdown library and transforms. */
export type TemplateData = Readonly<Record<string, unknown>>

export interface SitecacheOptions extends CacheConfig {
  /** An open cache to use (never closed by the plugin). Default: one opened from the other options. */
  readonly cache?: Cache
  /** Cache markdown rendering. Default `true`. */
  readonly markdown?: boolean
  /** Names of transforms (`addTransform`) whose results to cache, e.g. `["htmlmin"]`. Default none. */
  readonly transforms?: readonly string[]
  /** Bump to invalidate every entry (what the fingerprint cannot see). */
  readonly version?: string | number
  /**
   * Dotted paths of template data that markdown-it plugins read from `env`
   * (Eleventy passes the template's data): their values go into the key.
   * Default none; what the template engine used is already in the markdown.
   */
  readonly renderData?: readonly string[]
  /** Files (project-relative) a template's markdown rendering depends on beyond its source. */
  readonly dependencies?: (data: TemplateData) => Iterable<string> | undefined
  /** Environment for `resolveCacheConfig` (`SITECACHE=off`, ...). Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Where the summary line goes: `false` for nowhere. Default `console.log`, after Eleventy's own line. */
  readonly log?: false | ((line: string) => void)
  /** Called after each build, once the build is recorded. */
  readonly onBuildEnd?: (report: EleventyCacheReport) => void | Promise<void>
}

/** What a build did with the cache. */
export interface EleventyCacheReport {
  /** `false` when the cache was off (`SITECACHE=off`, `mode: "off"`). */
  readonly enabled: boolean
  readonly line: string
  readonly hits: number
  readonly misses: number
  readonly savedMs: number
  /** Time spent inside the markdown library's `render` (lookups included), in ms. */
  readonly renderMs: number
  /** Time spent inside the cached transforms (lookups included), in ms. */
  readonly transformMs: number
  /** Entries read at `eleventy.before` from the previous build's manifest. */
  readonly prefetched: number
  readonly stats: BuildStats
  readonly run?: RunSummary
}

/** The parts of Eleventy's configuration API the plugin uses. */
export interface EleventyConfigLike {
  amendLibrary(name: string, callback: (library: MarkdownLibrary) => void): void
  addTransform(name: string, callback: TransformCallback): void
  on(event: string, callback: (argument: EleventyEventArgument) => unknown): void
  readonly transforms?: Record<string, TransformCallback>
  readonly plugins?: readonly { readonly plugin?: unknown; readonly options?: unknown }[]
  getNamespacedName?(name: string): string
}

export interface EleventyEventArgument {
  readonly runMode?: string
  readonly outputMode?: string
  readonly [name: string]: unknown
}

/** The `this` of a transform: where the content goes. */
export interface TransformThis {
  readonly inputPath?: string
  readonly outputPath?: string | false
  readonly url?: string | false
  readonly baseHref?: string
  readonly page?: unknown
}

export type TransformCallback = (this: TransformThis, content: unknown, outputPath?: unknown) => unknown

const PLUGIN_OPTIONS = new Set([
  "cache",
  "markdown",
  "transforms",
  "version",
  "renderData",
  "dependencies",
  "env",
  "log",
  "onBuildEnd",
])

type Entry = MemoEntry<string>

interface Pending {
  readonly key: Key
  readonly entry: Entry
  readonly depPaths: readonly string[]
  /** An entry exists under this key that must be replaced (its dependencies changed). */
  readonly replace: boolean
}

interface Session {
  readonly cache: Cache
  readonly owned: boolean
  readonly stats: BuildStats
  /** Entries read at `eleventy.before` (dependencies checked), by hex key. */
  readonly ready: Map<string, Entry>
  /** Keys whose stored entry is stale (a dependency changed). */
  readonly stale: Set<string>
  readonly pending: Map<string, Pending>
  /** How many times each document rendered markdown in this build. */
  readonly renders: Map<string, number>
  readonly prefetched: number
  /** The previous build's manifest documents, kept in an incremental build's manifest for those it did not render. */
  readonly previousDocuments: Readonly<Record<string, DocumentRecord>>
  renderMs: number
  transformMs: number
}

/** A key part computed once per build, and why the steps it is part of cannot be cached, when they cannot. */
interface Part {
  readonly hex: string
  readonly uncacheable?: Uncacheable
}

/** Named parts → key, as `memoize` does: the part hashes go to the build manifest, where `sitecache explain` reads them. */
function namedKey(parts: Readonly<Record<string, KeyPart>>): { key: Key; parts: Record<string, string> } {
  const named: Record<string, string> = {}
  for (const [name, part] of Object.entries(parts)) if (part !== undefined) named[name] = key(part).hex
  return { key: key(named), parts: named }
}

function pick(data: unknown, path: string): ValueFingerprint {
  let value: unknown = data
  for (const name of path.split(".")) {
    if (value === null || typeof value !== "object") return fingerprint(undefined)
    value = (value as Record<string, unknown>)[name]
  }
  return fingerprint(value)
}

/** The first part of `fingerprints` that cannot be seen, as a reason naming `what` it belongs to. */
function unsoundReason(
  fingerprints: readonly ValueFingerprint[],
  what: (index: number) => string,
  base: (index: number) => string = () => "",
): string | undefined {
  for (const [index, { unsound }] of fingerprints.entries()) {
    const [first] = unsound
    if (first !== undefined) return describeUnsound(first, what(index), base(index))
  }
  return undefined
}

/** A plugin's name for people: its function's name, read without running anything of it. */
function pluginName(plugin: unknown): string {
  if (typeof plugin !== "function" || types.isProxy(plugin)) return "(anonymous)"
  const name = Reflect.getOwnPropertyDescriptor(plugin, "name")?.value
  return typeof name === "string" && name !== "" ? name : "(anonymous)"
}

function callbackSource(callback: TransformCallback): string {
  const original = (callback as { __eleventyInternal?: { callback?: unknown } }).__eleventyInternal?.callback
  return Function.prototype.toString.call(typeof original === "function" ? original : callback)
}

function checkOptions(options: SitecacheOptions): void {
  if (options.transforms !== undefined) {
    if (!Array.isArray(options.transforms) || options.transforms.some((name) => typeof name !== "string" || name === ""))
      throw new BadOptionError("transforms", 'expected a list of transform names, e.g. `["htmlmin"]`')
  }
  if (options.renderData !== undefined) {
    if (!Array.isArray(options.renderData) || options.renderData.some((path) => typeof path !== "string" || path === ""))
      throw new BadOptionError("renderData", 'expected a list of dotted data paths, e.g. `["page.url"]`')
  }
  if (options.dependencies !== undefined && typeof options.dependencies !== "function")
    throw new BadOptionError("dependencies", "expected a function `(data) => paths`")
  if (options.version !== undefined && typeof options.version !== "string" && typeof options.version !== "number")
    throw new BadOptionError("version", "expected a string or a number")
  if (options.markdown !== undefined && typeof options.markdown !== "boolean")
    throw new BadOptionError("markdown", "expected a boolean")
}

/** The state of the plugin in one Eleventy process (several builds in watch mode). */
export class EleventyCache {
  readonly options: SitecacheOptions
  readonly cacheConfig: CacheConfig
  readonly root: string
  readonly files: FileHasher
  #config: EleventyConfigLike
  #session: Session | null = null
  #cache: Cache | undefined
  /** Entries this process read or wrote, carried into the next build (watch mode renders only what changed). */
  #known = new Map<string, Entry>()
  #pluginsPart: Part | undefined
  #markdownParts = new WeakMap<object, Part>()
  #log: (line: string) => void

  constructor(config: EleventyConfigLike, options: SitecacheOptions = {}) {
    checkOptions(options)
    this.options = options
    const cacheConfig: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(options)) if (!PLUGIN_OPTIONS.has(name)) cacheConfig[name] = value
    this.cacheConfig = cacheConfig as CacheConfig
    this.root = resolve(options.root ?? process.cwd())
    // A configuration mistake (unknown option, bad value) throws now, naming the option.
    normalizeCacheConfig({ root: this.root, ...this.cacheConfig })
    this.files = new FileHasher({ root: this.root })
    this.#config = config
    this.#log = options.log === false ? () => {} : (options.log ?? ((line) => console.log(line)))
  }

  /** The open session of the current build, or `null` (off, or between builds). */
  get session(): Session | null {
    return this.#session
  }

  /** `eleventy.before`: open the cache and read the previous build's entries. */
  async before(): Promise<void> {
    const env = this.options.env ?? process.env
    const config = resolveCacheConfig({ config: { root: this.root, ...this.cacheConfig }, env })
    if (config.mode === "off") {
      this.#session = null
      return
    }
    const owned = this.options.cache === undefined
    this.#cache ??= this.options.cache ?? (await createCache(config))
    const cache = this.#cache
    this.files.refresh()
    this.#pluginsPart = undefined
    this.#markdownParts = new WeakMap()
    const manifest = await readManifest(cache, TOOL)
    const hexes = new Set<string>(this.#known.keys())
    for (const record of Object.values(manifest?.documents ?? {})) hexes.add(record.key)
    const missing = [...hexes].filter((hex) => !this.#known.has(hex))
    const read = await cache.getMany<Entry>(missing.map((hex) => Key.fromHex(hex)))
    const candidates = new Map(this.#known)
    missing.forEach((hex, i) => {
      const entry = read[i]
      if (entry !== undefined && typeof entry === "object" && typeof entry.value === "string") candidates.set(hex, entry)
    })
    const ready = new Map<string, Entry>()
    const stale = new Set<string>()
    for (const [hex, entry] of candidates) {
      if (await this.#depsUnchanged(entry)) ready.set(hex, entry)
      else stale.add(hex)
    }
    this.#session = {
      cache,
      owned,
      stats: new BuildStats(),
      ready,
      stale,
      pending: new Map(),
      renders: new Map(),
      prefetched: missing.length - read.filter((entry) => entry === undefined).length,
      previousDocuments: manifest?.documents ?? {},
      renderMs: 0,
      transformMs: 0,
    }
  }

  async #depsUnchanged(entry: Entry): Promise<boolean> {
    for (const [path, hash] of Object.entries(entry.deps ?? {})) if ((await this.files.hash(path)) !== hash) return false
    return true
  }

  /** `eleventy.after`: write the misses, record the build, print the summary after Eleventy's own line. */
  async after(argument: EleventyEventArgument = {}): Promise<void> {
    const session = this.#session
    this.#session = null
    if (session === null) {
      await this.#report("sitecache: off (no cache read or written)", {
        enabled: false,
        hits: 0,
        misses: 0,
        savedMs: 0,
        renderMs: 0,
        transformMs: 0,
        prefetched: 0,
        stats: new BuildStats(),
      })
      return
    }
    const { cache, stats } = session
    const writes: [Key, Entry][] = []
    const replaced: Key[] = []
    for (const [hex, pending] of session.pending) {
      let entry = pending.entry
      if (pending.depPaths.length > 0) {
        const deps: Record<string, string | null> = {}
        for (const path of pending.depPaths) deps[path] = await this.files.hash(path)
        entry = { ...entry, deps }
      }
      if (pending.replace || pending.depPaths.length > 0) replaced.push(pending.key)
      writes.push([pending.key, entry])
      this.#known.set(hex, entry)
    }
    for (const [hex, entry] of session.ready) this.#known.set(hex, entry)
    if (argument.incremental === true) {
      // An incremental build renders only what changed: keep the rest of the manifest, for the next process's prefetch.
      for (const [document, record] of Object.entries(session.previousDocuments))
        if (!stats.documentRecords.has(document)) stats.documentRecords.set(document, record)
    }
    let run: RunSummary | undefined
    try {
      if (replaced.length > 0) await cache.deleteMany(replaced)
      if (writes.length > 0) await cache.putMany(writes)
      run = await finishBuild(cache, stats, TOOL)
    } finally {
      if (session.owned && (argument.runMode === undefined || argument.runMode === "build")) {
        this.#cache = undefined
        this.#known.clear()
        await cache.close()
      }
    }
    await this.#report(stats.summary(), {
      enabled: true,
      hits: stats.hits,
      misses: stats.misses,
      savedMs: stats.savedMs,
      renderMs: session.renderMs,
      transformMs: session.transformMs,
      prefetched: session.prefetched,
      stats,
      ...(run === undefined ? {} : { run }),
    })
  }

  async #report(line: string, report: Omit<EleventyCacheReport, "line">): Promise<void> {
    await this.options.onBuildEnd?.({ line, ...report })
    // Eleventy prints its "Wrote N files" line right after `eleventy.after` resolves.
    setImmediate(() => this.#log(line))
  }

  /**
   * Everything Eleventy plugins were configured with (not this one): a
   * change to one misses. Uncacheable when one cannot be fingerprinted
   * soundly: what a plugin does to the markdown library or to a page cannot
   * be told apart from the rest.
   */
  #plugins(): Part {
    if (this.#pluginsPart === undefined) {
      const eleventy = installedVersion("@11ty/eleventy", this.root)
      const entries = (this.#config.plugins ?? []).filter((entry) => entry.plugin !== sitecache)
      let uncacheable: Uncacheable | undefined
      const plugins = entries.map((entry) => {
        const plugin = fingerprint(entry.plugin)
        const options = fingerprint(entry.options)
        const reason = unsoundReason([plugin, options], (index) => (index === 0 ? "plugin function" : "option"))
        if (reason !== undefined) uncacheable ??= { step: `eleventy plugin ${pluginName(entry.plugin)}`, reason }
        return { plugin: plugin.key, options: options.key }
      })
      const hex = key({ eleventy, plugins }).hex
      this.#pluginsPart = uncacheable === undefined ? { hex } : { hex, uncacheable }
    }
    return this.#pluginsPart
  }

  #markdown(md: MarkdownLibrary): Part {
    let part = this.#markdownParts.get(md)
    if (part === undefined) {
      const version = installedVersion("markdown-it", this.root)
      const library = markdownFingerprint(md)
      const hex = key({ library: library.key, markdownIt: version }).hex
      const reason = unsoundReason([library], () => "markdown library")
      part = reason === undefined ? { hex } : { hex, uncacheable: { step: "markdown-it", reason } }
      this.#markdownParts.set(md, part)
    }
    return part
  }

  #relative(path: unknown): string | null {
    return typeof path === "string" && path !== "" ? this.files.relative(path) : null
  }

  #record(session: Session, result: MemoResult<string>, ms: number, document: DocumentRef): void {
    session.stats.record(result, ms, document)
  }

  /** A hit from the entries read at `eleventy.before` or written earlier in this build. */
  #ready(session: Session, hex: string): Entry | undefined {
    return session.ready.get(hex) ?? session.pending.get(hex)?.entry
  }

  #declaredDependencies(data: unknown): string[] {
    const paths = new Set<string>()
    const declared = (data as { sitecacheDependencies?: unknown } | null)?.sitecacheDependencies
    if (Array.isArray(declared)) for (const path of declared) if (typeof path === "string") paths.add(this.files.relative(path))
    if (this.options.dependencies && data !== null && typeof data === "object") {
      for (const path of this.options.dependencies(data as TemplateData) ?? []) paths.add(this.files.relative(path))
    }
    return [...paths].sort()
  }

  /** The markdown library's `render`, memoized (synchronous). */
  renderMarkdown(md: MarkdownLibrary, render: MarkdownLibrary["render"], source: string, env: unknown): string {
    const session = this.#session
    if (session === null || typeof source !== "string") return render.call(md, source, env)
    const started = performance.now()
    const template = this.#relative((env as { page?: { inputPath?: unknown } } | undefined)?.page?.inputPath)
    const depPaths = this.#declaredDependencies(env)
    const markdown = this.#markdown(md)
    const plugins = this.#plugins()
    const data = this.options.renderData?.map((path) => pick(env, path))
    const dataReason =
      data &&
      unsoundReason(
        data,
        () => "renderData",
        (index) => this.options.renderData?.[index] ?? "",
      )
    const uncacheable =
      markdown.uncacheable ??
      plugins.uncacheable ??
      (dataReason === undefined ? undefined : { step: "markdown", reason: dataReason })
    const { key: entryKey, parts } = namedKey({
      adapter: ADAPTER,
      markdown: markdown.hex,
      plugins: plugins.hex,
      version: this.options.version,
      template,
      data: data?.map((fingerprint) => fingerprint.key),
      deps: depPaths.length > 0 ? depPaths : undefined,
      source,
    })
    const base = template ?? "(markdown)"
    const count = (session.renders.get(base) ?? 0) + 1
    session.renders.set(base, count)
    const document: DocumentRef = count === 1 ? { path: base } : { path: base, variant: String(count) }
    if (uncacheable !== undefined) {
      const computeStarted = performance.now()
      const html = render.call(md, source, env)
      const ms = performance.now() - computeStarted
      session.renderMs += performance.now() - started
      this.#record(session, { ...this.#result(entryKey, { value: html, ms }, parts, false), uncacheable }, ms, document)
      return html
    }
    const found = this.#ready(session, entryKey.hex)
    if (found !== undefined) {
      session.renderMs += performance.now() - started
      this.#record(session, this.#result(entryKey, found, parts, true), 0, document)
      return found.value
    }
    const computeStarted = performance.now()
    const html = render.call(md, source, env)
    const ms = performance.now() - computeStarted
    this.#miss(session, entryKey, { value: html, ms }, depPaths)
    session.renderMs += performance.now() - started
    this.#record(session, this.#result(entryKey, { value: html, ms }, parts, false), ms, document)
    return html
  }

  #miss(session: Session, entryKey: Key, entry: Entry, depPaths: readonly string[]): void {
    if (typeof entry.value !== "string") return
    session.pending.set(entryKey.hex, { key: entryKey, entry, depPaths, replace: session.stale.has(entryKey.hex) })
  }

  #result(entryKey: Key, entry: Entry, parts: Record<string, string>, hit: boolean): MemoResult<string> {
    return {
      value: entry.value,
      key: entryKey,
      hit,
      savedMs: hit ? entry.ms : 0,
      deps: Object.keys(entry.deps ?? {}),
      parts,
      ...(entry.deps === undefined ? {} : { depHashes: entry.deps }),
    }
  }

  /** A transform, memoized (asynchronous: a key not read at `eleventy.before` is looked up). */
  async runTransform(
    name: string,
    callback: TransformCallback,
    context: TransformThis,
    content: unknown,
    outputPath: unknown,
  ): Promise<unknown> {
    const session = this.#session
    if (session === null || typeof content !== "string" || content === "") return callback.call(context, content, outputPath)
    const started = performance.now()
    const output = this.#relative(typeof outputPath === "string" ? outputPath : context.outputPath)
    const plugins = this.#plugins()
    const { key: entryKey, parts } = namedKey({
      adapter: ADAPTER,
      transform: name,
      source: callbackSource(callback),
      plugins: plugins.hex,
      version: this.options.version,
      output,
      url: typeof context.url === "string" ? context.url : null,
      baseHref: context.baseHref,
      content,
    })
    const document: DocumentRef = { path: output ?? this.#relative(context.inputPath) ?? "(content)", step: name }
    if (plugins.uncacheable !== undefined) {
      const computeStarted = performance.now()
      const value = await callback.call(context, content, outputPath)
      const ms = performance.now() - computeStarted
      session.transformMs += performance.now() - started
      const result = this.#result(entryKey, { value: typeof value === "string" ? value : "", ms }, parts, false)
      this.#record(session, { ...result, uncacheable: plugins.uncacheable }, ms, document)
      return value
    }
    let found = this.#ready(session, entryKey.hex)
    if (found === undefined && !session.stale.has(entryKey.hex)) {
      const stored = await session.cache.get<Entry>(entryKey)
      if (stored !== undefined && typeof stored.value === "string" && (await this.#depsUnchanged(stored))) found = stored
    }
    if (found !== undefined) {
      session.transformMs += performance.now() - started
      this.#record(session, this.#result(entryKey, found, parts, true), 0, document)
      return found.value
    }
    const computeStarted = performance.now()
    const value = await callback.call(context, content, outputPath)
    const ms = performance.now() - computeStarted
    session.transformMs += performance.now() - started
    if (typeof value !== "string") {
      session.stats.countUncacheable({ step: `transform ${name}`, reason: "its result is not a string" })
      return value
    }
    this.#miss(session, entryKey, { value, ms }, [])
    this.#record(session, this.#result(entryKey, { value, ms }, parts, false), ms, document)
    return value
  }
}

const amended = new WeakSet<object>()

/**
 * The Eleventy plugin.
 *
 * @example
 * // eleventy.config.js
 * import sitecache from "@sitecache/eleventy"
 * export default (eleventyConfig) => {
 *   eleventyConfig.addPlugin(sitecache, { backend: "sqlite", transforms: ["htmlmin"] })
 * }
 */
export function sitecache(eleventyConfig: EleventyConfigLike, options: SitecacheOptions = {}): EleventyCache {
  const state = new EleventyCache(eleventyConfig, options ?? {})
  if (options?.markdown !== false) {
    eleventyConfig.amendLibrary("md", (md) => {
      if (amended.has(md) || typeof md?.render !== "function") return
      amended.add(md)
      const render = md.render
      Object.defineProperty(md, "render", {
        configurable: true,
        writable: true,
        value: function cachedRender(this: MarkdownLibrary, source: string, env?: unknown) {
          return state.renderMarkdown(this, render, source, env)
        },
      })
    })
  }
  const names = new Set(options?.transforms ?? [])
  if (names.size > 0) {
    const wrap = (name: string, callback: TransformCallback): TransformCallback =>
      function cachedTransform(this: TransformThis, content: unknown, outputPath?: unknown) {
        return state.runTransform(name, callback, this, content, outputPath)
      }
    const wanted = (name: string) => names.has(name) || names.has(eleventyConfig.getNamespacedName?.(name) ?? name)
    const transforms = eleventyConfig.transforms
    if (transforms !== undefined) {
      for (const [name, callback] of Object.entries(transforms)) if (wanted(name)) transforms[name] = wrap(name, callback)
    }
    // Transforms added by plugins that run after this one.
    const addTransform = eleventyConfig.addTransform
    eleventyConfig.addTransform = function (this: EleventyConfigLike, name: string, callback: TransformCallback) {
      addTransform.call(this, name, callback)
      const full = this.getNamespacedName?.(name) ?? name
      const added = this.transforms?.[full]
      if (added !== undefined && (names.has(name) || names.has(full))) this.transforms![full] = wrap(full, added)
    }
  }
  eleventyConfig.on("eleventy.before", () => state.before())
  eleventyConfig.on("eleventy.after", (argument) => state.after(argument))
  return state
}
