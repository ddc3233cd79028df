/**
 * rehype plugin: links between documents are written to their sources
 * (`./caching.md#keys`) and rewritten to the pages they become
 * (`./caching.html#keys`); links to other sites open as usual but carry
 * `rel="noopener"`.
 */
interface HastNode {
  type: string
  tagName?: string
  properties?: Record<string, unknown>
  children?: HastNode[]
}

function visit(node: HastNode, enter: (node: HastNode) => void): void {
  enter(node)
  for (const child of node.children ?? []) visit(child, enter)
}

export default function links() {
  return (tree: HastNode) => {
    visit(tree, (node) => {
      if (node.type !== "element" || node.tagName !== "a" || !node.properties) return
      const href = node.properties.href
      if (typeof href !== "string") return
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) {
        if (href.startsWith("http")) node.properties.rel = ["noopener"]
        return
      }
      node.properties.href = href.replace(/\.md(#|$)/i, ".html$1")
    })
  }
}
