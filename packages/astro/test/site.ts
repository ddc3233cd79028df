/**
 * Builds of a small Astro site (test/fixtures/site: a markdown page with a
 * code block and an image, an MDX page with a component, an MDX content
 * collection entry) with the real `astro build`, in a temporary copy.
 */
import { createHash } from "node:crypto"
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import mdx from "@astrojs/mdx"
import type { Cache } from "@sitecache/core"
import { build } from "astro"
import { type AstroCacheReport, type SitecacheAstroOptions, sitecache } from "../src/index.js"

export interface Site {
  readonly root: string
  build(options?: BuildOptions): Promise<Built>
  remove(): void
}

export type BuildOptions = Partial<SitecacheAstroOptions> & {
  cache?: Cache
  markdown?: Record<string, unknown>
  /** Vite plugins of the test (run before the integration's). */
  vitePlugins?: object[]
}

export interface Built {
  readonly report: AstroCacheReport
  /** Output file → sha256. */
  readonly files: ReadonlyMap<string, string>
  readonly warnings: readonly string[]
}

function hashes(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name)
      if (entry.isDirectory()) walk(path)
      else out.set(relative(dir, path), createHash("sha256").update(readFileSync(path)).digest("hex"))
    }
  }
  walk(dir)
  return out
}

export function createSite(): Site {
  const root = mkdtempSync(join(tmpdir(), "sitecache-astro-"))
  cpSync(join(import.meta.dirname, "fixtures", "site"), root, { recursive: true })
  // The package's dependencies, but Astro's and Vite's own caches (node_modules/.astro, .vite) in the copy:
  // test files run at once (vitest.config.ts), and each site is a checkout of its own.
  const modules = join(import.meta.dirname, "..", "node_modules")
  mkdirSync(join(root, "node_modules"))
  for (const name of readdirSync(modules))
    if (!name.startsWith(".")) symlinkSync(join(modules, name), join(root, "node_modules", name))
  let builds = 0
  return {
    root,
    async build(options = {}) {
      const { markdown, vitePlugins, ...rest } = options
      let report: AstroCacheReport | undefined
      const outDir = join(root, `dist-${++builds}`)
      // Astro writes its server build under the working directory.
      const cwd = process.cwd()
      process.chdir(root)
      try {
        await build({
          root,
          outDir,
          configFile: false,
          logLevel: "error",
          image: { service: { entrypoint: "astro/assets/services/noop" } },
          ...(markdown === undefined ? {} : { markdown }),
          ...(vitePlugins === undefined ? {} : { vite: { plugins: vitePlugins as never[] } }),
          integrations: [
            mdx(),
            sitecache({
              backend: "memory",
              argv: [],
              env: {},
              log: false,
              ...rest,
              onBuildEnd: (r) => {
                report = r
              },
            }),
          ],
        })
      } finally {
        process.chdir(cwd)
      }
      if (report === undefined) throw new Error("the build ended without a sitecache report")
      return { report, files: hashes(outDir), warnings: report.warnings }
    },
    remove() {
      rmSync(root, { recursive: true, force: true })
    },
  }
}
