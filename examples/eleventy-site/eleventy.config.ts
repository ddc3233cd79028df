import { directories, siteConfig } from "./src/site.js"

// `SITECACHE=off` builds without the cache; `SITECACHE_BACKEND=fs` picks another backend.
export default siteConfig()
export const config = directories
