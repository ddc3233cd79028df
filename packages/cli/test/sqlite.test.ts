/** Every subcommand on a SQLite file, found through the `cache` key of the project's `blog.config.json`. */
import { join } from "node:path"
import { writeFiles } from "./helpers.js"
import { describeCli } from "./scenario.js"

describeCli({
  backend: "sqlite",
  async setup(root) {
    const cache = { backend: "sqlite", dir: ".cache/blog" } as const
    await writeFiles(root, { "blog.config.json": JSON.stringify({ title: "A blog", content: "content", cache }, null, 2) })
    return { config: { ...cache, dir: join(root, ".cache/blog") } }
  },
})
