/** For the conformance suite's child processes: open the filesystem cache at a directory. */
import { createFsCache } from "../src/index.js"

export default (location: string) => createFsCache({ dir: location })
