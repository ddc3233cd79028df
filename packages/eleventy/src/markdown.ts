/**
 * What a markdown library's output depends on besides its input: for
 * markdown-it, its options (the `highlight` function by its source), the
 * rules of each ruler in order with their enabled state and function, the
 * renderer's rules, and the link helpers. A `md.use(plugin)` changes one of
 * these, so adding, removing or editing a markdown-it plugin misses. Values
 * that a plugin closes over are invisible here: the Eleventy plugin list (with
 * options) and the `version` option cover them.
 *
 * All of it is one value for `fingerprint` of `@sitecache/core`, so a part
 * that cannot be fingerprinted soundly (a rule that is a bound function)
 * makes markdown rendering uncacheable, with the part named.
 */
import { fingerprint, type ValueFingerprint } from "./fingerprint.js"

/** The part of a markdown library the plugin uses: markdown-it's `render(src, env)`. */
export interface MarkdownLibrary {
  render(source: string, env?: unknown): string
  readonly [property: string]: unknown
}

interface RuleLike {
  readonly name?: unknown
  readonly enabled?: unknown
  readonly fn?: unknown
  readonly alt?: unknown
}

/** A ruler's rules in order: their names, whether enabled, their functions and the chains they join. */
function rules(ruler: unknown): unknown {
  const list = (ruler as { __rules__?: unknown } | null)?.__rules__
  if (!Array.isArray(list)) return ruler
  return (list as RuleLike[]).map((rule) => ({
    name: String(rule.name),
    enabled: rule.enabled !== false,
    fn: rule.fn,
    alt: rule.alt,
  }))
}

/** The fingerprint of a markdown library's configuration and plugins. */
export function markdownFingerprint(md: MarkdownLibrary): ValueFingerprint {
  const lib = md as unknown as Record<string, Record<string, unknown> | undefined>
  if (lib.core?.ruler === undefined || lib.block?.ruler === undefined || lib.inline?.ruler === undefined) {
    // Not markdown-it: whatever its own properties say.
    return fingerprint({ library: md })
  }
  const renderer = lib.renderer as { rules?: Record<string, unknown> } | undefined
  return fingerprint({
    options: lib.options,
    core: rules(lib.core.ruler),
    block: rules(lib.block.ruler),
    inline: rules(lib.inline.ruler),
    inline2: rules(lib.inline.ruler2),
    renderer: renderer?.rules,
    links: [md.validateLink, md.normalizeLink, md.normalizeLinkText],
    render: Object.getPrototypeOf(md)?.render,
  })
}
