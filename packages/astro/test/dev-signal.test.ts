/**
 * `astro dev` as a user stops it: Ctrl-C (SIGINT). Astro runs no
 * `astro:server:done` then; the integration must still record the session
 * (the summary line, the records `sitecache explain` reads) before the
 * process ends by that signal. (SIGTERM is Vite's: src/signals.ts.)
 */
import { type ChildProcess, spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { createCache, readManifest } from "@sitecache/core"
import { afterAll, describe, expect, it } from "vitest"
import { createSite } from "./site.js"

// The workspace's sources, as every test runs them (vitest.config.ts): the source condition and tsx.
const NODE_ARGS = [
  "--conditions=@sitecache/source",
  "--import",
  pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href,
]
const INTEGRATION = pathToFileURL(join(import.meta.dirname, "..", "src", "index.ts")).href
// A persistent backend core has by module (the package does not depend on one): what the child records, the test reads.
const FS_BACKEND = join(import.meta.dirname, "..", "..", "backend-fs", "src", "index.ts")

function waitFor(child: ChildProcess, output: { text: string }, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = output.text.match(pattern)
      if (match !== null) {
        child.stdout?.off("data", check)
        resolve(match)
      }
    }
    child.stdout?.on("data", check)
    child.once("exit", () => reject(new Error(`astro dev exited before ${pattern}:\n${output.text}`)))
    check()
  })
}

describe("astro dev stopped by a signal", () => {
  const site = createSite()
  afterAll(() => site.remove())

  it("Ctrl-C: the session is recorded, then the process ends by the signal", async () => {
    const signal = "SIGINT"
    const dir = join(site.root, "cache")
    writeFileSync(
      join(site.root, "astro.config.mjs"),
      `import mdx from "@astrojs/mdx"
import { sitecache } from ${JSON.stringify(INTEGRATION)}
export default {
  integrations: [mdx(), sitecache({ backend: ${JSON.stringify(FS_BACKEND)}, dir: ${JSON.stringify(dir)} })],
  image: { service: { entrypoint: "astro/assets/services/noop" } },
}
`,
    )
    const child = spawn(
      process.execPath,
      [...NODE_ARGS, join(site.root, "node_modules", "astro", "astro.js"), "dev", "--host", "127.0.0.1", "--port", "0"],
      { cwd: site.root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", SITECACHE: "" } },
    )
    const output = { text: "" }
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => void (output.text += chunk))
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => void (output.text += chunk))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, exitSignal) => resolve({ code, signal: exitSignal })),
    )
    try {
      const [, url] = await waitFor(child, output, /(http:\/\/127\.0\.0\.1:\d+)\//)
      const response = await fetch(`${url}/alpha/`)
      expect(response.status).toBe(200)
      await response.text()
      child.kill(signal)
      expect(await exited).toEqual({ code: null, signal })
    } finally {
      child.kill("SIGKILL")
    }
    expect(output.text).toMatch(/\[sitecache\] 1 documents, 0 hits, 1 misses/)
    const cache = await createCache({ backend: FS_BACKEND, dir, root: site.root })
    try {
      const manifest = await readManifest(cache, "astro")
      expect(Object.values(manifest?.documents ?? {}).map((record) => record.path)).toContain("src/pages/alpha.md")
    } finally {
      await cache.close()
    }
  })
})
