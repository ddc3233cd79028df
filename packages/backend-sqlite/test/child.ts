/** Opened by the conformance suite's child processes: the cache at `location`. */
import { createSqliteCache } from "../src/index.js"

export default (location: string) => createSqliteCache({ dir: location })
