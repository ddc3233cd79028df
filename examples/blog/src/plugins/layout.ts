/**
 * rehype plugin: wrap the page in its layout (`layout:` in the front
 * matter, default `page`): `<layouts>/<layout>.html` with its partials
 * expanded (see `../templates.ts`). The layout and every partial are declared
 * with `dependOn`, so editing one rebuilds exactly the pages that use it.
 *
 * The layout goes around the content as two raw nodes, which
 * `rehype-stringify` (with `allowDangerousHtml`) writes as they are.
 */
import { readFileSync } from "node:fs"
import { relative, resolve, sep } from "node:path"
import { dependOn } from "@sitecache/unified"
import type { VFile } from "vfile"
import { expandTemplate } from "../templates.js"

interface HastRoot {
  type: string
  children: { type: string; value?: string }[]
}

export interface LayoutOptions {
  /** Directories, relative to the project root (`file.cwd`). */
  readonly layouts: string
  readonly partials: string
  /** The content directory, relative to the project root: page paths are relative to it. */
  readonly content: string
  readonly site: { readonly title: string }
}

export default function layout(options: LayoutOptions) {
  return async (tree: HastRoot, file: VFile) => {
    const matter = file.data.matter ?? {}
    const name = typeof matter.layout === "string" ? matter.layout : "page"
    const layoutPath = resolve(file.cwd, options.layouts, `${name}.html`)
    dependOn(file, layoutPath)
    let template: string
    try {
      template = readFileSync(layoutPath, "utf8")
    } catch {
      file.message(`Unknown layout \`${name}\`, using a bare page`, { ruleId: "layout", source: "blog" })
      template = "<!doctype html>\n<title>{{title}}</title>\n{{content}}\n"
    }
    const page = relative(resolve(file.cwd, options.content), resolve(file.cwd, file.path)).split(sep).join("/")
    const depth = page.split("/").length - 1
    const html = await expandTemplate(
      template,
      {
        title: file.data.title ?? "",
        description: file.data.description ?? "",
        date: typeof matter.date === "string" ? matter.date : "",
        "site.title": options.site.title,
        root: depth === 0 ? "./" : "../".repeat(depth),
        source: page,
      },
      { partials: resolve(file.cwd, options.partials), onRead: (path) => dependOn(file, path) },
    )
    const at = html.indexOf("{{content}}")
    const before = at === -1 ? html : html.slice(0, at)
    const after = at === -1 ? "" : html.slice(at + "{{content}}".length)
    tree.children = [{ type: "raw", value: before }, ...tree.children, { type: "raw", value: after }]
  }
}
