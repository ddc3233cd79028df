/**
 * The blog's render pipeline, described as data: packages by name, local
 * plugins by URL, options from the configuration. `@sitecache/unified`
 * fingerprints it from installed versions, local sources and these options
 * without loading anything, and imports `unified` and the plugins only when a
 * document misses: a fully warm build never loads them.
 */
import { fileURLToPath } from "node:url"
import { type Pipeline, pipeline } from "@sitecache/unified"
import type { BlogConfig } from "./config.js"

/** The blog package's directory: plugin packages resolve from here. */
export const BLOG_PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url))

export function blogPipeline(config: BlogConfig): Pipeline {
  const local = (name: string) => new URL(`./plugins/${name}.js`, import.meta.url)
  return pipeline(
    [
      "remark-parse",
      ["remark-frontmatter", ["yaml"]],
      [local("front-matter")],
      ["remark-gfm", config.gfm],
      [local("includes"), { partials: config.partials }],
      [local("lint")],
      ["remark-rehype", { allowDangerousHtml: true }],
      "rehype-slug",
      ["rehype-autolink-headings", config.autolink],
      ["rehype-highlight", config.highlight],
      [local("links")],
      [
        local("layout"),
        { layouts: config.layouts, partials: config.partials, content: config.content, site: { title: config.title } },
      ],
      ["rehype-stringify", { allowDangerousHtml: true }],
    ],
    { root: BLOG_PACKAGE_ROOT },
  )
}
