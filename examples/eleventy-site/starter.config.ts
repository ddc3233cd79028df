import { HTML_TRANSFORMER } from "@sitecache/eleventy"
import { starterConfig, starterDirectories } from "./src/starter.js"

// The starter-like site in starter/: `pnpm build:starter` (`SITECACHE=off` builds without the cache). Markdown and
// Eleventy's HTML transformer are cached.
export default starterConfig({ sitecache: { transforms: [HTML_TRANSFORMER] } })
export const config = starterDirectories
