/**
 * remark plugin: a paragraph that is only `{{> name}}` is replaced by the
 * markdown of `<partials>/<name>.md`. Each partial read is declared with
 * `dependOn`, so editing a partial rebuilds exactly the pages that include it.
 */
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { dependOn } from "@sitecache/unified"
import type { VFile } from "vfile"

interface MdNode {
  type: string
  value?: string
  children?: MdNode[]
  position?: { start: { line: number; column: number }; end: { line: number; column: number } }
}

export interface IncludeOptions {
  /** Directory of the partials, relative to the project root (`file.cwd`). */
  readonly partials: string
}

const INCLUDE = /^\{\{>\s*([\w./-]+)\s*\}\}$/

export default function includes(this: { parse(text: string): MdNode }, options: IncludeOptions) {
  const parse = (text: string) => this.parse(text)
  return async (tree: MdNode, file: VFile) => {
    const children = tree.children ?? []
    for (let index = 0; index < children.length; index++) {
      const node = children[index] as MdNode
      const only = node.type === "paragraph" && node.children?.length === 1 ? node.children[0] : undefined
      const match = only?.type === "text" ? INCLUDE.exec((only.value ?? "").trim()) : null
      if (!match) continue
      const path = resolve(file.cwd, options.partials, `${match[1]}.md`)
      dependOn(file, path)
      let text: string
      try {
        text = readFileSync(path, "utf8")
      } catch {
        file.message(`Cannot include \`${match[1]}\`: no file ${options.partials}/${match[1]}.md`, {
          place: node.position,
          ruleId: "include",
          source: "blog",
        })
        continue
      }
      const included = parse(text).children ?? []
      children.splice(index, 1, ...included)
      index += included.length - 1
    }
  }
}
