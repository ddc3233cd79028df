/**
 * The site's own plugins, written the ways plugins are written in the wild:
 *
 * - `remarkYamlMatter`: a small function plugin that parses the YAML node of
 *   `remark-frontmatter` with `yaml` into `file.data.matter`;
 * - `remarkInclude`: `::include{file="x.md"}` replaced by a partial, read
 *   from disk and declared with `dependOn` (an edit of the partial misses
 *   exactly the pages that include it);
 * - `Admonitions`: a plugin written as a class instance, configured in its
 *   constructor, whose attacher is an instance method;
 * - `rehypeLinkAttributes`: a plugin whose options hold functions and a
 *   reference to themselves.
 */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { dependOn } from "@sitecache/unified"
import type { Element, Root as HastRoot } from "hast"
import type { Root as MdastRoot, RootContent } from "mdast"
import type { Processor } from "unified"
import { visit } from "unist-util-visit"
import type { VFile } from "vfile"
import { parse as parseYaml } from "yaml"

/** `file.data.matter`: the document's YAML front matter, parsed. */
export function remarkYamlMatter() {
  return (tree: MdastRoot, file: VFile) => {
    const node = tree.children[0]
    if (node?.type !== "yaml") return
    file.data.matter = parseYaml(node.value) as Record<string, unknown>
  }
}

export interface IncludeOptions {
  /** Directory of the partials, relative to `file.cwd`. */
  readonly partials: string
}

interface LeafDirective {
  type: "leafDirective"
  name: string
  attributes?: Record<string, string | null | undefined> | null
}

export function remarkInclude(this: Processor, options: IncludeOptions) {
  const parse = (text: string) => this.parse(text) as MdastRoot
  return (tree: MdastRoot, file: VFile) => {
    const children = tree.children as (RootContent | LeafDirective)[]
    for (let index = 0; index < children.length; index++) {
      const node = children[index] as RootContent | LeafDirective
      if (node.type !== "leafDirective" || node.name !== "include") continue
      const name = node.attributes?.file ?? ""
      const path = resolve(file.cwd, options.partials, name)
      dependOn(file, path)
      let text: string
      try {
        text = readFileSync(path, "utf8")
      } catch {
        file.message(`Cannot include \`${name}\`: no such partial`, { ruleId: "include", source: "unified-docs" })
        children.splice(index--, 1)
        continue
      }
      const included = parse(text).children
      children.splice(index, 1, ...included)
      index += included.length - 1
    }
  }
}

interface DirectiveNode {
  type: "containerDirective" | "leafDirective" | "textDirective"
  name: string
  attributes?: Record<string, string | null | undefined> | null
  data?: Record<string, unknown>
}

export interface AdmonitionOptions {
  /** Directive name → the label shown when the directive has no `title`. */
  readonly labels: Readonly<Record<string, string>>
  readonly className: string
}

/**
 * `:::note` / `:::warning` blocks as `<aside>`, `:abbr[CI]{title}` as
 * `<abbr>`; the table of contents of each page in `file.data.toc`.
 */
export class Admonitions {
  readonly className: string
  readonly #labels: ReadonlyMap<string, string>

  constructor(options: AdmonitionOptions) {
    this.className = options.className
    this.#labels = new Map(Object.entries(options.labels))
  }

  /** The unified attacher: `processor.use(admonitions.attacher)`. */
  readonly attacher = () => (tree: MdastRoot, file: VFile) => {
    const toc: { depth: number; text: string }[] = []
    visit(tree, (node) => {
      if (node.type === "heading") {
        toc.push({ depth: node.depth, text: node.children.map((child) => ("value" in child ? child.value : "")).join("") })
        return
      }
      const directive = node as unknown as DirectiveNode
      if (directive.type === "textDirective" && directive.name === "abbr") {
        directive.data = { hName: "abbr", hProperties: { title: directive.attributes?.title ?? "" } }
      } else if (directive.type === "containerDirective" && this.#labels.has(directive.name)) {
        const title = directive.attributes?.title ?? this.#labels.get(directive.name)
        directive.data = {
          hName: "aside",
          hProperties: { className: [this.className, directive.name], dataTitle: title },
        }
      }
    })
    file.data.toc = toc
  }
}

export interface LinkAttributeOptions {
  readonly rel: readonly string[]
  /** Whether a link leaves the site. */
  readonly isExternal: (href: string) => boolean
  /** Class of each heading anchor, from its depth. */
  readonly anchorClass: (depth: number) => string
  /** The options themselves (a self-reference, as option objects built in steps often hold). */
  self?: LinkAttributeOptions
}

/** `rel` on external links and a class on each heading's anchor. */
export function rehypeLinkAttributes(options: LinkAttributeOptions) {
  return (tree: HastRoot) => {
    visit(tree, "element", (node: Element, _index, parent) => {
      if (node.tagName !== "a" || typeof node.properties.href !== "string") return
      if (options.isExternal(node.properties.href)) node.properties.rel = [...options.rel]
      const heading = parent?.type === "element" ? /^h([1-6])$/.exec(parent.tagName) : null
      if (heading) node.properties.className = [options.anchorClass(Number(heading[1]))]
    })
  }
}
