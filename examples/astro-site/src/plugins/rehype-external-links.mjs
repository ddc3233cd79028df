import { visit } from "unist-util-visit"

/** Marks links to other sites: `rel`, `target` and an `external` class. */
export default function rehypeExternalLinks(options = {}) {
  const rel = options.rel ?? ["noopener"]
  return (tree) => {
    visit(tree, "element", (node) => {
      const href = node.tagName === "a" ? node.properties?.href : undefined
      if (typeof href !== "string" || !/^https?:\/\//.test(href)) return
      node.properties.rel = rel
      if (options.target) node.properties.target = options.target
      node.properties.className = [...(node.properties.className ?? []), "external"]
    })
  }
}
