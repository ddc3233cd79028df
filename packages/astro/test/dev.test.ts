/**
 * The integration in `astro dev` (in this process): a server started again
 * serves every page from the cache, and an edit renders only that page.
 */
import { appendFileSync } from "node:fs"
import { join } from "node:path"
import mdx from "@astrojs/mdx"
import { createMemoryCache } from "@sitecache/core"
import { dev } from "astro"
import { afterAll, describe, expect, it } from "vitest"
import { type AstroCacheReport, sitecache } from "../src/index.js"
import { createSite } from "./site.js"

const PAGES = ["/alpha/", "/beta/", "/guides/gamma/"]

describe("sitecache() in astro dev", () => {
  const site = createSite()
  afterAll(() => site.remove())
  const cache = createMemoryCache()

  async function serve(visit: (get: (path: string) => Promise<string>) => Promise<void>): Promise<AstroCacheReport> {
    let report: AstroCacheReport | undefined
    const cwd = process.cwd()
    process.chdir(site.root)
    try {
      const server = await dev({
        root: site.root,
        configFile: false,
        logLevel: "error",
        server: { host: "127.0.0.1", port: 0 },
        image: { service: { entrypoint: "astro/assets/services/noop" } },
        integrations: [mdx(), sitecache({ cache, argv: [], env: {}, log: false, onBuildEnd: (r) => void (report = r) })],
      })
      try {
        const base = `http://127.0.0.1:${server.address.port}`
        await visit(async (path) => {
          const response = await fetch(base + path)
          expect(response.status).toBe(200)
          return response.text()
        })
      } finally {
        await server.stop()
      }
    } finally {
      process.chdir(cwd)
    }
    if (report === undefined) throw new Error("the dev server stopped without a sitecache report")
    return report
  }

  it("renders on the first server, restores on the next, and renders only the page an edit changed", async () => {
    const first = await serve(async (get) => {
      for (const page of PAGES) await get(page)
    })
    expect(first).toMatchObject({ enabled: true, hits: 0, misses: 3 })
    const second = await serve(async (get) => {
      for (const page of PAGES) await get(page)
      appendFileSync(join(site.root, "src/pages/alpha.md"), "\nEdited while the server runs.\n")
      let html = ""
      for (let attempt = 0; attempt < 50 && !html.includes("Edited while the server runs."); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        html = await get("/alpha/")
      }
      expect(html).toContain("Edited while the server runs.")
      for (const page of PAGES.slice(1)) await get(page)
    })
    expect(second).toMatchObject({ enabled: true, hits: 3, misses: 1 })
    expect(second.stats!.documentRecords.get("src/pages/alpha.md")?.hit).toBe(false)
  })
})
