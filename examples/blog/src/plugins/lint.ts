/**
 * remark plugin: a few checks a writer wants to hear about, as VFile
 * messages (warnings, never failures):
 *
 * - `heading-increment`: a heading more than one level deeper than the one before;
 * - `image-alt`: an image without alternative text;
 * - `no-todo`: a `TODO` left in the text (an informational note).
 */
import type { VFile } from "vfile"

interface MdNode {
  type: string
  value?: string
  depth?: number
  alt?: string | null
  children?: MdNode[]
  position?: { start: { line: number; column: number; offset?: number }; end: { line: number; column: number; offset?: number } }
}

function visit(node: MdNode, ancestors: MdNode[], enter: (node: MdNode, ancestors: MdNode[]) => void): void {
  enter(node, ancestors)
  for (const child of node.children ?? []) visit(child, [...ancestors, node], enter)
}

export default function lint() {
  return (tree: MdNode, file: VFile) => {
    let previousDepth = 0
    visit(tree, [], (node) => {
      if (node.type === "heading" && typeof node.depth === "number") {
        if (previousDepth > 0 && node.depth > previousDepth + 1) {
          const message = file.message(
            `Heading levels should increase by one: expected h${previousDepth + 1}, found h${node.depth}`,
            {
              place: node.position,
              ruleId: "heading-increment",
              source: "blog-lint",
            },
          )
          message.url = "https://www.w3.org/WAI/tutorials/page-structure/headings/"
          message.note = "Screen readers use heading levels to navigate; skipping one hides structure."
          message.actual = `h${node.depth}`
          message.expected = [`h${previousDepth + 1}`]
        }
        previousDepth = node.depth
      } else if (node.type === "image" && !node.alt) {
        file.message("Images need alternative text", { place: node.position, ruleId: "image-alt", source: "blog-lint" })
      } else if (node.type === "text" && /\bTODO\b/.test(node.value ?? "")) {
        file.info("Found a `TODO`", { place: node.position, ruleId: "no-todo", source: "blog-lint" })
      }
    })
  }
}
