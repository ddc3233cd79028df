/**
 * The layout language: HTML with `{{name}}` variables (HTML-escaped),
 * `{{{name}}}` raw variables, and `{{> partial}}` includes of
 * `<partials>/<partial>.html` (which may include others). Every partial read
 * is reported to `onRead`, so the cache can record it as a dependency.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"

export type TemplateVariables = Readonly<Record<string, string | number | undefined>>

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character)
}

/** Expand partials (recursively, up to a depth of 8) and variables in `template`. */
export async function expandTemplate(
  template: string,
  variables: TemplateVariables,
  options: { readonly partials: string; readonly onRead?: (path: string) => void },
  depth = 0,
): Promise<string> {
  let out = ""
  let last = 0
  for (const match of template.matchAll(/\{\{>\s*([\w./-]+)\s*\}\}/g)) {
    out += template.slice(last, match.index)
    last = (match.index ?? 0) + match[0].length
    const path = join(options.partials, `${match[1]}.html`)
    options.onRead?.(path)
    if (depth >= 8) throw new Error(`partial \`${match[1]}\` nests more than 8 levels deep`)
    let partial: string
    try {
      partial = readFileSync(path, "utf8")
    } catch {
      partial = `<!-- missing partial ${escapeHtml(match[1] ?? "")} -->`
    }
    out += await expandTemplate(partial, variables, options, depth + 1)
  }
  out += template.slice(last)
  if (depth > 0) return out
  return out
    .replace(/\{\{\{\s*([\w.]+)\s*\}\}\}/g, (_, name: string) => String(variables[name] ?? ""))
    .replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, name: string) =>
      name === "content" ? whole : escapeHtml(String(variables[name] ?? "")),
    )
}
