/**
 * remark plugin: read the YAML front matter (found by `remark-frontmatter`)
 * into `file.data.matter`, and set `file.data.title` (front matter `title`,
 * else the first heading, else the file name) and `file.data.description`.
 */

import type { VFile } from "vfile"
import { parse } from "yaml"

interface MdNode {
  type: string
  value?: string
  depth?: number
  children?: MdNode[]
}

function textOf(node: MdNode): string {
  if (typeof node.value === "string") return node.value
  return (node.children ?? []).map(textOf).join("")
}

export default function frontMatter() {
  return (tree: MdNode, file: VFile) => {
    const children = tree.children ?? []
    const yamlNode = children.find((node) => node.type === "yaml")
    let matter: Record<string, unknown> = {}
    if (yamlNode?.value) {
      try {
        const parsed: unknown = parse(yamlNode.value)
        if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) matter = parsed as Record<string, unknown>
      } catch (error) {
        file.message(`Invalid front matter: ${(error as Error).message.split("\n")[0]}`, {
          place: (yamlNode as { position?: never }).position,
          ruleId: "front-matter",
          source: "blog",
        })
      }
    }
    const heading = children.find((node) => node.type === "heading")
    const paragraph = children.find((node) => node.type === "paragraph")
    const title = typeof matter.title === "string" ? matter.title : heading ? textOf(heading) : (file.stem ?? "Untitled")
    const description =
      typeof matter.description === "string" ? matter.description : paragraph ? textOf(paragraph).slice(0, 200) : ""
    file.data.matter = matter
    file.data.title = title
    file.data.description = description
  }
}

declare module "vfile" {
  interface DataMap {
    matter: Record<string, unknown>
    title: string
    description: string
  }
}
