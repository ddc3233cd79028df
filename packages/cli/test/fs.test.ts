/** Every subcommand on a filesystem cache directory, given by flags. */
import { join } from "node:path"
import { describeCli } from "./scenario.js"

describeCli({
  backend: "fs",
  async setup(root) {
    const dir = join(root, "build-cache")
    // A relative --cache-dir is relative to the current directory (the project root here).
    return { config: { backend: "fs", dir }, args: ["--cache-backend", "fs", "--cache-dir", "build-cache"] }
  },
})
