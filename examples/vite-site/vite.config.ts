import { defineConfig } from "vite"
import { siteConfig } from "./src/site.js"

// `SITECACHE=off vite build` builds without the cache; `SITECACHE_BACKEND=fs` picks another backend.
export default defineConfig(siteConfig())
