/**
 * A backend core has never heard of, opened through `createCache` by name
 * (`"jsonfile"`: the package `sitecache-backend-jsonfile`) and by module
 * specifier (a path to its entry), passes the conformance suite both ways.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { runConformance } from "@sitecache/conformance"
import { createCache, type OpenOptions } from "./open.js"

const byModule = fileURLToPath(new URL("../src/index.ts", import.meta.url))

for (const [name, backend] of [
  ["jsonfile (by name)", "jsonfile"],
  ["jsonfile (by module)", byModule],
] as const) {
  runConformance({
    name,
    location: () => mkdtempSync(join(tmpdir(), "sitecache-jsonfile-")),
    open: (options: OpenOptions) => createCache(backend, options),
    dispose: (location) => rmSync(location, { recursive: true, force: true }),
    capabilities: { persistent: true },
    childModule: new URL(backend === "jsonfile" ? "./child-by-name.ts" : "./child-by-module.ts", import.meta.url).href,
  })
}
