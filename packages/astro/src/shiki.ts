/**
 * Shiki stops tokenizing a line after `tokenizeTimeLimit` (500 ms by default)
 * and leaves the rest of it unhighlighted, without a word. On a busy machine
 * (a CI runner, a build with every core taken) some lines of some code blocks
 * come out that way, differently on every build; a cache would keep such a
 * render for as long as its page is unchanged. This transformer, added to
 * Astro's `markdown.shikiConfig` (which MDX extends), lifts the limit, so a
 * page is highlighted the same way whatever the load, with the cache or
 * without (`SITECACHE=off` builds get it too).
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

export const wholeLines = {
  name: "sitecache:whole-lines",
  preprocess(_code: string, options: { tokenizeTimeLimit?: number }): undefined {
    options.tokenizeTimeLimit = 0
  },
}

/** The file of `subpath` in the package at `dir`, as its `exports` map it (plain string or `import`/`default`). */
function exported(dir: string, subpath: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports?: Record<string, unknown> }
    const entry = manifest.exports?.[subpath]
    const target =
      typeof entry === "string"
        ? entry
        : entry !== null && typeof entry === "object"
          ? ((entry as Record<string, unknown>).import ?? (entry as Record<string, unknown>).default)
          : undefined
    return typeof target === "string" ? join(dir, target) : undefined
  } catch {
    return undefined
  }
}

/**
 * `loadEmbeddedLanguages` on the Shiki that Astro's markdown and MDX
 * highlight with (each through its own `@astrojs/markdown-remark`).
 * `packageDir(name, from)` finds a package as installed for a directory.
 * Returns why it could not be done, or `undefined`.
 */
export async function loadEmbeddedLanguagesFor(
  owners: readonly (string | undefined)[],
  packageDir: (name: string, from: string) => string | undefined,
): Promise<string | undefined> {
  const files = new Set<string>()
  for (const owner of owners) {
    if (owner === undefined) continue
    const remark = packageDir("@astrojs/markdown-remark", owner)
    const shiki = remark === undefined ? undefined : packageDir("shiki", remark)
    if (shiki === undefined) continue
    const file = exported(shiki, "./langs")
    if (file === undefined) return `Shiki at ${shiki} has no \`shiki/langs\``
    files.add(file)
  }
  for (const file of files) {
    const problem = loadEmbeddedLanguages(
      ((await import(pathToFileURL(file).href)) as { bundledLanguages?: unknown }).bundledLanguages,
    )
    if (problem !== undefined) return problem
  }
  return undefined
}

/** A grammar as Shiki's bundled language modules export it (only what is read here). */
interface Grammar {
  readonly name?: unknown
  readonly embeddedLangsLazy?: unknown
}
type LanguageLoader = () => Promise<{ default: readonly Grammar[] } | readonly Grammar[]>

const completed = new WeakSet<LanguageLoader>()

async function grammarsOf(loader: LanguageLoader): Promise<readonly Grammar[]> {
  const loaded = await loader()
  return Array.isArray(loaded) ? loaded : (loaded as { default: readonly Grammar[] }).default
}

/**
 * Some of Shiki's grammars embed other languages lazily (`embeddedLangsLazy`:
 * markdown and MDX the code blocks they hold, Vue, Svelte and Astro their
 * scripts): a highlighter uses an embedded language only if something loaded it
 * before. Astro shares one highlighter between the documents of a build and
 * loads a language when a document first uses it, so a ```` ```markdown ````
 * block with JavaScript inside comes out highlighted or plain depending on
 * which pages rendered before it: it changes from one uncached build to the
 * next, and a page rendered alone (the one edited, after a warm build) comes
 * out plain. This makes a language's loader in Shiki's table
 * (`bundledLanguages`, which Astro's highlighter reads when it loads a
 * language) also load, first, every language it embeds lazily, so that each
 * block is highlighted the same whatever rendered before it. The languages are
 * loaded only when a document uses the one that embeds them.
 *
 * Returns why the table could not be changed, or `undefined`.
 */
export function loadEmbeddedLanguages(table: unknown): string | undefined {
  if (table === null || typeof table !== "object") return "Shiki's `bundledLanguages` is not an object"
  const languages = table as Record<string, unknown>
  const originals = new Map<string, LanguageLoader>()
  for (const [name, loader] of Object.entries(languages)) {
    if (typeof loader !== "function") return `Shiki's language ${JSON.stringify(name)} has no loader`
    if (!completed.has(loader as LanguageLoader)) originals.set(name, loader as LanguageLoader)
  }
  const withEmbedded = async (name: string): Promise<Grammar[]> => {
    const seen = new Set<string>()
    const out: Grammar[] = []
    const visit = async (lang: string) => {
      const loader = originals.get(lang)
      if (loader === undefined || seen.has(lang)) return
      seen.add(lang)
      const grammars = await grammarsOf(loader)
      for (const grammar of grammars)
        if (Array.isArray(grammar.embeddedLangsLazy))
          for (const embedded of grammar.embeddedLangsLazy) if (typeof embedded === "string") await visit(embedded)
      // The embedded languages first: a grammar is registered after the ones it includes.
      out.push(...grammars)
    }
    await visit(name)
    return out
  }
  for (const name of originals.keys()) {
    const loader: LanguageLoader = async () => ({ default: await withEmbedded(name) })
    completed.add(loader)
    languages[name] = loader
  }
  return undefined
}
