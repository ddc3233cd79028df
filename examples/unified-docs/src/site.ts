/**
 * The site: every `content/**.md` page rendered to `dist/**.html` by one
 * unified processor made of the plugins documentation sites install, wrapped
 * by `cached()` from `@sitecache/unified` (or not, for the uncached baseline).
 * Shared by the command line (`src/cli.ts`) and the tests.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises"
import { dirname, join, relative, sep } from "node:path"
import { fileURLToPath } from "node:url"
import rehypeShiki from "@shikijs/rehype"
import type { BuildStats, Cache } from "@sitecache/core"
import { cached } from "@sitecache/unified"
import rehypeAutolinkHeadings from "rehype-autolink-headings"
import rehypeKatex from "rehype-katex"
import rehypePrettyCode from "rehype-pretty-code"
import rehypeRaw from "rehype-raw"
import rehypeSlug from "rehype-slug"
import rehypeStringify from "rehype-stringify"
import remarkDirective from "remark-directive"
import remarkFrontmatter from "remark-frontmatter"
import remarkGfm from "remark-gfm"
import remarkMath from "remark-math"
import remarkParse from "remark-parse"
import remarkRehype from "remark-rehype"
import type { ShikiTransformer } from "shiki"
import { read } from "to-vfile"
import { type PluggableList, unified } from "unified"
import type { VFile } from "vfile"
import { Admonitions, type LinkAttributeOptions, rehypeLinkAttributes, remarkInclude, remarkYamlMatter } from "./plugins.js"

export const exampleRoot = join(dirname(fileURLToPath(import.meta.url)), "..")

/** Languages of the pages' code blocks. */
const LANGUAGES = ["sh", "ts", "js", "json", "diff"]

/** Which highlighter renders code blocks: the two that docs sites use, both on Shiki. */
export type Highlighter = "shiki" | "pretty-code"

export interface SiteOptions {
  /** `content/`, `partials/` and `dist/` are under it. Default: this example. */
  readonly root?: string
  readonly highlighter?: Highlighter
  /** Shiki theme. Default `github-light`. */
  readonly theme?: string
  /** The cache; absent: the plain processor (the uncached baseline). */
  readonly cache?: Cache
  readonly stats?: BuildStats
}

/**
 * Shiki stops tokenizing a line after 500 ms (`tokenizeTimeLimit`) and
 * styles the rest of it as one token: on a busy machine the first line a
 * process highlights can come out differently from one build to the next,
 * cache or no cache. No limit makes the output a function of the input.
 * rehype-pretty-code does not pass the option on, so a transformer sets it.
 */
const noTimeLimit: ShikiTransformer = {
  name: "no-tokenize-time-limit",
  preprocess(_code, options) {
    options.tokenizeTimeLimit = 0
  },
}

function highlighting(highlighter: Highlighter, theme: string): PluggableList {
  if (highlighter === "pretty-code") {
    return [[rehypePrettyCode, { theme, keepBackground: false, defaultLang: "plaintext", transformers: [noTimeLimit] }]]
  }
  return [
    [
      rehypeShiki,
      {
        theme,
        // The languages the pages use (Shiki loads every bundled one otherwise).
        langs: LANGUAGES,
        defaultLanguage: "text",
        tokenizeTimeLimit: 0,
        // A transformer (an object of hooks) as Shiki users write them.
        transformers: [
          {
            name: "line-count",
            pre(node) {
              node.properties["data-lines"] = String(this.lines.length)
            },
          } satisfies ShikiTransformer,
        ],
      },
    ],
  ]
}

export function createProcessor(options: SiteOptions = {}) {
  const admonitions = new Admonitions({ labels: { note: "Note", warning: "Warning" }, className: "admonition" })
  const links: LinkAttributeOptions = {
    rel: ["noopener", "noreferrer"],
    isExternal: (href) => /^https?:\/\//.test(href),
    anchorClass: (depth) => `anchor anchor-h${depth}`,
  }
  links.self = links
  return unified()
    .use(remarkParse)
    .use(remarkFrontmatter, ["yaml"])
    .use(remarkYamlMatter)
    .use(remarkGfm)
    .use(remarkMath)
    .use(remarkDirective)
    .use(remarkInclude, { partials: "partials" })
    .use(admonitions.attacher)
    .use(remarkRehype, { allowDangerousHtml: true })
    .use(rehypeRaw)
    .use(rehypeKatex, { output: "html" })
    .use(highlighting(options.highlighter ?? "shiki", options.theme ?? "github-light"))
    .use(rehypeSlug)
    .use(rehypeAutolinkHeadings, {
      behavior: "append",
      content: () => [{ type: "text", value: "#" }],
      test: (node: { tagName: string }) => node.tagName !== "h1",
    })
    .use(rehypeLinkAttributes, links)
    .use(rehypeStringify)
}

/** Project-relative paths (`/`) of the pages under `content/`, sorted. */
export async function pagesOf(root: string): Promise<string[]> {
  const entries = await readdir(join(root, "content"), { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".md"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join("/"))
    .sort()
}

/** Render every page (to `dist/` when `write`), returning the processed files by page. */
export async function buildSite(options: SiteOptions = {}, write = true): Promise<Map<string, VFile>> {
  const root = options.root ?? exampleRoot
  const plain = createProcessor(options)
  const processor =
    options.cache === undefined
      ? plain
      : cached(plain, { cache: options.cache, root, ...(options.stats === undefined ? {} : { stats: options.stats }) })
  const files = new Map<string, VFile>()
  for (const page of await pagesOf(root)) {
    const file = await read({ path: join(root, page), cwd: root })
    files.set(page, await processor.process(file))
    if (write) {
      const out = join(root, "dist", page.replace(/^content\//, "").replace(/\.md$/, ".html"))
      await mkdir(dirname(out), { recursive: true })
      await writeFile(out, String(file))
    }
  }
  return files
}
