/**
 * `eleventyConfig.addPlugin(sitecache, options)`: cache Eleventy's markdown
 * rendering and the transforms the user names, on a `BuildSession` of
 * `@sitecache/core` (one per Eleventy process: open at `eleventy.before`,
 * finish at `eleventy.after`, kept open across the builds of `--watch` and
 * `--serve`).
 *
 * Markdown. Eleventy renders a markdown template in two steps: its template
 * engine first, then the markdown library's synchronous `render(source,
 * data)`. The plugin wraps that `render` (through `amendLibrary("md")`), so
 * the key holds the exact markdown the library receives: whatever includes,
 * data files and front matter the template engine used are in it. Since
 * `render` must answer at once, lookups go through `Build.memoizeSync`:
 * entries read in one batch at `eleventy.before` (the keys of the last
 * build's manifest), misses written in one batch at `eleventy.after`.
 *
 * Transforms. The named transforms are async: their results go through
 * `Build.memoize`. Eleventy's HTML transformer gets more (transform.ts): its
 * posthtml plugins in the key, the local files its images read, a check that
 * the files it wrote are still there, and pages that print the build date.
 */
import { resolve } from "node:path"
import {
  BadOptionError,
  type Build,
  type BuildReport,
  BuildSession,
  type BuildStats,
  type Cache,
  type CacheConfig,
  type MemoContext,
  type RunSummary,
  type Uncacheable,
} from "@sitecache/core"
import { ADAPTER, TOOL } from "./identity.js"
import type { MarkdownLibrary } from "./markdown.js"
import { dataAt, markdownPart, type Part, type PluginEntry, pluginsPart, unsoundReason } from "./parts.js"
import { type HtmlTransformerLike, TransformCache, type TransformCallback, type TransformThis } from "./transform.js"

export type { TransformCallback, TransformThis }
export { ADAPTER, TOOL }

/** Template data, as Eleventy passes it to the markdown library and transforms. */
export type TemplateData = Readonly<Record<string, unknown>>

export interface SitecacheOptions extends CacheConfig {
  /** An open cache to use (never closed by the plugin). Default: one opened from the other options. */
  readonly cache?: Cache
  /** Cache markdown rendering. Default `true`. */
  readonly markdown?: boolean
  /**
   * Names of transforms (`addTransform`) whose results to cache: e.g. `["htmlmin"]`, or
   * `["@11ty/eleventy/html-transformer"]` for Eleventy's HTML transforms (base URLs, image and input-path
   * rewriting, ids). A name no transform has is an error at the first build. Default none.
   */
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
  /** Wall time during which a cached transform ran (lookups included; they run at once), in ms. */
  readonly transformMs: number
  /** Entries read at `eleventy.before` from the last build's manifest. */
  readonly prefetched: number
  /** Pages a cached transform saw that print the time of the build, and of those, how many it could not cache. */
  readonly buildDatePages: { readonly pages: number; readonly of: number; readonly uncached: number }
  readonly stats: BuildStats
  readonly run?: RunSummary
}

/** The parts of Eleventy's configuration API the plugin uses. */
export interface EleventyConfigLike {
  amendLibrary(name: string, callback: (library: MarkdownLibrary) => void): void
  addTransform(name: string, callback: TransformCallback): void
  on(event: string, callback: (argument: EleventyEventArgument) => unknown): void
  readonly transforms?: Record<string, TransformCallback>
  readonly plugins?: readonly PluginEntry[]
  readonly htmlTransformer?: HtmlTransformerLike
  readonly directories?: { readonly output?: string }
  getNamespacedName?(name: string): string
}

export interface EleventyEventArgument {
  readonly runMode?: string
  readonly outputMode?: string
  readonly [name: string]: unknown
}

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

const isString = (value: unknown): string | undefined => (typeof value === "string" ? undefined : "not a string")

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
  if (options.onBuildEnd !== undefined && typeof options.onBuildEnd !== "function")
    throw new BadOptionError("onBuildEnd", "expected a function `(report) => void`")
}

/** The state of the plugin in one Eleventy process (several builds in watch mode). */
export class EleventyCache {
  readonly options: SitecacheOptions
  readonly session: BuildSession
  readonly transforms: TransformCache
  #config: EleventyConfigLike
  #build: Build | undefined
  #pluginsPart: Part | undefined
  #markdownParts = new WeakMap<object, Part>()
  /** How many times each document rendered markdown in this build. */
  #renders = new Map<string, number>()
  #renderMs = 0
  #print: (line: string) => void

  constructor(config: EleventyConfigLike, options: SitecacheOptions = {}) {
    checkOptions(options)
    this.options = options
    const cacheConfig: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(options)) if (!PLUGIN_OPTIONS.has(name)) cacheConfig[name] = value
    const log = options.log
    if (log !== undefined && log !== false && typeof log !== "function")
      throw new BadOptionError("log", "expected a function `(line) => void` or `false`")
    this.#print = log === false ? () => {} : (log ?? ((line) => console.log(line)))
    this.session = new BuildSession({
      tool: TOOL,
      ...(options.root === undefined ? {} : { root: options.root }),
      ...(options.cache === undefined ? {} : { cache: options.cache }),
      config: cacheConfig as CacheConfig,
      ...(options.env === undefined ? {} : { env: options.env }),
      // Eleventy's own command line is not ours: `SITECACHE=off` turns the cache off.
      argv: [],
      preload: true,
      // Closed after a one-off build by `after`; kept open across the builds of --watch and --serve.
      keepOpen: true,
      log: false,
    })
    this.transforms = new TransformCache(config, options.version, () => this.#plugins())
    this.#config = config
  }

  /** The build in progress (`undefined` between builds, or when the cache is off). */
  get build(): Build | undefined {
    return this.#build
  }

  /** `eleventy.before`: check the named transforms, open the cache, read the last build's entries. */
  async before(): Promise<void> {
    this.transforms.checkNames(this.options.transforms ?? [])
    const build = await this.session.start()
    this.#build = build.enabled ? build : undefined
    this.#pluginsPart = undefined
    this.#markdownParts = new WeakMap()
    this.#renders = new Map()
    this.#renderMs = 0
    this.transforms.startBuild(build.enabled ? build : undefined)
  }

  /** `eleventy.after`: write the misses, record the build, print the summary after Eleventy's own line. */
  async after(argument: EleventyEventArgument = {}): Promise<void> {
    this.#build = undefined
    const dates = this.transforms.finishBuild()
    let report: BuildReport | undefined
    try {
      report = await this.session.finish({ incremental: argument.incremental === true })
    } finally {
      if (argument.runMode === undefined || argument.runMode === "build") await this.session.close()
    }
    if (report === undefined) return
    const note =
      dates.pages === 0
        ? ""
        : `; ${dates.pages} of ${dates.of} pages change every build: they print the build date` +
          (dates.uncached > 0 ? ` (${dates.uncached} of them not cached: a transform changes the date)` : "")
    const line = report.line + note
    const { stats } = report
    await this.options.onBuildEnd?.({
      enabled: report.enabled,
      line,
      hits: stats.hits,
      misses: stats.misses,
      savedMs: stats.savedMs,
      renderMs: this.#renderMs,
      transformMs: this.transforms.ms,
      prefetched: report.preloaded,
      buildDatePages: dates,
      stats,
      ...(report.run === undefined ? {} : { run: report.run }),
    })
    // Eleventy prints its "Wrote N files" line right after `eleventy.after` resolves.
    setImmediate(() => this.#print(line))
  }

  #plugins(): Part {
    this.#pluginsPart ??= pluginsPart(
      (this.#config.plugins ?? []).filter((entry) => entry.plugin !== sitecache),
      this.session.root,
    )
    return this.#pluginsPart
  }

  #markdown(md: MarkdownLibrary): Part {
    let part = this.#markdownParts.get(md)
    if (part === undefined) {
      part = markdownPart(md, this.session.root)
      this.#markdownParts.set(md, part)
    }
    return part
  }

  #declaredDependencies(data: unknown, build: Build): string[] {
    const paths = new Set<string>()
    const declared = (data as { sitecacheDependencies?: unknown } | null)?.sitecacheDependencies
    if (Array.isArray(declared)) for (const path of declared) if (typeof path === "string") paths.add(build.files.relative(path))
    if (this.options.dependencies && data !== null && typeof data === "object") {
      for (const path of this.options.dependencies(data as TemplateData) ?? []) paths.add(build.files.relative(path))
    }
    return [...paths].sort()
  }

  /** The markdown library's `render`, memoized (synchronous). */
  renderMarkdown(md: MarkdownLibrary, render: MarkdownLibrary["render"], source: string, env: unknown): string {
    const build = this.#build
    if (build === undefined || typeof source !== "string") return render.call(md, source, env)
    const started = performance.now()
    try {
      const inputPath = (env as { page?: { inputPath?: unknown } } | undefined)?.page?.inputPath
      // Eleventy's paths are relative to the working directory, not to the cache's root.
      const template = typeof inputPath === "string" && inputPath !== "" ? build.files.relative(resolve(inputPath)) : null
      const deps = this.#declaredDependencies(env, build)
      const markdown = this.#markdown(md)
      const plugins = this.#plugins()
      const renderData = this.options.renderData
      const data = renderData?.map((path) => dataAt(env, path))
      const dataReason =
        data &&
        unsoundReason(
          data,
          () => "renderData",
          (index) => renderData?.[index] ?? "",
        )
      const uncacheable: Uncacheable | undefined =
        markdown.uncacheable ??
        plugins.uncacheable ??
        (dataReason === undefined ? undefined : { step: "markdown", reason: dataReason })
      const base = template ?? "(markdown)"
      const count = (this.#renders.get(base) ?? 0) + 1
      this.#renders.set(base, count)
      const parts = {
        adapter: ADAPTER,
        markdown: markdown.key,
        plugins: plugins.key,
        version: this.options.version,
        template,
        data: data?.map((fingerprint) => fingerprint.key.hex),
        deps: deps.length > 0 ? deps : undefined,
        source,
      }
      const compute = (context: MemoContext): string => {
        for (const path of deps) context.dependOn(path)
        return render.call(md, source, env)
      }
      return build.memoizeSync(parts, compute, {
        document: count === 1 ? { path: base } : { path: base, variant: String(count) },
        validate: isString,
        ...(uncacheable === undefined ? {} : { uncacheable }),
      }).value
    } finally {
      this.#renderMs += performance.now() - started
    }
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
  state.transforms.wrap(options?.transforms ?? [])
  eleventyConfig.on("eleventy.before", () => state.before())
  eleventyConfig.on("eleventy.after", (argument) => state.after(argument))
  return state
}
