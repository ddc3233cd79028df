import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runConformance } from "@sitecache/conformance"
import { createSqliteCache } from "../src/index.js"

runConformance({
  name: "sqlite",
  location: () => mkdtempSync(join(tmpdir(), "sitecache-sqlite-")),
  open: ({ location, ...options }) => createSqliteCache({ dir: location, ...options }),
  dispose: (location) => rmSync(location, { recursive: true, force: true }),
  capabilities: { persistent: true, maxSize: true },
  childModule: new URL("./child.ts", import.meta.url).href,
})
