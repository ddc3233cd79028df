/**
 * Real option values that plugins are given: a Shiki highlighter, and
 * markdown-it instances with the plugins sites install. Built by the
 * fingerprint tests here and, the same way, in another process.
 */
import MarkdownIt, { type PluginWithOptions } from "markdown-it"
import anchor from "markdown-it-anchor"
import attrs from "markdown-it-attrs"
import { createHighlighter } from "shiki"

export async function realValues(): Promise<{ values: Record<string, unknown>; dispose: () => void }> {
  const highlighter = await createHighlighter({ themes: ["github-dark", "github-light"], langs: ["javascript", "css"] })
  const options = { html: true, linkify: true, typographer: true }
  // The plugins' types name markdown-it's CommonJS types, the import its ESM ones: the same class at run time.
  const plugin = (value: unknown) => value as PluginWithOptions<unknown>
  const md = new MarkdownIt(options).use(plugin(anchor), { level: 2 }).use(plugin(attrs))
  const withoutAttrs = new MarkdownIt(options).use(plugin(anchor), { level: 2 })
  return {
    values: { shiki: { highlighter }, markdownIt: { md }, markdownItWithoutAttrs: { md: withoutAttrs } },
    dispose: () => highlighter.dispose(),
  }
}
