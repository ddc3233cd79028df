/**
 * A site built the way the official Eleventy starter (eleventy-base-blog 9)
 * builds its own: Nunjucks layouts, a data cascade (`_data/metadata.json`,
 * directory data files, front matter), a drafts preprocessor, css/js bundles,
 * and the plugins that starter installs (`HtmlBasePlugin`,
 * `InputPathToUrlTransformPlugin`, `IdAttributePlugin`, the image transform
 * of `@11ty/eleventy-img`, `@11ty/eleventy-navigation`, the feed of
 * `@11ty/eleventy-plugin-rss`, `@11ty/eleventy-plugin-syntaxhighlight`),
 * plus `I18nPlugin` and `RenderPlugin`. Every page prints the build date, as
 * the starter's do. Its content is in `starter/`; `src/generate.ts` scales it
 * to hundreds of posts for the benchmark.
 */
import { HtmlBasePlugin, I18nPlugin, IdAttributePlugin, InputPathToUrlTransformPlugin, RenderPlugin } from "@11ty/eleventy"
import { eleventyImageTransformPlugin } from "@11ty/eleventy-img"
import navigation from "@11ty/eleventy-navigation"
import { feedPlugin } from "@11ty/eleventy-plugin-rss"
import syntaxHighlight from "@11ty/eleventy-plugin-syntaxhighlight"
import { type SitecacheOptions, sitecache } from "@sitecache/eleventy"
import type { EleventyConfig } from "./site.js"

export interface StarterOptions {
  /** `false`: no sitecache plugin at all (the uncached baseline). Default `true`. */
  readonly cached?: boolean
  /** Options of the sitecache plugin (merged over the example's). */
  readonly sitecache?: SitecacheOptions
  /** What `{% currentBuildDate %}` prints. Default: the time of the call, as the starter does. */
  readonly buildDate?: () => string
  /** Wrap the markdown library's `render` (the benchmark times it). */
  readonly wrapMarkdown?: (md: { render: (source: string, env?: unknown) => string }) => void
}

export interface StarterConfig extends EleventyConfig {
  addPreprocessor(name: string, extensions: string, callback: (data: Record<string, unknown>, content: string) => unknown): void
  addBundle(name: string, options?: Record<string, unknown>): void
  addShortcode(name: string, callback: (...args: never[]) => unknown): void
}

/** Directories and template engines, as the starter sets them (`config` export of the configuration file). */
export const starterDirectories = {
  templateFormats: ["md", "njk", "html"],
  markdownTemplateEngine: "njk",
  htmlTemplateEngine: "njk",
  dir: { input: "content", includes: "../_includes", data: "../_data", output: "_site" },
} as const

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
]

export function starterConfig(options: StarterOptions = {}) {
  return function configure(eleventyConfig: StarterConfig): void {
    eleventyConfig.addPreprocessor("drafts", "*", (data) => {
      if (data.draft) data.title = `${String(data.title)} (draft)`
      if (data.draft && process.env.ELEVENTY_RUN_MODE === "build") return false
      return undefined
    })
    eleventyConfig.addBundle("css", { toFileDirectory: "dist", bundleHtmlContentFromSelector: "style" })
    eleventyConfig.addBundle("js", { toFileDirectory: "dist", bundleHtmlContentFromSelector: "script" })

    eleventyConfig.addPlugin(syntaxHighlight, { preAttributes: { tabindex: 0 } })
    eleventyConfig.addPlugin(navigation)
    eleventyConfig.addPlugin(HtmlBasePlugin)
    eleventyConfig.addPlugin(InputPathToUrlTransformPlugin)
    eleventyConfig.addPlugin(I18nPlugin, { defaultLanguage: "en", errorMode: "allow-fallback" })
    eleventyConfig.addPlugin(RenderPlugin)
    eleventyConfig.addPlugin(feedPlugin, {
      type: "atom",
      outputPath: "/feed/feed.xml",
      templateData: { eleventyNavigation: { key: "Feed", order: 4 } },
      collection: { name: "posts", limit: 10 },
      metadata: {
        language: "en",
        title: "Cache Notes",
        subtitle: "Notes on caching what a static site generator does twice.",
        base: "https://example.com/",
        author: { name: "A. Writer" },
      },
    })
    // Local images only: nothing is fetched from the network.
    eleventyConfig.addPlugin(eleventyImageTransformPlugin, {
      formats: ["avif", "webp", "auto"],
      failOnError: false,
      htmlOptions: { imgAttributes: { loading: "lazy", decoding: "async" } },
      sharpOptions: { animated: true },
    })
    eleventyConfig.addPlugin(IdAttributePlugin)

    eleventyConfig.addFilter("readableDate", (date: Date) => {
      const month = MONTHS[date.getUTCMonth()] ?? ""
      return `${String(date.getUTCDate()).padStart(2, "0")} ${month} ${date.getUTCFullYear()}`
    })
    eleventyConfig.addFilter("htmlDateString", (date: Date) => date.toISOString().slice(0, 10))
    eleventyConfig.addFilter("head", (array: unknown[], n: number) =>
      !Array.isArray(array) || array.length === 0 ? [] : n < 0 ? array.slice(n) : array.slice(0, n),
    )
    eleventyConfig.addFilter("min", (...numbers: number[]) => Math.min(...numbers))
    eleventyConfig.addFilter("getKeys", (target: object) => Object.keys(target))
    eleventyConfig.addFilter("filterTagList", (tags: string[] | undefined) =>
      (tags ?? []).filter((tag) => tag !== "all" && tag !== "posts"),
    )
    eleventyConfig.addFilter("sortAlphabetically", (strings: string[] | undefined) =>
      [...(strings ?? [])].sort((a, b) => a.localeCompare(b)),
    )
    const buildDate = options.buildDate ?? (() => new Date().toISOString())
    eleventyConfig.addShortcode("currentBuildDate", () => buildDate())

    if (options.wrapMarkdown) eleventyConfig.amendLibrary("md", (md) => options.wrapMarkdown?.(md))
    if (options.cached !== false) eleventyConfig.addPlugin(sitecache, { backend: "sqlite", ...options.sitecache })
  }
}
