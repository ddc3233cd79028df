/**
 * What a markdown library's output depends on besides its input: for
 * markdown-it, its options (the `highlight` function by its source), the
 * rules of each ruler in order with their enabled state and source, the
 * renderer's rules, and the link helpers. A `md.use(plugin)` changes one of
 * these, so adding, removing or editing a markdown-it plugin misses. Values
 * that a plugin closes over are invisible here: the Eleventy plugin list (with
 * options) and the `version` option cover them.
 */
import type { KeyPart } from "@sitecache/core"
import { fingerprint } from "./fingerprint.js"

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

function rulerPart(ruler: unknown): KeyPart {
  const rules = (ruler as { __rules__?: unknown } | null)?.__rules__
  if (!Array.isArray(rules)) return fingerprint(ruler)
  return (rules as RuleLike[]).map((rule) => [
    String(rule.name),
    rule.enabled !== false,
    typeof rule.fn === "function" ? Function.prototype.toString.call(rule.fn) : null,
    fingerprint(rule.alt),
  ])
}

/** A key part for a markdown library's configuration and plugins. */
export function markdownFingerprint(md: MarkdownLibrary): KeyPart {
  const lib = md as unknown as Record<string, Record<string, unknown> | undefined>
  if (lib.core?.ruler === undefined || lib.block?.ruler === undefined || lib.inline?.ruler === undefined) {
    // Not markdown-it: whatever its own properties say.
    return { library: fingerprint(md) }
  }
  const renderer = lib.renderer as { rules?: Record<string, unknown> } | undefined
  return {
    options: fingerprint(lib.options),
    core: rulerPart(lib.core.ruler),
    block: rulerPart(lib.block.ruler),
    inline: rulerPart(lib.inline.ruler),
    inline2: rulerPart(lib.inline.ruler2),
    renderer: fingerprint(renderer?.rules),
    links: fingerprint([md.validateLink, md.normalizeLink, md.normalizeLinkText]),
    render: fingerprint(Object.getPrototypeOf(md)?.render),
  }
}
