/**
 * The client: a list of pages and the current one, rendered from the
 * compiled MDX modules (one lazy chunk per page) into `#app`.
 */
import { jsx, renderToString } from "./html-jsx/jsx-runtime.js"
import "./style.css"

const pages = import.meta.glob("../content/*.{md,mdx}")

const slugOf = (path) => path.replace(/^.*\//, "").replace(/\.mdx?$/, "")
const bySlug = new Map(Object.entries(pages).map(([path, load]) => [slugOf(path), load]))
const slugs = [...bySlug.keys()].sort()

/** Components the pages may use without importing them. */
const components = {
  Callout: ({ kind = "note", children }) => jsx("aside", { className: `callout callout-${kind}`, children }),
}

async function show() {
  const slug = decodeURIComponent(location.hash.slice(2)) || (bySlug.has("index") ? "index" : slugs[0])
  const load = bySlug.get(slug)
  const nav = slugs.map((s) => `<li${s === slug ? ' class="current"' : ""}><a href="#/${s}">${s}</a></li>`).join("")
  let body = "<p>Not found.</p>"
  if (load) {
    const page = await load()
    body = renderToString(page.default({ components }))
    document.title = page.frontmatter?.title ?? slug
  }
  document.querySelector("#app").innerHTML = `<nav><ul>${nav}</ul></nav><main>${body}</main>`
}

addEventListener("hashchange", show)
show()
