import { adapterIdentity } from "@sitecache/core"

/** This package, as it appears in every key: a new release of the plugin starts cold. */
export const ADAPTER: string = adapterIdentity(new URL("../package.json", import.meta.url)).id

/** The tool name of this plugin's build records (`sitecache inspect`, `explain`). */
export const TOOL = "eleventy"
