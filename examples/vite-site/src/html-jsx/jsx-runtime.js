/**
 * A tiny JSX runtime that renders to HTML strings: what the compiled MDX
 * pages call (`jsxImportSource: "html-jsx"`). No virtual DOM, no hydration:
 * the site is static HTML put into the page by `main.js`.
 */

export const Fragment = Symbol.for("html-jsx.fragment")

const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"])
const ATTRIBUTE_NAMES = { className: "class", htmlFor: "for" }

/** Markup that is already escaped. */
export class Html {
  constructor(value) {
    this.value = value
  }
  toString() {
    return this.value
  }
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"]/g, (char) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot" }[char]};`)
}

function renderChildren(children) {
  if (children === null || children === undefined || children === false || children === true) return ""
  if (Array.isArray(children)) return children.map(renderChildren).join("")
  if (children instanceof Html) return children.value
  return escapeHtml(children)
}

function styleText(style) {
  return Object.entries(style)
    .map(([name, value]) => `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}:${value}`)
    .join(";")
}

function renderAttributes(props) {
  let out = ""
  for (const [name, value] of Object.entries(props)) {
    if (name === "children" || value === undefined || value === null || value === false) continue
    const attribute = ATTRIBUTE_NAMES[name] ?? name
    if (value === true) out += ` ${attribute}`
    else out += ` ${attribute}="${escapeHtml(name === "style" && typeof value === "object" ? styleText(value) : value)}"`
  }
  return out
}

export function jsx(type, props) {
  if (type === Fragment) return new Html(renderChildren(props.children))
  if (typeof type === "function") return type(props)
  const open = `<${type}${renderAttributes(props)}>`
  if (VOID.has(type)) return new Html(open)
  return new Html(`${open}${renderChildren(props.children)}</${type}>`)
}

export const jsxs = jsx

/** The HTML of whatever a page component returned. */
export function renderToString(node) {
  return renderChildren(node)
}
