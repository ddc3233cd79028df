/**
 * The site's Eleventy configuration, as a function so that
 * `eleventy.config.ts`, the tests and the benchmark build the same site (with
 * or without sitecache).
 */
import syntaxHighlight from "@11ty/eleventy-plugin-syntaxhighlight"
import { type EleventyConfigLike, type SitecacheOptions, sitecache, type TransformThis } from "@sitecache/eleventy"
import { minify } from "html-minifier-terser"

export interface SiteOptions {
  /** `false`: no sitecache plugin at all (the uncached baseline). Default `true`. */
  readonly cached?: boolean
  /** Options of the sitecache plugin (merged over the example's). */
  readonly sitecache?: SitecacheOptions
  /** Options of the syntax highlighting plugin. */
  readonly highlight?: Readonly<Record<string, unknown>>
  /** Wrap the markdown library's `render` (the benchmark times the uncached build with it). */
  readonly wrapMarkdown?: (md: { render: (source: string, env?: unknown) => string }) => void
}

export interface EleventyConfig extends EleventyConfigLike {
  addPlugin(plugin: unknown, options?: unknown): unknown
  addFilter(name: string, callback: (...args: never[]) => unknown): void
}

/** Directories and template engines (Eleventy reads this from the config file's `config` export). */
export const directories = {
  dir: { input: "content", includes: "_includes", data: "_data", output: "_site" },
  markdownTemplateEngine: "liquid",
  htmlTemplateEngine: "liquid",
} as const

export function siteConfig(options: SiteOptions = {}) {
  return function configure(eleventyConfig: EleventyConfig): void {
    eleventyConfig.addPlugin(syntaxHighlight, { ...options.highlight })
    eleventyConfig.addFilter("isoDate", (date: Date) => date.toISOString().slice(0, 10))
    eleventyConfig.addTransform("htmlmin", async function (this: TransformThis, content: unknown) {
      const outputPath = (this.page as { outputPath?: unknown } | undefined)?.outputPath
      if (typeof content !== "string" || typeof outputPath !== "string" || !outputPath.endsWith(".html")) return content
      try {
        return await minify(content, { collapseWhitespace: true, removeComments: true, minifyCSS: true, useShortDoctype: true })
      } catch {
        return content // HTML the minifier cannot parse (raw HTML in someone's markdown) is written as it is
      }
    })
    if (options.wrapMarkdown) eleventyConfig.amendLibrary("md", (md) => options.wrapMarkdown?.(md))
    if (options.cached !== false) {
      eleventyConfig.addPlugin(sitecache, { backend: "sqlite", transforms: ["htmlmin"], ...options.sitecache })
    }
  }
}
