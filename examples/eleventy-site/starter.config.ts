import { starterConfig, starterDirectories } from "./src/starter.js"

// The starter-like site in starter/: `pnpm build:starter` (`SITECACHE=off` builds without the cache).
export default starterConfig()
export const config = starterDirectories
