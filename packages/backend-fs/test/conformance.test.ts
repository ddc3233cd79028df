import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runConformance } from "@sitecache/conformance"
import { createFsCache } from "../src/index.js"

runConformance({
  name: "fs",
  location: () => mkdtempSync(join(tmpdir(), "sitecache-fs-")),
  open: ({ location, ...options }) => createFsCache({ dir: location, ...options }),
  dispose: (location) => rmSync(location, { recursive: true, force: true }),
  capabilities: { persistent: true, maxSize: true },
  childModule: new URL("./open-at.ts", import.meta.url).href,
})
