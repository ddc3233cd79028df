/**
 * The site's Vite configuration, as a function so that `vite.config.ts`, the
 * tests and the benchmark build the same site (with or without the cache).
 */
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import mdx, { type Options as MdxOptions } from "@mdx-js/rollup"
import type { Cache, CacheConfig } from "@sitecache/core"
import { type CacheTransformsOptions, cacheTransforms } from "@sitecache/vite"
import rehypeHighlight from "rehype-highlight"
import rehypeSlug from "rehype-slug"
import remarkFrontmatter from "remark-frontmatter"
import remarkGfm from "remark-gfm"
import remarkMdxFrontmatter from "remark-mdx-frontmatter"
import type { InlineConfig, PluginOption } from "vite"
import { includePartials } from "./include-partials.js"

export const exampleRoot = join(dirname(fileURLToPath(import.meta.url)), "..")

export interface SiteOptions {
  /** The site's directory (`index.html`, `src/`, `content/`). Default: this example. */
  readonly root?: string
  /** `false`: the plain plugins, no sitecache at all (the uncached baseline). Default `true`. */
  readonly cached?: boolean
  readonly cache?: Cache
  readonly cacheConfig?: CacheConfig
  /** Options of rehype-highlight (part of the MDX options, so of every key). */
  readonly highlight?: Readonly<Record<string, unknown>>
  readonly version?: string
  readonly env?: CacheTransformsOptions["env"]
  readonly onBuildEnd?: CacheTransformsOptions["onBuildEnd"]
  /** Wrap the plugins' transforms with something else (the benchmark times the uncached build with it). */
  readonly wrap?: (plugins: PluginOption[]) => PluginOption
  readonly logLevel?: InlineConfig["logLevel"]
}

export function siteConfig(options: SiteOptions = {}): InlineConfig {
  const root = options.root ?? exampleRoot
  const mdxOptions: MdxOptions = {
    jsxImportSource: "html-jsx",
    remarkPlugins: [remarkFrontmatter, [remarkMdxFrontmatter, { name: "frontmatter" }], remarkGfm],
    rehypePlugins: [rehypeSlug, [rehypeHighlight, { ...options.highlight }]],
  }
  const plugins: PluginOption[] = [includePartials({ dir: "content/_partials" }), { enforce: "pre", ...mdx(mdxOptions) }]
  const cacheOptions: CacheTransformsOptions = {
    pluginOptions: mdxOptions,
    cacheConfig: { backend: "sqlite", ...options.cacheConfig },
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    ...(options.version === undefined ? {} : { version: options.version }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.onBuildEnd === undefined ? {} : { onBuildEnd: options.onBuildEnd }),
  }
  return {
    root,
    configFile: false,
    ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
    plugins: [
      options.cached === false
        ? (options.wrap?.(plugins) ?? plugins)
        : cacheTransforms(options.wrap?.(plugins) ?? plugins, cacheOptions),
    ],
    resolve: {
      alias: [{ find: /^html-jsx\/jsx-runtime$/, replacement: join(root, "src/html-jsx/jsx-runtime.js") }],
    },
    build: { outDir: "dist", emptyOutDir: true },
  }
}
