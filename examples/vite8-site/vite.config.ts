import { resolve } from "node:path"
import { exampleRoot, siteConfig } from "example-vite-site/src/site.js"
import type { UserConfig } from "vite"

// examples/vite-site's sources, built by this package's Vite 8 into ./dist, with its cache under ./node_modules.
const site = siteConfig({ root: exampleRoot, cacheConfig: { dir: resolve("node_modules/.cache/sitecache") } })
// `siteConfig` is typed with Vite 7's types: the same shape at run time.
export default { ...site, build: { ...site.build, outDir: resolve("dist") } } as unknown as UserConfig
