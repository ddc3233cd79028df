/** Opened by the conformance suite's child processes: the jsonfile cache at `location`, found by name. */
import { createCache } from "./open.js"

export default (location: string) => createCache("jsonfile", { location })
