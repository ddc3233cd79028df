/** Opened by the conformance suite's child processes: the jsonfile cache at `location`, found by module path. */
import { fileURLToPath } from "node:url"
import { createCache } from "./open.js"

export default (location: string) => createCache(fileURLToPath(new URL("../src/index.ts", import.meta.url)), { location })
