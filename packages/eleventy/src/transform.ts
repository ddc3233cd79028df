/**
 * The transforms the user names (`transforms: [...]`), memoized through
 * `Build.memoize`. A transform's entry is keyed by its name and source, every
 * Eleventy plugin with its options, the page's output path, URL and base,
 * and the content.
 *
 * Eleventy's HTML transformer (`@11ty/eleventy/html-transformer`, which runs
 * the posthtml plugins of `HtmlBasePlugin`, `InputPathToUrlTransformPlugin`,
 * `IdAttributePlugin`, `@11ty/eleventy-img` and others) reads more than its
 * input, and its key and entry say so:
 * - its posthtml plugins and URL callbacks (their sources and options);
 * - the site's input path → URL map (`eleventy.contentMap`), which
 *   `InputPathToUrlTransformPlugin` rewrites links with, and the path prefix
 *   (`--pathprefix`), which `HtmlBasePlugin` reads;
 * - the local files the page's `src`/`srcset` attributes name, as
 *   dependencies (an image that changes misses);
 * - and files it writes: an entry whose output names a local file its input
 *   did not (an image the transform made) is served only while that file is
 *   in the output folder; else the transform runs and writes it again.
 *
 * A page that prints the time of the build is keyed without it (build-date.ts).
 */
import { existsSync } from "node:fs"
import { dirname, isAbsolute, join, relative, resolve } from "node:path"
import {
  BadOptionError,
  type Build,
  BusyTime,
  FairShare,
  fingerprint,
  type Key,
  key,
  type MemoContext,
  type Uncacheable,
} from "@sitecache/core"
import { findBuildDates, hasPlaceholder, mask, passesThrough, unmask } from "./build-date.js"
import { type BundleAddition, BundleJournal, toBundleAdditions } from "./bundles.js"
import { ADAPTER } from "./identity.js"
import { type Part, unsoundReason } from "./parts.js"

/** The name Eleventy 3 registers its HTML transformer under. */
export const HTML_TRANSFORMER = "@11ty/eleventy/html-transformer"

/** The `this` of a transform: where the content goes. */
export interface TransformThis {
  readonly inputPath?: string
  readonly outputPath?: string | false
  readonly url?: string | false
  readonly baseHref?: string
  readonly page?: unknown
}

export type TransformCallback = (this: TransformThis, content: unknown, outputPath?: unknown) => unknown

/** What the plugin reads of Eleventy's `HtmlTransformer`. */
export interface HtmlTransformerLike {
  readonly plugins?: Readonly<Record<string, readonly unknown[]>>
  readonly callbacks?: Readonly<Record<string, readonly unknown[]>>
}

/** What the transforms need of Eleventy's configuration. */
export interface TransformConfig {
  addTransform(name: string, callback: TransformCallback): void
  on(event: string, callback: (argument: { readonly [name: string]: unknown }) => unknown): void
  readonly transforms?: Record<string, TransformCallback>
  readonly htmlTransformer?: HtmlTransformerLike
  readonly directories?: { readonly input?: string; readonly output?: string }
  readonly pathPrefix?: string
  getNamespacedName?(name: string): string
  /** Added by the bundle plugin (`addBundle`). */
  getBundleManagers?(): Readonly<Record<string, { addToPage(pageUrl: string, code?: unknown, bucket?: unknown): unknown }>>
}

/** What the HTML transformer's entries hold: the page, and what the run added to bundles. */
interface StoredHtml {
  readonly output: string
  readonly bundles: readonly BundleAddition[]
}

const URL_ATTRIBUTES = /\s(?:src|srcset)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi

/** The local URLs of `src` and `srcset` attributes in `html`. */
function localUrls(html: string): Set<string> {
  const urls = new Set<string>()
  for (const match of html.matchAll(URL_ATTRIBUTES)) {
    const value = match[1] ?? match[2] ?? match[3] ?? ""
    for (const candidate of value.split(",")) {
      const url = candidate.trim().split(/\s+/)[0] ?? ""
      if (url === "" || /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith("//") || url.startsWith("#")) continue
      urls.add(url.replace(/[?#].*$/, ""))
    }
  }
  return urls
}

function decoded(url: string): string {
  try {
    return decodeURIComponent(url)
  } catch {
    return url
  }
}

/** Pages that printed the build's time, as the summary line reports them. */
export interface BuildDatePages {
  readonly pages: number
  readonly of: number
  readonly uncached: number
}

export class TransformCache {
  readonly #config: TransformConfig
  readonly #version: string | number | undefined
  readonly #plugins: () => Part
  readonly #journal: BundleJournal
  readonly #clock = new FairShare()
  #build: Build | undefined
  #htmlPart: Part | undefined
  #contentMap: Key | undefined
  #pages = new Set<string>()
  #datedPages = new Set<string>()
  #uncachedDates = new Set<string>()
  #busy = new BusyTime()

  /** Wall time during which a cached transform ran (lookups included) in this build, in ms. */
  get ms(): number {
    return this.#busy.ms
  }

  constructor(config: TransformConfig, version: string | number | undefined, plugins: () => Part) {
    this.#config = config
    this.#version = version
    this.#plugins = plugins
    this.#journal = new BundleJournal(() => config.getBundleManagers?.())
  }

  /** Wrap the named transforms, those added already and those plugins add later. */
  wrap(names: readonly string[]): void {
    const wanted = new Set(names)
    if (wanted.size === 0) return
    const config = this.#config
    const wrap = (name: string, callback: TransformCallback): TransformCallback => {
      const cache = this
      return function cachedTransform(this: TransformThis, content: unknown, outputPath?: unknown) {
        return cache.run(name, callback, this, content, outputPath)
      }
    }
    const named = (name: string) => wanted.has(name) || wanted.has(config.getNamespacedName?.(name) ?? name)
    const transforms = config.transforms
    if (transforms !== undefined) {
      for (const [name, callback] of Object.entries(transforms)) if (named(name)) transforms[name] = wrap(name, callback)
    }
    const addTransform = config.addTransform
    config.addTransform = function (this: TransformConfig, name: string, callback: TransformCallback) {
      addTransform.call(this, name, callback)
      const full = this.getNamespacedName?.(name) ?? name
      const added = this.transforms?.[full]
      if (added !== undefined && (wanted.has(name) || wanted.has(full))) this.transforms![full] = wrap(full, added)
    }
    if (wanted.has(HTML_TRANSFORMER)) {
      config.on("eleventy.contentMap", (map) => {
        this.#contentMap = fingerprint(map?.inputPathToUrl ?? null).key
      })
    }
  }

  /** Every name must be a transform's, once every plugin has added its own. */
  checkNames(names: readonly string[]): void {
    const transforms = this.#config.transforms
    if (transforms === undefined) return
    for (const name of names) {
      if (Object.hasOwn(transforms, name) || Object.hasOwn(transforms, this.#config.getNamespacedName?.(name) ?? name)) continue
      const known = Object.keys(transforms)
      throw new BadOptionError(
        "transforms",
        `no transform is named "${name}" (${known.length === 0 ? "there are none" : `the transforms are: ${known.map((n) => `"${n}"`).join(", ")}`})`,
      )
    }
  }

  startBuild(build: Build | undefined): void {
    this.#build = build
    this.#htmlPart = undefined
    this.#pages = new Set()
    this.#datedPages = new Set()
    this.#uncachedDates = new Set()
    this.#busy = new BusyTime()
  }

  finishBuild(): BuildDatePages {
    this.#build = undefined
    return { pages: this.#datedPages.size, of: this.#pages.size, uncached: this.#uncachedDates.size }
  }

  /** The HTML transformer's posthtml plugins and URL callbacks, with their options. */
  #html(): Part {
    if (this.#htmlPart === undefined) {
      const transformer = this.#config.htmlTransformer
      const list = (group: Readonly<Record<string, readonly unknown[]>> | undefined) =>
        Object.entries(group ?? {}).map(([extension, entries]) => ({
          extension,
          entries: entries.map((entry) => {
            const { name, fn, priority, options, enabled } = (entry ?? {}) as Record<string, unknown>
            return { name, fn, priority, options, enabled }
          }),
        }))
      const plugins = fingerprint(list(transformer?.plugins))
      const callbacks = fingerprint(list(transformer?.callbacks))
      const reason = unsoundReason([plugins, callbacks], (index) => (index === 0 ? "posthtml plugin" : "URL callback"))
      const part = key({ plugins: plugins.key, callbacks: callbacks.key })
      this.#htmlPart = reason === undefined ? { key: part } : { key: part, uncacheable: { step: HTML_TRANSFORMER, reason } }
    }
    return this.#htmlPart
  }

  /** Files a page's `src`/`srcset` may name: relative to the page's template, or to the input folder. */
  #sourceFiles(html: string, inputPath: string | undefined): string[] {
    if (inputPath === undefined) return []
    // Eleventy's paths are relative to the working directory.
    const input = resolve(this.#config.directories?.input ?? ".")
    const files = new Set<string>()
    for (const url of localUrls(html)) {
      const path = decoded(url)
      files.add(url.startsWith("/") ? join(input, path) : resolve(dirname(inputPath), path))
    }
    return [...files].sort()
  }

  #outputDir(): string {
    return resolve(this.#config.directories?.output ?? "_site")
  }

  /** Why a stored result cannot be served: a local file it names, that its input did not, is gone from the output. */
  #missingOutputs(stored: string, input: string): string | undefined {
    const output = this.#outputDir()
    const before = localUrls(input)
    for (const url of localUrls(stored)) {
      if (before.has(url) || !url.startsWith("/")) continue
      const path = join(output, decoded(url))
      if (!isAbsolute(path) || !existsSync(path)) return "a file the transform wrote is gone from the output folder"
    }
    return undefined
  }

  /** Why a stored value cannot be served for this page, or `undefined`. */
  #fault(value: unknown, html: boolean, dated: boolean, input: string): string | undefined {
    let output = value
    if (html) {
      const proto = value === null || typeof value !== "object" ? undefined : Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return "not a stored page"
      const keys = Object.keys(value as object)
      if (keys.length !== 2 || !keys.includes("output") || !keys.includes("bundles")) return "not a stored page"
      const { output: page, bundles } = value as Record<string, unknown>
      const additions = toBundleAdditions(bundles)
      if (additions === undefined) return "not a stored page"
      const fault = this.#journal.fault(additions)
      if (fault !== undefined) return fault
      output = page
    }
    if (typeof output !== "string") return "not a string"
    if (!dated && hasPlaceholder(output)) return "a build date placeholder in a page that prints none"
    return html ? this.#missingOutputs(output, input) : undefined
  }

  /** A transform, memoized. */
  async run(
    name: string,
    callback: TransformCallback,
    context: TransformThis,
    content: unknown,
    outputPath: unknown,
  ): Promise<unknown> {
    const build = this.#build
    if (build === undefined || typeof content !== "string" || content === "") return callback.call(context, content, outputPath)
    this.#busy.enter()
    try {
      const written = typeof outputPath === "string" ? outputPath : context.outputPath
      // Eleventy's paths are relative to the working directory, not to the cache's root.
      const output = typeof written === "string" && written !== "" ? build.files.relative(resolve(written)) : null
      const inputPath = typeof context.inputPath === "string" ? context.inputPath : undefined
      const page = output ?? (inputPath === undefined ? "(content)" : build.files.relative(resolve(inputPath)))
      // Where in the site, not where the site is: a build into another output folder finds the same entries.
      const inSite = typeof written === "string" && written !== "" ? relative(this.#outputDir(), resolve(written)) : null
      this.#pages.add(page)
      const html = name === HTML_TRANSFORMER ? this.#html() : undefined
      const plugins = this.#plugins()
      const uncacheable: Uncacheable | undefined = plugins.uncacheable ?? html?.uncacheable
      const dates = findBuildDates(content)
      if (dates.length > 0) this.#datedPages.add(page)
      const sources = html === undefined ? [] : this.#sourceFiles(content, inputPath)
      const parts = {
        adapter: ADAPTER,
        transform: name,
        source: callbackSource(callback),
        plugins: plugins.key,
        html: html?.key,
        contentMap: html === undefined ? undefined : (this.#contentMap?.hex ?? null),
        version: this.#version,
        output: inSite,
        url: typeof context.url === "string" ? context.url : null,
        baseHref: context.baseHref,
        // `--pathprefix` is no plugin's option, and HtmlBasePlugin reads it when it runs.
        pathPrefix: this.#config.pathPrefix,
        buildDates: dates.length > 0 ? dates.length : undefined,
        content: dates.length > 0 ? mask(content, dates) : content,
      }
      const url = typeof context.url === "string" ? context.url : ""
      const compute = async (memo: MemoContext): Promise<unknown> => {
        for (const path of sources) memo.dependOn(path)
        const ran = async () => {
          const share = this.#clock.start()
          try {
            return await callback.call(context, content, outputPath)
          } finally {
            memo.took(this.#clock.stop(share))
          }
        }
        const { value, additions } =
          html === undefined ? { value: await ran(), additions: [] } : await this.#journal.record(url, ran)
        if (typeof value !== "string") {
          memo.uncacheable({ step: `transform ${name}`, reason: "its result is not a string" })
          return value
        }
        let output = value
        if (dates.length > 0) {
          const changed =
            !passesThrough(content, value, dates) || additions.some(([, code]) => findBuildDates(code.join("\n")).length > 0)
          if (changed) {
            this.#uncachedDates.add(page)
            memo.uncacheable({ step: `transform ${name}`, reason: "it changes the build date the page prints" })
            return html === undefined ? value : { output: value, bundles: additions }
          }
          output = mask(value, dates)
        }
        return html === undefined ? output : { output, bundles: additions }
      }
      const result = await build.memoize(parts, compute, {
        document: { path: page, step: name },
        validate: (value) => this.#fault(value, html !== undefined, dates.length > 0, content),
        ...(uncacheable === undefined ? {} : { uncacheable }),
      })
      const stored = html === undefined ? { output: result.value, bundles: [] } : (result.value as StoredHtml)
      if (typeof stored?.output !== "string") return result.value
      if (result.hit && html !== undefined) this.#journal.replay(url, stored.bundles)
      if (dates.length === 0 || result.uncacheable !== undefined) return stored.output
      return unmask(stored.output, dates) ?? callback.call(context, content, outputPath)
    } finally {
      this.#busy.leave()
    }
  }
}

function callbackSource(callback: TransformCallback): string {
  const original = (callback as { __eleventyInternal?: { callback?: unknown } }).__eleventyInternal?.callback
  return Function.prototype.toString.call(typeof original === "function" ? original : callback)
}
