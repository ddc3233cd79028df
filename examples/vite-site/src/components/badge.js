/** A component the pages import (`import { Badge } from "../src/components/badge.js"`). */
import { jsx } from "../html-jsx/jsx-runtime.js"

export function Badge({ tone = "info", children }) {
  return jsx("span", { className: `badge badge-${tone}`, children })
}
